//===- CompileModel.cpp - GGUF model -> compiled prefill/decode plans -----===//
//
// The plans are built before the kernels are compiled, so that a model the
// plan cannot express (e.g. delta mode 0) fails in milliseconds, not after
// the JIT; the kernel addresses are filled in afterwards by name.
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"
#include "codegen/CodegenPasses.h"
#include "codegen/CpuJit.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "codegen/PlanBuilder.h"

#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <chrono>

using namespace mlir;

namespace qn::codegen {

CompiledModel::~CompiledModel() = default;

std::string defaultKernelCacheDir() {
  llvm::SmallString<256> path;
  if (auto xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
      xdg && !xdg->empty()) {
    path = *xdg;
  } else if (auto home = llvm::sys::Process::GetEnv("HOME");
             home && !home->empty()) {
    path = *home;
    llvm::sys::path::append(path, ".cache");
  } else {
    return "";
  }
  llvm::sys::path::append(path, "qn", "kernels");
  return path.str().str();
}

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

llvm::Error failure(const llvm::Twine &step, llvm::Error cause) {
  return llvm::createStringError("compiling the model: " + step + ": " +
                                 llvm::toString(std::move(cause)));
}

llvm::Expected<runtime::plan::Program> buildEntry(ModuleOp module,
                                                  llvm::StringRef name) {
  auto entry = module.lookupSymbol<func::FuncOp>(name);
  if (!entry)
    return llvm::createStringError("the module has no @" + name);
  return buildProgram(entry);
}

} // namespace

namespace {

/// Runs `pm` on `module`; a failure carries the error diagnostics (remarks,
/// such as qn-assign-backends' split count, are not failures) after `what`.
llvm::Error runPasses(PassManager &pm, ModuleOp module,
                      const llvm::Twine &what) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      diagnostics +=
          llvm::formatv("\n{0}: {1}", diag.getLocation(), diag.str());
    return success();
  });
  if (failed(pm.run(module)))
    return llvm::createStringError(what + " failed:" + diagnostics);
  return llvm::Error::success();
}

} // namespace

llvm::Error runDispatchPasses(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createFormDispatchesPass());
  pm.addPass(createSelectActivationsPass());
  pm.addPass(createAssignBuffersPass());
  return runPasses(pm, module,
                   "qn-form-dispatches, qn-select-activations, "
                   "qn-assign-buffers");
}

llvm::Error runCodegenPipeline(ModuleOp module,
                               const CpuPipelineOptions &options) {
  if (std::string why = checkPipelineOptions(options); !why.empty())
    return llvm::createStringError("qn-cpu-codegen-pipeline: " + why);
  PassManager pm(module.getContext());
  buildCodegenPipeline(pm, options);
  return runPasses(
      pm, module,
      "qn-cpu-codegen-pipeline{delta-mode=" + options.deltaMode.getValue() +
          " activations=" + options.activations.getValue() + "}");
}

llvm::Expected<std::unique_ptr<CompiledModel>>
compileModel(const gguf::Qwen3NextModel &model, const CompileOptions &opts) {
  const Clock::time_point start = Clock::now();
  const std::string &mode = opts.deltaMode;
  if (mode != "0" && mode != "1" && mode != "2" && mode != "auto")
    return llvm::createStringError("compiling the model: delta mode must be "
                                   "0, 1, 2 or auto, got '" +
                                   mode + "'");

  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  frontend::IRBuildOptions irOptions;
  irOptions.kvType = opts.kvType;
  auto module = frontend::buildQwen3NextModule(ctx, model, irOptions);
  if (!module)
    return failure("building the qn IR", module.takeError());
  CpuPipelineOptions pipeline;
  pipeline.deltaMode = mode;
  pipeline.fuseRepeatBroadcast = opts.fuseRepeatBroadcast;
  pipeline.fuseEpilogues = opts.fuseEpilogues;
  pipeline.activations = opts.activations;
  if (llvm::Error err = runCodegenPipeline(**module, pipeline))
    return failure("the pipeline", std::move(err));

  loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(&ctx)));
  // The plans first: a model they cannot express fails in milliseconds.
  std::unique_ptr<CompiledModel> result(new CompiledModel());
  auto prefill = buildEntry(**module, "prefill");
  if (!prefill)
    return failure("building the plan", prefill.takeError());
  auto decode = buildEntry(**module, "decode");
  if (!decode)
    return failure("building the plan", decode.takeError());
  result->prefillProgram = std::move(*prefill);
  result->decodeProgram = std::move(*decode);
  auto names = emitDispatchKernels(**module, *kernels);
  if (!names)
    return failure("generating the elementwise kernels", names.takeError());

  const Clock::time_point jitStart = Clock::now();
  CpuJitOptions jitOptions;
  jitOptions.cacheDir = opts.jitCacheDir;
  auto jit = CpuJit::compile(*kernels, jitOptions);
  if (!jit)
    return failure("JIT-compiling the kernels", jit.takeError());
  result->jit = std::move(*jit);
  llvm::StringMap<void *> addresses;
  for (runtime::plan::Program *p :
       {&result->prefillProgram, &result->decodeProgram})
    for (runtime::plan::Dispatch &d : p->dispatches) {
      if (d.kind != runtime::plan::DispatchKind::Elementwise &&
          d.kind != runtime::plan::DispatchKind::Loop)
        continue;
      auto &k = d.get<runtime::plan::KernelParams>();
      auto [it, inserted] = addresses.try_emplace(k.kernelName, nullptr);
      if (inserted) {
        auto addr = result->jit->lookupKernel(k.kernelName);
        if (!addr)
          return failure("looking up kernel '" + k.kernelName + "'",
                         addr.takeError());
        it->second = *addr;
      }
      k.kernel = it->second;
    }

  CompileStats &s = result->compileStats;
  s.jitSeconds = secondsSince(jitStart);
  s.kernelsFromCache = result->jit->loadedFromCache();
  s.cacheFile = result->jit->cacheFile().str();
  s.cacheWarning = result->jit->cacheWarning().str();
  s.chains = names->size();
  for (const ChainKernel &ck : *names)
    s.kernels += ck.chain == ck.kernel;
  s.prefillDispatches = result->prefillProgram.dispatches.size();
  s.decodeDispatches = result->decodeProgram.dispatches.size();
  s.prefillSlots = result->prefillProgram.numSlots;
  s.decodeSlots = result->decodeProgram.numSlots;
  s.seconds = secondsSince(start);
  return std::move(result);
}

} // namespace qn::codegen

//===- IrCommand.cpp - `qn-run ir`: print the model's qn IR ---------------===//
//
//   qn-run ir -m MODEL.gguf [--entry prefill|decode|all] [--kv f16|f32]
//             [--emit qn|dispatch|kernels|cuda|plan] [--nvrtc ARCH]
//             [--jit [--jit-cache DIR]]
//             [--delta-mode 0|1|2|auto] [-o FILE] [--time]
//
// Builds the qn IR module of the whole model (frontend/Qwen3NextIR.h): a
// @prefill entry over a dynamic number of tokens and a @decode entry over
// one, with every weight and state as an argument. The output parses and
// verifies with qn-opt. `--emit kernels` prints instead the loop kernels
// generated for the model's elementwise chains (codegen/), `--jit` lowers and
// JIT-compiles them and reports how many and how long on stderr. `--emit
// cuda` prints the CUDA C++ the elementwise dispatches lower to
// (codegen/cuda/); `--nvrtc compute_90` also compiles it with NVRTC (no GPU
// needed) and reports on stderr. `--emit plan` runs the whole compile path
// (codegen/CompileModel.h: pipeline with
// --delta-mode, kernels, JIT) and prints the runtime plans of the entries.
//
//===----------------------------------------------------------------------===//
#include "Command.h"

#include "codegen/CompileModel.h"
#include "codegen/CpuJit.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "codegen/ProgramPrinter.h"
#include "codegen/cuda/CudaCheckBundle.h"
#include "codegen/cuda/CudaElementwise.h"
#include "frontend/Qwen3NextIR.h"
#include "gguf/GGUFFile.h"
#include "gguf/Qwen3Next.h"
#include "runtime/cuda/Nvrtc.h"
#include "support/OutputFile.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;

namespace {
cl::SubCommand irCmd("ir", "print the model's qn IR (prefill and decode "
                           "entries); the output parses with qn-opt");
cl::OptionCategory irCat("ir options");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(irCmd),
                               cl::cat(irCat));
cl::opt<std::string> entryName("entry",
                               cl::desc("entries to emit: prefill, decode or "
                                        "all (default)"),
                               cl::init("all"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string> kvName("kv",
                            cl::desc("KV cache element type: f16 (default) or "
                                     "f32"),
                            cl::init("f16"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string> outputPath("o",
                                cl::desc("write the IR here (default: "
                                         "stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string> emitWhat("emit",
                              cl::desc("what to print: qn (the model's qn "
                                       "IR, default), dispatch (the "
                                       "dispatch-level IR after "
                                       "qn-cpu-codegen-pipeline), kernels "
                                       "(the generated elementwise "
                                       "kernels), cuda (the CUDA C++ of the "
                                       "elementwise dispatches) or plan "
                                       "(the compiled runtime plans)"),
                              cl::init("qn"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string>
    nvrtcArch("nvrtc",
              cl::desc("with --emit cuda: compile the source with NVRTC for "
                       "this virtual architecture (e.g. compute_90; no GPU "
                       "needed) and report on stderr"),
              cl::value_desc("arch"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string> checkBundle(
    "check-bundle",
    cl::desc("with --emit cuda: also write into this directory the source, "
             "random inputs for every kernel and the CPU kernels' outputs, "
             "for `qn-exec cuda-check` on a GPU machine"),
    cl::value_desc("dir"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<bool> jitKernels("jit",
                         cl::desc("JIT-compile the generated kernels for this "
                                  "CPU and report count and time on stderr"),
                         cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string>
    jitCache("jit-cache",
             cl::desc("with --jit: keep the compiled object code in this "
                      "directory, keyed by a hash of the IR and the CPU"),
             cl::value_desc("dir"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string>
    deltaMode("delta-mode",
              cl::desc("with --emit dispatch|kernels|plan: "
                       "qn-select-delta-path mode 0, 1, 2 or auto (default)"),
              cl::init("auto"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<std::string> activations(
    "activations",
    cl::desc("with --emit dispatch|kernels|plan: qn-select-activations mode "
             "q8 (default), q8prefill or f32"),
    cl::init("q8"), cl::sub(irCmd), cl::cat(irCat));
cl::opt<bool> printTime("time",
                        cl::desc("report the time to build the IR on stderr"),
                        cl::sub(irCmd), cl::cat(irCat));

int fail(const Twine &message) {
  errs() << "qn-run ir: " << message << "\n";
  return 1;
}

/// `--emit plan`: compile the model (both entries) and print the plans of
/// the entries --entry names; the compile summary goes to stderr.
int printPlans(const qn::gguf::Qwen3NextModel &model,
               const qn::frontend::IRBuildOptions &options,
               ArrayRef<std::string> inputs) {
  qn::codegen::CompileOptions compile;
  compile.kvType = options.kvType;
  compile.deltaMode = deltaMode;
  compile.activations = activations;
  compile.jitCacheDir = jitCache; // no cache unless --jit-cache DIR
  auto compiled = qn::codegen::compileModel(model, compile);
  if (!compiled)
    return fail(modelPath + ": " + toString(compiled.takeError()));
  const qn::codegen::CompileStats &s = (*compiled)->stats();
  errs() << formatv("qn-run ir: compiled in {0:f3} s: {1} elementwise "
                    "chains, {2} distinct kernels {3} in {4:f3} s; prefill "
                    "{5} dispatches, {6} slots; decode {7} dispatches, {8} "
                    "slots\n",
                    s.seconds, s.chains, s.kernels,
                    s.kernelsFromCache ? "loaded from the JIT cache"
                                       : "JIT-compiled",
                    s.jitSeconds, s.prefillDispatches, s.prefillSlots,
                    s.decodeDispatches, s.decodeSlots);
  auto out = qn::support::OutputFile::create(outputPath, inputs);
  if (!out)
    return fail(toString(out.takeError()));
  if (options.entries != qn::frontend::EntrySet::Decode)
    qn::codegen::printProgram(out->os(), (*compiled)->prefill());
  if (options.entries != qn::frontend::EntrySet::Prefill)
    qn::codegen::printProgram(out->os(), (*compiled)->decode());
  if (Error err = out->commit())
    return fail(toString(std::move(err)));
  return 0;
}

int runIr() {
  if (modelPath.empty())
    return fail("no model: give -m MODEL.gguf");
  qn::frontend::IRBuildOptions options;
  if (entryName == "prefill")
    options.entries = qn::frontend::EntrySet::Prefill;
  else if (entryName == "decode")
    options.entries = qn::frontend::EntrySet::Decode;
  else if (entryName != "all")
    return fail("--entry must be prefill, decode or all, got '" + entryName +
                "'");
  if (kvName == "f32")
    options.kvType = qn::frontend::KVCacheType::F32;
  else if (kvName != "f16")
    return fail("--kv must be f16 or f32, got '" + kvName + "'");

  if (emitWhat != "qn" && emitWhat != "dispatch" && emitWhat != "kernels" &&
      emitWhat != "cuda" && emitWhat != "plan")
    return fail("--emit must be qn, dispatch, kernels, cuda or plan, got '" +
                emitWhat + "'");
  if (!nvrtcArch.empty() && emitWhat != "cuda")
    return fail("--nvrtc needs --emit cuda");
  if (!checkBundle.empty() && emitWhat != "cuda")
    return fail("--check-bundle needs --emit cuda");

  auto file = qn::gguf::GGUFFile::open(modelPath);
  if (!file)
    return fail(toString(file.takeError()));
  const std::vector<std::string> inputs = (*file)->filePaths();
  if (Error err = qn::support::checkNotAnInput(outputPath, inputs))
    return fail(toString(std::move(err)));
  auto model = qn::gguf::describeQwen3Next(**file);
  if (!model)
    return fail(modelPath + ": " + toString(model.takeError()));

  if (emitWhat == "plan")
    return printPlans(*model, options, inputs);

  // The module is built in one thread; the context's pool is not needed.
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  auto start = std::chrono::steady_clock::now();
  auto module = qn::frontend::buildQwen3NextModule(ctx, *model, options);
  if (!module)
    return fail(modelPath + ": " + toString(module.takeError()));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (printTime)
    errs() << formatv("qn-run ir: built and verified the IR of {0} layers in "
                      "{1:f3} s\n",
                      model->hp.nLayer, seconds);

  // The dispatch level: what the kernels and plans are made from.
  if (emitWhat == "dispatch" || emitWhat == "kernels" || emitWhat == "cuda" ||
      jitKernels) {
    qn::CpuPipelineOptions pipeline;
    pipeline.deltaMode = deltaMode;
    pipeline.activations = activations;
    if (llvm::Error err = qn::codegen::runCodegenPipeline(**module, pipeline))
      return fail(modelPath + ": " + toString(std::move(err)));
  }

  std::string cudaSource;
  if (emitWhat == "cuda") {
    auto source = qn::codegen::cuda::emitCudaKernels(**module);
    if (!source)
      return fail(modelPath + ": " + toString(source.takeError()));
    cudaSource = std::move(*source);
    if (!nvrtcArch.empty()) {
      auto nvrtc = qn::runtime::cuda::Nvrtc::load();
      if (!nvrtc)
        return fail(toString(nvrtc.takeError()));
      auto nvrtcStart = std::chrono::steady_clock::now();
      auto ptx = (*nvrtc)->compileToPtx(cudaSource, "qn-elementwise.cu",
                                        nvrtcArch, {"--fmad=false"});
      if (!ptx)
        return fail(toString(ptx.takeError()));
      size_t entries = 0;
      for (size_t at = ptx->find(".entry"); at != std::string::npos;
           at = ptx->find(".entry", at + 1))
        ++entries;
      errs() << formatv("qn-run ir: NVRTC {0}.{1} compiled {2} kernels for "
                        "{3} in {4:f3} s ({5} bytes of PTX)\n",
                        (*nvrtc)->major, (*nvrtc)->minor, entries,
                        nvrtcArch.getValue(),
                        std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - nvrtcStart)
                            .count(),
                        ptx->size());
    }
  }

  if (!checkBundle.empty()) {
    if (llvm::Error err =
            qn::codegen::cuda::writeCudaCheckBundle(**module, checkBundle))
      return fail(checkBundle + ": " + toString(std::move(err)));
    errs() << "qn-run ir: wrote the CUDA check bundle " << checkBundle << "\n";
  }
  auto out = qn::support::OutputFile::create(outputPath, inputs);
  if (!out)
    return fail(toString(out.takeError()));
  if (emitWhat == "cuda") {
    out->os() << cudaSource;
    if (Error err = out->commit())
      return fail(toString(std::move(err)));
    return 0;
  }

  if (emitWhat == "kernels" || jitKernels) {
    qn::codegen::loadKernelDialects(ctx);
    mlir::OwningOpRef<mlir::ModuleOp> kernels(
        mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx)));
    auto names = qn::codegen::emitDispatchKernels(**module, *kernels);
    if (!names)
      return fail(modelPath + ": " + toString(names.takeError()));
    if (emitWhat == "kernels") {
      (*kernels)->print(out->os());
      out->os() << "\n";
    }
    if (jitKernels) {
      auto jitStart = std::chrono::steady_clock::now();
      qn::codegen::CpuJitOptions jitOptions;
      jitOptions.cacheDir = jitCache;
      auto jit = qn::codegen::CpuJit::compile(*kernels, jitOptions);
      if (!jit)
        return fail("JIT compilation failed: " + toString(jit.takeError()));
      size_t distinct = 0;
      for (const qn::codegen::ChainKernel &ck : *names) {
        distinct += ck.chain == ck.kernel;
        if (auto addr = (*jit)->lookupKernel(ck.kernel); !addr)
          return fail("kernel '" + ck.kernel +
                      "' missing after JIT: " + toString(addr.takeError()));
      }
      errs() << formatv("qn-run ir: {0} elementwise chains, {1} distinct "
                        "kernels {2} in {3:f3} s\n",
                        names->size(), distinct,
                        (*jit)->loadedFromCache() ? "loaded from the JIT cache"
                                                  : "JIT-compiled",
                        std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - jitStart)
                            .count());
    }
    if (emitWhat == "kernels") {
      if (Error err = out->commit())
        return fail(toString(std::move(err)));
      return 0;
    }
  }
  // Values print under their peer names (%attn_norm-3), as the NameLocs
  // the frontend gives them say; the IR parses the same either way.
  (*module)->print(out->os(), mlir::OpPrintingFlags().printNameLocAsPrefix());
  out->os() << "\n";
  if (Error err = out->commit())
    return fail(toString(std::move(err)));
  return 0;
}

qn::run::CommandRegistration reg(&irCmd, runIr);
} // namespace

//===- CpuJit.cpp - lower generated kernels to LLVM and JIT them ----------===//
//
// MLIR (LLVM dialect) -> LLVM IR -> O3 -> object code -> LLJIT. The object
// step is explicit (instead of mlir::ExecutionEngine) so that the object can
// be cached on disk and loaded on the next start without recompiling.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuJit.h"

#include "mlir/Pass/Pass.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

namespace qn::codegen {

CpuJit::~CpuJit() = default;

namespace {

llvm::Error lowerToLLVMDialect(ModuleOp module) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &diag) {
    diagnostics += diag.str() + "\n";
    return success();
  });
  PassManager pm(module.getContext());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (failed(pm.run(module)))
    return llvm::createStringError("lowering to the LLVM dialect failed: " +
                                   diagnostics);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
emitObject(llvm::Module &module, llvm::TargetMachine &tm, unsigned optLevel) {
  // The code generator's level is the TargetMachine's (build-notes.md).
  if (llvm::Error err = makeOptimizingTransformer(optLevel, 0, &tm)(&module))
    return std::move(err);
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr,
                             llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  pm.run(module);
  return llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(object.data(), object.size()), "qn-kernels.o");
}

/// Writes `data` to `path` through a temporary file and a rename, so that a
/// concurrent reader never sees a partial object.
llvm::Error writeAtomically(llvm::StringRef path, llvm::StringRef data) {
  std::string tmp =
      (path + ".tmp" + llvm::Twine(llvm::sys::Process::getProcessId())).str();
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError("cannot write the JIT cache file '" + tmp +
                                     "': " + ec.message());
    os << data;
  }
  if ((ec = llvm::sys::fs::rename(tmp, path)))
    return llvm::createStringError("cannot write the JIT cache file '" + path +
                                   "': " + ec.message());
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::unique_ptr<CpuJit>>
CpuJit::compile(ModuleOp module, const CpuJitOptions &options) {
  if (llvm::Error err = lowerToLLVMDialect(module))
    return std::move(err);

  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return jtmb.takeError();
  if (options.optLevel > 3)
    return llvm::createStringError(
        "optimization level " + llvm::Twine(options.optLevel) + " is not 0..3");
  jtmb->setCodeGenOptLevel(
      *llvm::CodeGenOpt::getLevel(static_cast<int>(options.optLevel)));
  auto tm = jtmb->createTargetMachine();
  if (!tm)
    return tm.takeError();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return llvm::createStringError("translation to LLVM IR failed");
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());

  std::unique_ptr<CpuJit> result(new CpuJit());
  std::unique_ptr<llvm::MemoryBuffer> object;
  if (!options.cacheDir.empty()) {
    // Key: the unoptimized IR and everything about the target that changes
    // the code.
    std::string key;
    llvm::raw_string_ostream os(key);
    llvmModule->print(os, nullptr);
    os << "\n"
       << (*tm)->getTargetTriple().str() << "\n"
       << (*tm)->getTargetCPU() << "\n"
       << (*tm)->getTargetFeatureString() << "\nO" << options.optLevel << "\n";
    llvm::SmallString<256> path(options.cacheDir);
    llvm::sys::path::append(
        path, llvm::formatv("qn-{0:x-16}.o", llvm::xxh3_64bits(key)).str());
    result->cachePath = path.str().str();
    // A cached object that does not parse (a damaged or foreign file) is
    // ignored and rebuilt, never loaded.
    if (auto cached = llvm::MemoryBuffer::getFile(path)) {
      if (auto parsed = llvm::object::ObjectFile::createObjectFile(
              (*cached)->getMemBufferRef())) {
        object = std::move(*cached);
        result->fromCache = true;
      } else {
        llvm::consumeError(parsed.takeError());
        result->warning =
            "ignored the damaged JIT cache file '" + result->cachePath + "'";
      }
    }
  }
  if (!object) {
    auto emitted = emitObject(*llvmModule, **tm, options.optLevel);
    if (!emitted)
      return emitted.takeError();
    object = std::move(*emitted);
    // The cache only saves time: where it cannot be written (read-only
    // home, full disk) the kernels still run, and the caller is told why
    // the next start will compile again.
    if (!result->cachePath.empty()) {
      llvm::Error err = llvm::Error::success();
      if (std::error_code ec =
              llvm::sys::fs::create_directories(options.cacheDir))
        err = llvm::createStringError("cannot create the JIT cache "
                                      "directory '" +
                                      options.cacheDir + "': " + ec.message());
      else
        err = writeAtomically(result->cachePath, object->getBuffer());
      if (err) {
        result->warning = llvm::toString(std::move(err)) + " (not cached)";
        result->cachePath.clear();
      }
    }
  }

  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .create();
  if (!jit)
    return jit.takeError();
  // libm (expf, logf) and the rest of the process for the kernels' calls.
  auto generator =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
          (*jit)->getDataLayout().getGlobalPrefix());
  if (!generator)
    return generator.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*generator));
  if (llvm::Error err = (*jit)->addObjectFile(std::move(object)))
    return std::move(err);
  result->jit = std::move(*jit);
  return std::move(result);
}

llvm::Expected<void *> CpuJit::lookupKernel(llvm::StringRef name) const {
  auto addr = jit->lookup(("_mlir_ciface_" + name).str());
  if (!addr)
    return addr.takeError();
  return addr->toPtr<void *>();
}

} // namespace qn::codegen

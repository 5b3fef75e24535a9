//===- CpuJit.cpp - lower generated kernels to LLVM and JIT them ----------===//
//
// MLIR (LLVM dialect) -> LLVM IR -> O3 -> object code -> LLJIT. The object
// step is explicit (instead of mlir::ExecutionEngine) so that the object can
// be cached on disk and loaded on the next start without recompiling.
//
//===----------------------------------------------------------------------===//

#include "codegen/CpuJit.h"

#include "support/OutputFile.h"

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
#include "llvm/ADT/ScopeExit.h"
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
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Target/TargetMachine.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/// A cache entry is a header, then the object file. The header holds a hash
/// of the whole key (the IR and the target), so an entry copied or renamed
/// from other kernels is not loaded (its symbols would not match, or worse,
/// match with other code), and a checksum of the object, so bit rot in the
/// code bytes is caught before anything runs.
struct CacheHeader {
  char magic[8];
  uint64_t keyLow, keyHigh; // xxh3_128 of the key
  uint64_t objectBytes;
  uint64_t objectHash; // xxh3_64 of the object
};
constexpr char kCacheMagic[8] = {'Q', 'N', 'J', 'I', 'T', 'C', '0', '1'};
/// Kernel objects are a few MB; anything far larger is not ours.
constexpr uint64_t kMaxCacheEntryBytes = uint64_t(1) << 30;

llvm::ArrayRef<uint8_t> bytesOf(llvm::StringRef s) {
  return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

CacheHeader makeHeader(llvm::XXH128_hash_t key, llvm::StringRef object) {
  CacheHeader h;
  std::memcpy(h.magic, kCacheMagic, sizeof(h.magic));
  h.keyLow = key.low64;
  h.keyHigh = key.high64;
  h.objectBytes = object.size();
  h.objectHash = llvm::xxh3_64bits(bytesOf(object));
  return h;
}

/// The object cached at `path` for `key`, or null: missing (`why` empty) or
/// unusable (`why` says how). Never blocks (a FIFO), never maps (a file
/// rewritten under us), never reads more than kMaxCacheEntryBytes.
std::unique_ptr<llvm::MemoryBuffer> loadCacheEntry(llvm::StringRef path,
                                                   llvm::XXH128_hash_t key,
                                                   std::string &why) {
  const std::string p = path.str();
  int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      why = std::error_code(errno, std::generic_category()).message();
    return nullptr;
  }
  llvm::scope_exit closeFd([fd] { ::close(fd); });
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return nullptr;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < sizeof(CacheHeader) || size > kMaxCacheEntryBytes) {
    why = "size " + std::to_string(size) + " is not that of a cache entry";
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      fd, path, size, /*RequiresNullTerminator=*/false, /*IsVolatile=*/true);
  if (!buffer) {
    why = buffer.getError().message();
    return nullptr;
  }
  llvm::StringRef bytes = (*buffer)->getBuffer();
  CacheHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  llvm::StringRef object = bytes.drop_front(sizeof(h));
  if (std::memcmp(h.magic, kCacheMagic, sizeof(h.magic)) != 0) {
    why = "no qn kernel cache header";
    return nullptr;
  }
  if (h.keyLow != key.low64 || h.keyHigh != key.high64) {
    why = "made for other kernels or another CPU";
    return nullptr;
  }
  if (h.objectBytes != object.size() ||
      h.objectHash != llvm::xxh3_64bits(bytesOf(object))) {
    why = "checksum mismatch";
    return nullptr;
  }
  auto copy = llvm::MemoryBuffer::getMemBufferCopy(object, "qn-kernels.o");
  if (auto parsed =
          llvm::object::ObjectFile::createObjectFile(copy->getMemBufferRef());
      !parsed) {
    why = llvm::toString(parsed.takeError());
    return nullptr;
  }
  return copy;
}

/// Best effort: the object goes through a temporary and a rename (a reader
/// never sees half an entry), replacing whatever was there, even a link or
/// a FIFO.
llvm::Error storeCacheEntry(llvm::StringRef path, llvm::XXH128_hash_t key,
                            llvm::StringRef object) {
  const CacheHeader h = makeHeader(key, object);
  llvm::Error err = support::writeFileAtomically(
      path, {},
      [&](llvm::raw_ostream &os) {
        os.write(reinterpret_cast<const char *>(&h), sizeof(h));
        os << object;
        return llvm::Error::success();
      },
      support::OutputFile::Links::Replace);
  if (err)
    return llvm::createStringError("JIT cache: " +
                                   llvm::toString(std::move(err)));
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
  llvm::XXH128_hash_t cacheKey{};
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
    cacheKey = llvm::xxh3_128bits(bytesOf(key));
    llvm::SmallString<256> path(options.cacheDir);
    llvm::sys::path::append(
        path, llvm::formatv("qn-{0:x-16}.o", cacheKey.low64).str());
    result->cachePath = path.str().str();
    // A damaged, foreign or special cache file is ignored and rebuilt,
    // never loaded.
    std::string why;
    object = loadCacheEntry(path, cacheKey, why);
    if (object)
      result->fromCache = true;
    else if (!why.empty())
      result->warning = "ignored the damaged JIT cache file '" +
                        result->cachePath + "' (" + why + "); rebuilt it";
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
        err = storeCacheEntry(result->cachePath, cacheKey, object->getBuffer());
      if (err) {
        // One warning: a write failure says more than the damaged entry.
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

//===- CpuJit.h - lower generated kernels to LLVM and JIT them ---*- C++
//-*-===//
//
// Lowers a module of func/scf/memref/arith/math kernels to the LLVM dialect
// (build-notes.md's verified pipeline), optimizes it at O3 for the host CPU
// (its features) and links the object code into an ORC LLJIT. Functions
// marked llvm.emit_c_interface are found as `_mlir_ciface_<name>` and take
// pointers to memref descriptors (StridedMemRefType in
// mlir/ExecutionEngine/CRunnerUtils.h).
//
// With a cache directory, the object code is stored there under a hash of
// the LLVM IR and the target (triple, CPU, features), so compiling the same
// kernels for the same machine again only loads the object file.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_CPUJIT_H
#define QN_CODEGEN_CPUJIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm::orc {
class LLJIT;
} // namespace llvm::orc

namespace qn::codegen {

struct CpuJitOptions {
  /// Where compiled objects are kept; empty: no cache.
  std::string cacheDir;
  /// LLVM optimization level, 0..3. Tests lower it: O3 on the chunked
  /// delta kernel takes seconds (AVX-512 vectorization of every loop nest).
  unsigned optLevel = 3;
};

class CpuJit {
public:
  /// Lowers `module` in place and compiles it (or loads it from the cache).
  static llvm::Expected<std::unique_ptr<CpuJit>>
  compile(mlir::ModuleOp module, const CpuJitOptions &options = {});
  ~CpuJit();

  /// The address of the C interface of the kernel `name`
  /// (`_mlir_ciface_<name>`).
  llvm::Expected<void *> lookupKernel(llvm::StringRef name) const;

  /// True when the object code came from the cache (nothing was compiled).
  bool loadedFromCache() const { return fromCache; }
  /// The cache file used (empty without a cache or when it could not be
  /// written).
  llvm::StringRef cacheFile() const { return cachePath; }
  /// Why the cache was not used (a damaged file, a directory that cannot be
  /// written); empty when it was or when there is none.
  llvm::StringRef cacheWarning() const { return warning; }

private:
  CpuJit() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  bool fromCache = false;
  std::string cachePath;
  std::string warning;
};

} // namespace qn::codegen

#endif // QN_CODEGEN_CPUJIT_H

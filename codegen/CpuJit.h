//===- CpuJit.h - lower generated kernels to LLVM and JIT them ---*- C++
//-*-===//
//
// Lowers a module of func/scf/memref/arith/math kernels to the LLVM dialect
// (build-notes.md's verified pipeline) and compiles it with an ORC JIT for
// the host CPU (its features, O3). Functions marked llvm.emit_c_interface
// are found as `_mlir_ciface_<name>` and take pointers to memref descriptors
// (StridedMemRefType in mlir/ExecutionEngine/CRunnerUtils.h).
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_CPUJIT_H
#define QN_CODEGEN_CPUJIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace qn::codegen {

class CpuJit {
public:
  /// Lowers `module` in place and JIT-compiles it.
  static llvm::Expected<std::unique_ptr<CpuJit>> compile(mlir::ModuleOp module);
  ~CpuJit();

  /// The address of the C interface of the kernel `name`
  /// (`_mlir_ciface_<name>`).
  llvm::Expected<void *> lookupKernel(llvm::StringRef name) const;

private:
  CpuJit() = default;
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

} // namespace qn::codegen

#endif // QN_CODEGEN_CPUJIT_H

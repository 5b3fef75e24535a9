//===- ElementwiseChains.h - find and outline fusible chains -----*- C++
//-*-===//
//
// The elementwise part of the model: in every function, maximal trees of
// elementwise qn ops (ScalarElementwiseOpInterface; each inner value used
// once, by the next op of the tree), which qn-form-dispatches turns into
// qn.dispatch.elementwise ops, and the kernels of those dispatches, via
// emitElementwiseKernel.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_ELEMENTWISECHAINS_H
#define QN_CODEGEN_ELEMENTWISECHAINS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace qn::codegen {

/// True for the ops that may join a tree (ScalarElementwiseOpInterface).
bool isFusibleElementwise(mlir::Operation *op);

/// One tree: `ops` in program order, the last is the root whose result the
/// kernel writes; `inputs` are the values read from outside the tree.
struct ElementwiseChain {
  std::vector<mlir::Operation *> ops;
  std::vector<mlir::Value> inputs;
  mlir::Operation *root() const { return ops.back(); }
};

/// The chains of `func`, in program order of their roots.
std::vector<ElementwiseChain> findElementwiseChains(mlir::func::FuncOp func);

/// An elementwise dispatch (`prefill.g_in-0`: its function and qn.name)
/// and the kernel that computes it. Chains that compute the same
/// function of the same types (the same chain in every layer) share one
/// kernel, named after the first (qn-form-dispatches names them).
struct ChainKernel {
  std::string chain;
  std::string kernel;
  /// A qn.dispatch.loop's kernel (LoopKernel.h), not an elementwise one.
  bool loop = false;
};

/// The body of an elementwise or loop dispatch as a function `name` at the
/// end of `into` (the dispatch's operands are its arguments, its yield its
/// return): what every kernel emitter lowers.
mlir::func::FuncOp outlineDispatchBody(mlir::Operation *dispatch,
                                       mlir::ModuleOp into,
                                       llvm::StringRef name);

/// Emits one kernel per distinct `kernel` of the qn.dispatch.elementwise
/// and qn.dispatch.loop ops of `model` into `kernels`; returns every
/// dispatch with its kernel, in order.
llvm::Expected<std::vector<ChainKernel>>
emitDispatchKernels(mlir::ModuleOp model, mlir::ModuleOp kernels);

} // namespace qn::codegen

#endif // QN_CODEGEN_ELEMENTWISECHAINS_H

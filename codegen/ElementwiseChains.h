//===- ElementwiseChains.h - find and outline fusible chains -----*- C++
//-*-===//
//
// Dispatch formation for the elementwise part of the model: in every
// function of a module, maximal trees of fusible qn elementwise ops (each
// inner value used once, by the next op of the tree) become one kernel each,
// named after the tree's root (`prefill.g_in-0`), via emitElementwiseKernel.
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

/// True for the qn ops emitElementwiseKernel can generate.
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

/// A chain (named after its root: `prefill.g_in-0`) and the kernel that
/// computes it. Chains that compute the same function of the same types (the
/// same chain in every layer) share one kernel, named after the first.
struct ChainKernel {
  std::string chain;
  std::string kernel;
};

/// Emits the kernels of the chains of every function of `model` into
/// `kernels`, one per distinct chain; returns every chain with its kernel,
/// in order.
llvm::Expected<std::vector<ChainKernel>>
emitChainKernels(mlir::ModuleOp model, mlir::ModuleOp kernels);

} // namespace qn::codegen

#endif // QN_CODEGEN_ELEMENTWISECHAINS_H

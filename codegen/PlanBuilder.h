//===- PlanBuilder.h - qn entry function -> runtime plan --------*- C++ -*-===//
//
// Turns one entry of the qn IR after qn-cpu-pipeline (`@prefill`,
// `@decode`) into the runtime's plan (runtime/plan/Program.h): a table of
// values (entry arguments by their qn.input / qn.weight / qn.state names,
// scratch, strided views) and the dispatches in program order. What the
// builder decides, and why, is in docs/codegen.md:
//
//   * qn.reshape and qn.slice are Views (no copy) whenever the result is
//     expressible as offset + strides over the underlying storage; a reshape
//     that is not becomes a Copy into scratch and a View of the copy;
//     qn.concat is scratch written by one Copy per piece into a View of it;
//   * model-level ops are the runtime's micro-kernels (DispatchKind), with
//     their attributes in i0..i3 / f0..f1; every elementwise chain
//     (findElementwiseChains) is one Elementwise dispatch of its kernel;
//   * every operand of a dispatch other than Copy is contiguous (row-major
//     strides, any offset): a non-contiguous view is copied first;
//   * stateful ops update their state in place: the new state is the same
//     value as the state operand;
//   * scratch values share slots by liveness (a value is live from its first
//     to its last dispatch, counting accesses through views of it; the
//     returned logits live to the end).
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_PLANBUILDER_H
#define QN_CODEGEN_PLANBUILDER_H

#include "runtime/plan/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qn::codegen {

/// The kernel that computes one elementwise chain: its name (as given to
/// emitChainKernels' module) and the address of `_mlir_ciface_<name>`
/// (null while not compiled yet; CompileModel fills it in after the JIT).
struct KernelRef {
  std::string name;
  void *address = nullptr;
};

/// Root op of each elementwise chain of the entry -> its kernel.
using ChainKernelMap = llvm::DenseMap<mlir::Operation *, KernelRef>;

/// Builds the plan of `entry` (a function after qn-cpu-pipeline). Errors
/// name the op, its qn.name and the entry: an op with no dispatch (e.g. the
/// primitives of the chunked delta path, qn.transfer), a shape with a
/// dynamic inner dimension, a chain root missing from `kernels`, a state
/// result that is not the in-place update of its argument.
llvm::Expected<runtime::plan::Program>
buildProgram(mlir::func::FuncOp entry, const ChainKernelMap &kernels);

} // namespace qn::codegen

#endif // QN_CODEGEN_PLANBUILDER_H

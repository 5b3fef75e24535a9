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
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

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

struct ChainKernel;

/// The root of every chain of `module`'s functions -> its kernel (name from
/// `names`, as emitChainKernels returned them for `module`; no address).
llvm::Expected<ChainKernelMap>
mapChainKernels(mlir::ModuleOp module, const std::vector<ChainKernel> &names);

/// Every chain root of `module` -> a kernel with neither name nor address:
/// enough to check that the plans can be built at all.
ChainKernelMap placeholderKernels(mlir::ModuleOp module);

/// What the builder made of one op of the entry block (indices into the
/// Program's dispatches and values).
struct OpPlan {
  /// The dispatches the op produced, in order: Copies of its strided
  /// operands (a copy shared by several readers belongs to the first), of
  /// a reshape's input or of a concat's pieces, then its own dispatch.
  std::vector<int32_t> dispatches;
  /// The plan value of each result, -1 for a result without one (a chain
  /// member's, a scalar's).
  std::vector<int32_t> results;
  /// For the ops of an elementwise chain (its root included): the root.
  mlir::Operation *chainRoot = nullptr;
};

/// buildProgram's decisions per op, for tools that show them in the IR
/// (qn-form-dispatches). The guard of a delta path is one op: its scf.if.
struct PlanTrace {
  llvm::MapVector<mlir::Operation *, OpPlan> ops;
  /// The op the error is about when building failed (null: the entry).
  mlir::Operation *failedOp = nullptr;
};

/// Builds the plan of `entry` (a function after qn-cpu-pipeline). Errors
/// name the op, its qn.name and the entry: an op with no dispatch (e.g. the
/// primitives of the chunked delta path, qn.transfer), a shape with a
/// dynamic inner dimension, a chain root missing from `kernels`, a state
/// result that is not the in-place update of its argument. With `trace`,
/// also reports per op what it became (and, on an error, which op failed).
llvm::Expected<runtime::plan::Program>
buildProgram(mlir::func::FuncOp entry, const ChainKernelMap &kernels,
             PlanTrace *trace = nullptr);

} // namespace qn::codegen

#endif // QN_CODEGEN_PLANBUILDER_H

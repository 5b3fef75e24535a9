//===- PlanBuilder.h - dispatch IR entry -> runtime plan ---------*- C++
//-*-===//
//
// Serializes one entry of the dispatch-level qn IR (`@prefill`, `@decode`
// after qn-cpu-pipeline and qn-form-dispatches) into the runtime's plan
// (runtime/plan/Program.h): a table of values (entry arguments by their
// qn.input / qn.weight / qn.state names, scratch, strided views) and the
// dispatches in program order. Every dispatch op's decisions (backend,
// weight formats, algorithm, parameters) are copied from its attributes;
// what the builder itself decides is the memory (docs/codegen.md):
//
//   * qn.reshape and qn.slice are Views (no copy) whenever the result is
//     expressible as offset + strides over the underlying storage; a reshape
//     that is not becomes a Copy into scratch and a View of the copy;
//     qn.concat is scratch written by one Copy per piece into a View of it;
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
#include "llvm/Support/Error.h"

namespace qn::codegen {

/// Builds the plan of `entry`. Errors name the op, its qn.name and the
/// entry: an op that is not a dispatch or a shape op (run
/// qn-form-dispatches), a shape with a dynamic inner dimension, a state
/// result that is not the in-place update of its argument. Elementwise
/// dispatches get their kernel's name; addresses are filled in after the
/// JIT (CompileModel).
llvm::Expected<runtime::plan::Program> buildProgram(mlir::func::FuncOp entry);

} // namespace qn::codegen

#endif // QN_CODEGEN_PLANBUILDER_H

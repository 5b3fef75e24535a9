//===- PlanBuilder.h - dispatch IR entry -> runtime plan ---------*- C++
//-*-===//
//
// Serializes one entry of the dispatch-level qn IR (`@prefill`, `@decode`
// after qn-cpu-pipeline and qn-form-dispatches) into the runtime's plan
// (runtime/plan/Program.h): a table of values (entry arguments by their
// qn.input / qn.weight / qn.state names, scratch, strided views) and the
// dispatches in program order. Every dispatch op's decisions (backend,
// weight formats, algorithm, parameters) are copied from its attributes, and
// so is the memory qn-assign-buffers decided (codegen/CodegenPasses.td):
// views' `qn.offset` / `qn.strides` over their storage, results' scratch
// `qn.slots` (-1: updated in place), the entry's `qn.num_slots`, and the
// `qn.dispatch.copy` ops it placed. The builder checks what it reads (every
// dispatch operand contiguous, slots in range) and decides nothing.
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
/// qn-form-dispatches), missing buffer attributes or a strided operand (run
/// qn-assign-buffers), a shape with a dynamic inner dimension, a state
/// result that is not the in-place update of its argument. Elementwise
/// dispatches get their kernel's name; addresses are filled in after the
/// JIT (CompileModel).
llvm::Expected<runtime::plan::Program> buildProgram(mlir::func::FuncOp entry);

} // namespace qn::codegen

#endif // QN_CODEGEN_PLANBUILDER_H

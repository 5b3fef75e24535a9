//===- CodegenPasses.td - qn code generation passes --------*- tablegen -*-===//
//
// Passes that need QNCodegen (which depends on QNPasses, so they cannot live
// in passes/Passes.td without a cycle); qn-opt registers them too.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_PASSES_TD
#define QN_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def FormDispatchesPass : Pass<"qn-form-dispatches", "::mlir::ModuleOp"> {
  let summary = "Annotates each op of @prefill/@decode with its plan dispatch";
  let description = [{
    Runs PlanBuilder (codegen/PlanBuilder.h), the analysis that turns an
    entry after `qn-cpu-pipeline` into the runtime's plan, on `@prefill`
    and `@decode`, and writes down what it decided for every op as
    discardable attributes; the IR is otherwise unchanged. The elementwise
    kernels are emitted into a throw-away module for their names only
    (nothing is compiled).

    * `qn.dispatch`: the kind of the op's own dispatch (`matmul`,
      `rms_norm`, `elementwise`, `gated_delta_net`, `copy`, ...), or `view`
      for a `qn.slice` / `qn.reshape` that is a strided view with no copy.
      A reshape that needs a copy and a concat are `copy`.
    * `qn.copies`: the Copy dispatches the op made first (strided operands
      made contiguous, a reshape's input, a concat's pieces), by name.
    * `qn.slot`: per result, the scratch slot of its storage (-1: a state
      or a GGUF tensor); only on ops with a result in scratch.
    * `qn.offset`, `qn.strides`: a view's place in its storage (elements).
    * `qn.kernel`: the elementwise kernel, on a chain's root and on every
      member fused into it (the same chain in every layer shares one).
    * `qn.delta_impl` (`cost-model`, `recurrent`, `chunked`, `fused`) and
      `qn.recurrent_below`: a delta net's algorithm, on the net or on the
      `scf.if` of its guard.

    ```mlir
    // before
    %s = qn.slice %r [0, 1] [-1, 4] [1, 1] {qn.name = "s"} : tensor<?x8xf32>
    %y = qn.matmul %s, %w {qn.name = "y"} : tensor<?x4xf32>, tensor<6x4xf32>
    // after
    %s = qn.slice %r [0, 1] [-1, 4] [1, 1] {qn.dispatch = "view",
           qn.name = "s", qn.offset = 1 : i64, qn.strides = [8, 1]}
    %y = qn.matmul %s, %w {qn.copies = ["s.copy"], qn.dispatch = "matmul",
           qn.name = "y", qn.slot = [1]}
    ```

    An op the plan cannot express (the primitives of delta mode 0, a
    `qn.transfer`, ...) is an error on that op with PlanBuilder's message.
  }];
  let dependentDialects = [
    "::qn::QNDialect", "::mlir::func::FuncDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif // QN_CODEGEN_PASSES_TD

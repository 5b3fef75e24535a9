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
  let summary = "Rewrites model and elementwise ops into qn.dispatch.* ops";
  let description = [{
    The step from the model level to the dispatch level of the IR
    (docs/codegen.md). In the entry block of every function:

    * each maximal tree of elementwise ops (an inner value used once, by
      the next op of the tree) becomes one `qn.dispatch.elementwise` whose
      body is the tree; the same tree in every layer shares one `kernel`
      name (the first one's: `prefill.g-0`);
    * `qn.embed`, `qn.rms_norm`, `qn.l2_norm`, `qn.matmul`,
      `qn.conv1d_causal`, `qn.gated_delta_net`, `qn.gated_attention`,
      `qn.moe` become their `qn.dispatch.*` op, on the backend
      `qn-assign-backends` chose (`qn.backend`; else the `backend` option),
      with the format and layout of every weight (`weights(q4_k:rows)`),
      the algorithm (the delta net's `impl` and `recurrent_below` as
      `qn-select-delta-path` chose them) and the kernel's parameters;
    * `qn.transfer` becomes `qn.dispatch.transfer` from the producer's
      backend to its target.

    Shape ops (`qn.reshape`, `qn.slice`, `qn.concat`) stay: whether they
    are views or copies is decided with the buffers, by the plan builder.

    ```mlir
    // before
    %a = qn.add %x, %b {qn.name = "a-0"} : tensor<?x2xf32>, tensor<2xf32>
    %g = qn.softplus %a {qn.name = "g-0"} : tensor<?x2xf32>
    %y = qn.matmul %g, %w {qn.name = "y-0"} : tensor<?x2xf32>, !qn.qweight<q8_0, 64x2>
    // after
    %g = qn.dispatch.elementwise(%x, %b) on cpu kernel "prefill.g-0"
        : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> { ... }
    %y = qn.dispatch.matmul %g, %w on cpu weights(q8_0:rows) {qn.name = "y-0"}
        : (tensor<?x2xf32>, !qn.qweight<q8_0, 64x2>) -> tensor<?x64xf32>
    ```

    Errors name the op and the attribute: a delta net without an `impl`
    (run `qn-select-delta-path` first), an explicit `scale`, the `tile`
    head mapping, `min_weight_sum`, an unknown backend.
  }];
  let options = [
    Option<"backend", "backend", "std::string", /*default=*/"\"cpu\"",
           "backend of ops without a qn.backend attribute (cpu, cuda)">
  ];
  let dependentDialects = ["::qn::QNDialect", "::mlir::func::FuncDialect"];
}

def FuseEpiloguesPass : Pass<"qn-fuse-epilogues", "::mlir::ModuleOp"> {
  let summary = "Fuses residual adds into the matmul dispatch before them";
  let description = [{
    On the dispatch level: a `qn.dispatch.elementwise` whose body is one
    `qn.add` of its two operands, both of the result's type (no broadcast),
    where one operand is a `qn.dispatch.matmul`'s result used by nothing
    else, becomes that matmul with `residual(%other)`: the product is added
    to the residual inside the matmul (runtime/kernels/Matmul.h's
    `accumulate`), so the sum is written once, while each output tile is in
    cache, and one dispatch and one pass over the activations disappear.
    That is when it pays; it does not when the product has other readers
    (it would have to be written anyway), when the add broadcasts (the
    residual would have to be expanded), or when the other operand is
    computed after the matmul (it could not be its operand). The fused
    dispatch keeps the add's `qn.name`: it computes the add's value.

    ```mlir
    // before
    %y = qn.dispatch.matmul %x, %w on cpu weights(q8_0:rows) {qn.name = "attn_out-3"} : ...
    %h = qn.dispatch.elementwise(%r, %y) on cpu kernel "prefill.attn_residual-3"
        {qn.name = "attn_residual-3"} : ... { ... qn.add ... }
    // after
    %h = qn.dispatch.matmul %x, %w residual(%r) on cpu weights(q8_0:rows)
        {qn.name = "attn_residual-3"} : ...
    ```
  }];
  let dependentDialects = ["::qn::QNDialect"];
}

#endif // QN_CODEGEN_PASSES_TD

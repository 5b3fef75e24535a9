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

def SelectActivationsPass : Pass<"qn-select-activations", "::mlir::ModuleOp"> {
  let summary = "Decides what each matmul multiplies its weights with";
  let description = [{
    On the dispatch level: every `qn.dispatch.matmul` and `qn.dispatch.moe`
    gets `activations f32 | q8 | q8prefill` (docs/kernels.md, "8-bit
    activations"), the one place this is decided; the plan and the
    kernels only read it.

    * `mode=q8` (the default, as the peer): the activations are rounded to
      8 bits per 32-value block (a bf16 scale) and multiplied in int8 --
      the fused decode kernels up to 4 tokens, the int8 GEMM above.
    * `mode=q8prefill`: f32 up to 4 tokens, q8 above.
    * `mode=f32`: exact activations everywhere (closest to the float64
      reference).

    A weight format without int8 kernels (f32, f16, bf16, q2_k, q3_k, ...;
    runtime/kernels/MatmulIsa.h's `hasInt8Kernels`) is multiplied in f32
    whatever the mode, so its matmuls get `f32`: the IR says what runs. A
    MoE gets the mode when one of its weights has int8 kernels (its f32
    router stays f32 inside the kernel). An `activations` attribute already
    there is kept (written by hand, or by an earlier run).

    ```mlir
    // before
    %y = qn.dispatch.matmul %x, %w on cpu weights(q8_0:rows) : ...
    %z = qn.dispatch.matmul %x, %v on cpu weights(f32:rows) : ...
    // after (mode=q8)
    %y = qn.dispatch.matmul %x, %w on cpu weights(q8_0:rows) activations q8 : ...
    %z = qn.dispatch.matmul %x, %v on cpu weights(f32:rows) activations f32 : ...
    ```

    An unknown mode is an error.
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"q8\"",
           "activations of matmuls whose weight has int8 kernels: q8, "
           "q8prefill or f32">
  ];
  let dependentDialects = ["::qn::QNDialect"];
}

def AssignBuffersPass : Pass<"qn-assign-buffers", "::mlir::ModuleOp"> {
  let summary = "Decides every value's memory: views, copies, scratch slots";
  let description = [{
    The last decision of the dispatch level (docs/codegen.md, "Buffers"),
    written into the IR so that the plan (and `qn-print-plan`) only reads
    it. In every function:

    * **Views.** Each `qn.slice` and `qn.reshape` gets `qn.offset` and
      `qn.strides`: where its elements are, in elements, in the storage of
      its input chain (the first value that is not a view: an argument or a
      dispatch result). A slice multiplies the strides by its steps; a
      reshape is a view when its shape is expressible as strides over that
      storage (numpy's no-copy rule; the outermost, token dimension keeps
      its stride), else its input is copied first and it views the copy.
    * **Copies.** Every tensor operand of a dispatch is contiguous
      (row-major strides, size-1 dimensions free, any offset): a strided
      view a kernel reads is copied by a `qn.dispatch.copy` (named
      `<view>.copy`, on the reader's backend) placed before the first reader
      and shared by all of them -- except a view of a state, which the
      state's in-place update would change: each reader copies it. Copies
      for the branches of a choice on T go before the `scf.if` (they run for
      every T).
    * **In place.** The new state of a conv, delta net or attention
      dispatch is its state operand's memory; a `qn.dispatch.loop` whose
      result the entry returns as a `qn.state` writes that state, which it
      must read: `qn.in_place = array<i64: ...>` gives, per result, the
      operand it overwrites (-1: scratch).
    * **Slots.** A scratch value (a dispatch or concat result) is live from
      the first to the last dispatch of the plan that touches its storage,
      directly or through a view (a concat is one copy per piece, a choice
      on T is the delta net then the loop; the logits live to the end).
      Values get slots in order of first use, a freed slot by best fit on a
      size estimate (T = R = 1024), one backend's values per slot.
      `qn.slots = array<i64: ...>` gives each result's slot (-1: in place);
      the function gets `qn.num_slots`.

    ```mlir
    // before
    %s = qn.slice %m [0, 0] [-1, 2] [1, 1] {qn.name = "alpha-0"} : tensor<?x4xf32>
    %y = qn.dispatch.matmul %s, %w on cpu weights(f32:rows) {qn.name = "y"} : ...
    // after
    %s = qn.slice %m [0, 0] [-1, 2] [1, 1] {qn.name = "alpha-0",
        qn.offset = 0 : i64, qn.strides = array<i64: 4, 1>} : tensor<?x4xf32>
    %c = qn.dispatch.copy %s on cpu {qn.name = "alpha-0.copy",
        qn.slots = array<i64: 1>} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    %y = qn.dispatch.matmul %c, %w on cpu weights(f32:rows)
        {qn.name = "y", qn.slots = array<i64: 0>} : ...
    ```

    Errors name the op: one that is neither a dispatch nor a view (run
    `qn-form-dispatches` first), a reshape changing the dynamic dimension
    or the element count, a slice of the dynamic dimension not from 0 with
    step 1, a loop writing a state it does not read, an `scf.if` that is not
    a choice on T.
  }];
  let dependentDialects = ["::qn::QNDialect"];
}

def PrintPlanPass : Pass<"qn-print-plan", "::mlir::ModuleOp"> {
  let summary = "Prints the runtime plan of every function (IR unchanged)";
  let description = [{
    Serializes each function of the dispatch-level IR (after
    `qn-assign-buffers`) into the runtime's plan, as the compiled engine
    does, and prints its listing (docs/codegen.md, "The listing") to
    standard output, before the IR. The IR is not changed. A function the
    plan cannot express is an error naming the op.

    ```sh
    qn-run ir -m model.gguf | qn-opt --qn-cpu-codegen-pipeline --qn-print-plan -o /dev/null
    ```
  }];
}

#endif // QN_CODEGEN_PASSES_TD

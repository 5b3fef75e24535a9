//===- QNDispatchOps.td - the dispatch level of the qn IR --*- tablegen -*-===//
//
// Dispatch ops (`qn.dispatch.*`): the back end's level of the IR. Each op is
// one unit of work the runtime runs on one backend, with every decision the
// compiler made about it as a typed attribute: the backend, the block format
// and layout of each weight it reads, the algorithm where there is a choice,
// and the kernel's own parameters. `qn-form-dispatches` rewrites the
// model/primitive ops of an entry into these; the runtime plan
// (runtime/plan/Program.h) is a serialization of them (docs/codegen.md).
//
// Values are still tensors (SSA); `qn-assign-buffers` decides their memory on
// this level, in attributes and copy dispatches (docs/codegen.md).
//
//===----------------------------------------------------------------------===//

#ifndef QN_DISPATCH_OPS_TD
#define QN_DISPATCH_OPS_TD

include "dialect/QNBase.td"
include "dialect/QNTypes.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Where a dispatch runs.
def QN_Backend : I32EnumAttr<"Backend", "backend of a dispatch", [
  I32EnumAttrCase<"cpu", 0>, I32EnumAttrCase<"cuda", 1>]> {
  let cppNamespace = "::qn";
}

// How a weight's blocks are laid out in memory. `rows`: as stored in the
// GGUF file (row after row of blocks); repacked layouts join this list when
// a pass chooses them.
def QN_WeightLayout : I32EnumAttr<"WeightLayout", "memory layout of a weight", [
  I32EnumAttrCase<"rows", 0>]> {
  let cppNamespace = "::qn";
}

// The attention algorithm: `plain` materializes the scores of a query row,
// `flash` streams the keys in tiles with an online softmax.
def QN_AttentionImpl : I32EnumAttr<"AttentionImpl", "attention algorithm", [
  I32EnumAttrCase<"plain", 0>, I32EnumAttrCase<"flash", 1>]> {
  let cppNamespace = "::qn";
}

// What a matmul multiplies its weights with (qn-select-activations): `f32`
// keeps the activations exact; `q8` quantizes them to 8 bits per 32-value
// block and multiplies in int8 (the peer's scheme, runtime/kernels/
// MatmulIsa.h); `q8prefill` is f32 up to 4 tokens, q8 above. A weight
// format without int8 kernels is always multiplied in f32, so the pass
// writes `f32` on its matmuls.
def QN_Activations : I32EnumAttr<"Activations", "matmul activation precision",
    [I32EnumAttrCase<"f32", 0>, I32EnumAttrCase<"q8", 1>,
     I32EnumAttrCase<"q8prefill", 2>]> {
  let cppNamespace = "::qn";
}

// The format and layout of every weight operand, in operand order:
// `weights(q4_k:rows, q6_k:rows)`. The verifier checks each format against
// the operand's type.
def QN_WeightFormats : TypedArrayAttrBase<QN_QuantFormat,
                                          "block format per weight operand">;
def QN_WeightLayouts : TypedArrayAttrBase<QN_WeightLayout,
                                          "layout per weight operand">;

class QN_DispatchOp<string mnemonic, list<Trait> traits = []>
    : QN_Op<"dispatch." # mnemonic, !listconcat([Pure], traits)> {
  let hasVerifier = 1;
}

// Ops that read stored weights: their `weights(...)` list describes these.
defvar QN_WeightOperandsDecl = [{
  /// The operands whose formats/layouts the `weights(...)` list gives.
  ::mlir::SmallVector<::mlir::Value> getWeightOperands();
}];

def QN_DispatchEmbedOp : QN_DispatchOp<"embed"> {
  let summary = "rows of a table (GGUF weight or activations) by index";
  let description = [{
    `result[t] = table[ids[t]]` decoded to f32 (`qn.embed`). The one weight
    entry describes the table (`f32:rows` for an activation table).

    ```mlir
    %h = qn.dispatch.embed %tok_embd[%ids] on cpu weights(q8_0:rows)
        : (!qn.qweight<q8_0, 1024x64>, tensor<?xi32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins QN_Weight:$table, RankedTensorOf<[I32]>:$ids,
                       QN_Backend:$backend, QN_WeightFormats:$formats,
                       QN_WeightLayouts:$layouts);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$table `[` $ids `]` `on` $backend "
                       "custom<Weights>($formats, $layouts) attr-dict `:` "
                       "functional-type(operands, results)";
  let extraClassDeclaration = QN_WeightOperandsDecl;
}

def QN_DispatchRmsNormOp : QN_DispatchOp<"rms_norm"> {
  let summary = "RMSNorm over the last dimension times a weight";
  let description = [{
    `qn.rms_norm` as one dispatch.

    ```mlir
    %n = qn.dispatch.rms_norm %x, %w on cpu epsilon 1.0e-06
        : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_FloatTensor:$weight,
                       QN_Backend:$backend, F32Attr:$epsilon);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight `on` $backend `epsilon` $epsilon "
                       "attr-dict `:` functional-type(operands, results)";
}

def QN_DispatchL2NormOp : QN_DispatchOp<"l2_norm"> {
  let summary = "L2 normalisation over the last dimension";
  let description = [{
    `qn.l2_norm` as one dispatch.

    ```mlir
    %n = qn.dispatch.l2_norm %x on cpu epsilon 1.0e-06
        : (tensor<?x2x16xf32>) -> tensor<?x2x16xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_Backend:$backend,
                       F32Attr:$epsilon);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `on` $backend `epsilon` $epsilon attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_DispatchMatmulOp : QN_DispatchOp<"matmul"> {
  let summary = "activations times a stored weight, plus a fused residual";
  let description = [{
    `result[..., o] = sum_i weight[o][i] * input[..., i]` (`qn.matmul`); the
    weight is a GGUF tensor in the format and layout given. With
    `residual(%r)` (an epilogue `qn-fuse-epilogues` fused in) the product is
    added to `%r`, which has the result's type: the residual add after an
    output projection, done while each output tile is in cache.
    `activations` (set by `qn-select-activations`; the plan requires it)
    says what the weight is multiplied with.

    ```mlir
    %y = qn.dispatch.matmul %x, %w on cpu weights(q4_k:rows) activations q8
        : (tensor<?x256xf32>, !qn.qweight<q4_k, 512x256>) -> tensor<?x512xf32>
    %h = qn.dispatch.matmul %x, %w residual(%r) on cpu weights(q4_k:rows)
        : (tensor<?x256xf32>, !qn.qweight<q4_k, 512x256>, tensor<?x512xf32>)
        -> tensor<?x512xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_Weight:$weight,
                       Optional<QN_FloatTensor>:$residual,
                       QN_Backend:$backend, QN_WeightFormats:$formats,
                       QN_WeightLayouts:$layouts,
                       OptionalAttr<QN_Activations>:$activations);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`residual` `(` $residual^ `)`)? "
                       "`on` $backend "
                       "custom<Weights>($formats, $layouts) "
                       "(`activations` $activations^)? attr-dict `:` "
                       "functional-type(operands, results)";
  let extraClassDeclaration = QN_WeightOperandsDecl;
}

def QN_DispatchConv1dCausalOp : QN_DispatchOp<"conv1d_causal"> {
  let summary = "causal depthwise convolution, conv state updated in place";
  let description = [{
    `qn.conv1d_causal` as one dispatch; `new_state` is written over `state`.

    ```mlir
    %y, %s1 = qn.dispatch.conv1d_causal %u, %w, %s on cpu
        : (tensor<?x256xf32>, tensor<256x4xf32>, tensor<256x3xf32>)
        -> (tensor<?x256xf32>, tensor<256x3xf32>)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_FloatTensor:$weight,
                       QN_FloatTensor:$state, QN_Backend:$backend);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_state);
  let assemblyFormat = "$input `,` $weight `,` $state `on` $backend attr-dict "
                       "`:` functional-type(operands, results)";
}

def QN_DispatchGatedDeltaNetOp : QN_DispatchOp<"gated_delta_net"> {
  let summary = "the gated delta rule with the algorithm chosen";
  let description = [{
    `qn.gated_delta_net` (scale `1/sqrt(dk)`, either head mapping) as
    one dispatch; `new_state` is written over `state`. `impl` is the
    algorithm `qn-select-delta-path` chose; with `recurrent_below N`, a
    ubatch of fewer than `N` tokens runs the recurrent form instead (the
    whole choice as a function of the token count, made once, in the pass).
    `state_clamp`: clamp every state element to `[-c, c]` after each token.

    ```mlir
    %o, %s1 = qn.dispatch.gated_delta_net %q, %k, %v, %g, %b, %s on cpu
        impl fused recurrent_below 3
        : (tensor<?x1x16xf32>, tensor<?x1x16xf32>, tensor<?x2x16xf32>,
           tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x16x16xf32>)
        -> (tensor<?x2x16xf32>, tensor<2x16x16xf32>)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$q, QN_FloatTensor:$k,
                       QN_FloatTensor:$v, QN_FloatTensor:$g,
                       QN_FloatTensor:$beta, QN_FloatTensor:$state,
                       QN_Backend:$backend, QN_DeltaNetImpl:$impl,
                       OptionalAttr<I64Attr>:$recurrent_below,
                       OptionalAttr<F32Attr>:$state_clamp,
                       DefaultValuedAttr<QN_HeadMapping,
                                         "::qn::HeadMapping::interleave">:$head_mapping);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_state);
  let assemblyFormat = "$q `,` $k `,` $v `,` $g `,` $beta `,` $state `on` "
                       "$backend `impl` $impl "
                       "(`head_mapping` $head_mapping^)? "
                       "(`recurrent_below` $recurrent_below^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_DispatchGatedAttentionOp : QN_DispatchOp<"gated_attention"> {
  let summary = "gated full attention with its KV cache";
  let description = [{
    `qn.gated_attention` (scale `1/sqrt(head_dim)`) as one dispatch; the
    caches are written in place. `rope_sections`: IMRoPE as on
    `qn.gated_attention`.

    ```mlir
    %o, %kc1, %vc1 = qn.dispatch.gated_attention %qg, %k, %v, %qn, %kn, %pos,
        %kc, %vc on cpu impl plain heads(2, 1) head_dim 32 rope(16, 1.0e+07)
        epsilon 1.0e-06 : (...) -> (...)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$qg, QN_FloatTensor:$k,
                       QN_FloatTensor:$v, QN_FloatTensor:$q_norm,
                       QN_FloatTensor:$k_norm,
                       RankedTensorOf<[I32]>:$positions,
                       QN_FloatTensor:$k_cache, QN_FloatTensor:$v_cache,
                       QN_Backend:$backend, QN_AttentionImpl:$impl,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, I64Attr:$rope_dims,
                       F32Attr:$rope_base, F32Attr:$epsilon,
                       OptionalAttr<DenseI64ArrayAttr>:$rope_sections);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_k_cache,
                      QN_FloatTensor:$new_v_cache);
  let assemblyFormat = "$qg `,` $k `,` $v `,` $q_norm `,` $k_norm `,` "
                       "$positions `,` $k_cache `,` $v_cache `on` $backend "
                       "`impl` $impl "
                       "`heads` `(` $num_heads `,` $num_kv_heads `)` "
                       "`head_dim` $head_dim "
                       "`rope` `(` $rope_dims `,` $rope_base `)` "
                       "`epsilon` $epsilon attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_DispatchMoeOp : QN_DispatchOp<"moe"> {
  let summary = "routed SwiGLU experts (and the shared expert)";
  let description = [{
    `qn.moe` (no `min_weight_sum`) as one dispatch. `weights(...)` lists the
    router, the three expert stacks and, with a shared expert, its four
    weights, in operand order. `activations` (`qn-select-activations`)
    applies to every weight of a format with int8 kernels; the others (an
    f32 router) are multiplied in f32.

    ```mlir
    %y = qn.dispatch.moe %x, %r, %g, %u, %d on cpu top_k 2
        weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows) activations q8
        : (...) -> ...
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_Weight:$router,
                       QN_Weight:$gate_exps, QN_Weight:$up_exps,
                       QN_Weight:$down_exps, Variadic<QN_Weight>:$shared,
                       QN_Backend:$backend, I64Attr:$top_k,
                       QN_WeightFormats:$formats, QN_WeightLayouts:$layouts,
                       OptionalAttr<QN_Activations>:$activations);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $router `,` $gate_exps `,` $up_exps `,` "
                       "$down_exps (`shared` `(` $shared^ `)`)? `on` $backend "
                       "`top_k` $top_k custom<Weights>($formats, $layouts) "
                       "(`activations` $activations^)? "
                       "attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = QN_WeightOperandsDecl # [{
    bool hasSharedExpert() { return !getShared().empty(); }
  }];
}

def QN_DispatchTransferOp : QN_DispatchOp<"transfer"> {
  let summary = "copies a value from one backend's memory to another's";
  let description = [{
    Where `qn-assign-backends` cut the graph between backends. `from` and
    `to` differ.

    ```mlir
    %y = qn.dispatch.transfer %x from cpu to cuda
        : (tensor<?x64xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, QN_Backend:$from,
                       QN_Backend:$to);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `from` $from `to` $to attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_DispatchCopyOp : QN_DispatchOp<"copy"> {
  let summary = "copies a strided view into contiguous scratch";
  let description = [{
    Made by `qn-assign-buffers` where a dispatch reads a view that is not
    contiguous (row-major strides at any offset), and where a `qn.reshape`
    cannot be a view of its input's storage: the value is copied once into
    scratch of the same type, on the reader's backend.

    ```mlir
    %a = qn.slice %m [0, 0] [-1, 2] [1, 1] {qn.name = "alpha-0",
        qn.offset = 0 : i64, qn.strides = array<i64: 4, 1>} : tensor<?x4xf32>
    %c = qn.dispatch.copy %a on cpu {qn.name = "alpha-0.copy",
        qn.slots = array<i64: 3>} : (tensor<?x2xf32>) -> tensor<?x2xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, QN_Backend:$backend);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input `on` $backend attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_DispatchElementwiseOp
    : QN_DispatchOp<"elementwise", [IsolatedFromAbove]> {
  let summary = "a fused chain of elementwise ops: one generated kernel";
  let description = [{
    The body is the chain on tensors (the block's arguments are the
    operands, numpy broadcasting as in the qn ops); it yields the one value
    the kernel writes. `kernel` names the generated function: chains that
    compute the same function of the same types share one.

    ```mlir
    %r = qn.dispatch.elementwise (%a, %b) on cpu kernel "prefill.g-0"
        : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> {
    ^bb0(%x: tensor<?x2xf32>, %y: tensor<2xf32>):
      %s = qn.add %x, %y : tensor<?x2xf32>, tensor<2xf32>
      %t = qn.softplus %s : tensor<?x2xf32>
      qn.dispatch.yield %t : tensor<?x2xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, QN_Backend:$backend,
                       StrAttr:$kernel);
  let results = (outs AnyRankedTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $inputs `)` `on` $backend `kernel` $kernel "
                       "attr-dict `:` functional-type($inputs, results) "
                       "$body";
}

def QN_DispatchLoopOp : QN_DispatchOp<"loop", [IsolatedFromAbove]> {
  let summary = "a region of primitive ops: one generated loop kernel";
  let description = [{
    The body (primitive qn ops, `scf.for`, `tensor` slices, `arith` on
    indices) is compiled into one loop kernel (codegen/LoopKernel.h) that
    reads the operands and writes the results; a result may be written over
    an operand (a state updated in place). Stateful operands are bound per
    sequence, as for the other stateful dispatches: the kernel runs once per
    sequence of the ubatch, on its rows. `kernel` names the generated
    function: regions computing the same function share one. The chunked
    delta rule of delta mode 0 runs as one.

    ```mlir
    %o, %s1 = qn.dispatch.loop(%q, %k, %v, %g, %b, %s) on cpu
        kernel "prefill.attn_output-0.chunked" : (...) -> (...) {
    ^bb0(...):
      ...
      qn.dispatch.yield %out, %state : tensor<?x2x64xf32>, tensor<2x64x64xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, QN_Backend:$backend,
                       StrAttr:$kernel);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $inputs `)` `on` $backend `kernel` $kernel "
                       "attr-dict `:` functional-type($inputs, results) "
                       "$body";
}

def QN_DispatchYieldOp : QN_Op<"dispatch.yield", [Pure, Terminator,
    ParentOneOf<["DispatchElementwiseOp", "DispatchLoopOp"]>]> {
  let summary = "the value a dispatch region computes";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif // QN_DISPATCH_OPS_TD

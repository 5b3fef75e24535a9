//===- QNModelOps.td - qn model-level operations -----------*- tablegen -*-===//
//
// Model-level ops: one op per computation of the Qwen3-Next forward pass
// (../shared/docs/qwen3next-model.md section 3). Weights are operands (float
// tensors or !qn.qweight); recurrent state and KV cache go in as operands and
// come out as results.
//
//===----------------------------------------------------------------------===//

#ifndef QN_MODEL_OPS_TD
#define QN_MODEL_OPS_TD

include "dialect/QNBase.td"
include "dialect/QNTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def QN_EmbedOp : QN_Op<"embed", [Pure, InferTypeOpAdaptor]> {
  let summary = "embedding lookup (token ids to rows of the table)";
  let description = [{
    `result[t] = table[ids[t]]`, decoded to f32 (ggml `get_rows`; spec 3.0).
    `table` is `[V, D]` (a float tensor or a stored weight), `ids` is a
    rank-1 tensor of i32 token ids; the result is `[T, D]` f32.

    The table may also be an activation (`[T, D]` f32, `T` dynamic): then
    the op gathers the rows `ids` (`[R]`, values in `[0, T)`) of it, as the
    prefill entry does with `output_rows` before the output head.

    Example:

    ```mlir
    %h = qn.embed %tok_embd[%ids] : !qn.qweight<q4_k, 151936x2048>, tensor<?xi32>
    // %h : tensor<?x2048xf32>
    %r = qn.embed %h[%rows] : tensor<?x2048xf32>, tensor<?xi32>
    // %r : tensor<?x2048xf32>, one row per element of %rows
    ```
  }];
  let arguments = (ins QN_Weight:$table, RankedTensorOf<[I32]>:$ids);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` "
                       "qualified(type($table)) `,` type($ids)";
}

def QN_RmsNormOp : QN_Op<"rms_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "RMSNorm over the last dimension, times a weight";
  let description = [{
    `result[..., i] = weight[i] * x[..., i] / sqrt(mean_j(x[..., j]^2) +
    epsilon)` (spec 3.1; the stored weight is used as is). `weight` is
    rank 1 with the size of the last dimension of `input`; the result has
    the input's type. Per-head norms pass `[T, H, Dh]` with a `[Dh]`
    weight.

    Example:

    ```mlir
    %a = qn.rms_norm %h, %attn_norm {epsilon = 1.0e-06 : f32}
        : tensor<?x2048xf32>, tensor<2048xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_FloatTensor:$weight,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def QN_MatmulOp : QN_Op<"matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "linear layer: activations times a (possibly quantized) weight";
  let description = [{
    `result[..., o] = sum_i weight[o][i] * input[..., i]` (ggml
    `mul_mat(W, x)`). `weight` is `[out, in]` (a float tensor or a
    `!qn.qweight` in any block format), `input` is `[..., in]`; the result
    is `[..., out]` with the input's element type. Used for every
    projection and for the output head (`logits = output.weight * x`).

    Example:

    ```mlir
    %y = qn.matmul %x, %w : tensor<?x2048xf32>, !qn.qweight<q4_k, 8192x2048>
    // %y : tensor<?x8192xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_Weight:$weight);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` "
                       "qualified(type($weight))";
}

def QN_GatedAttentionOp
    : QN_Op<"gated_attention", [Pure, InferTypeOpAdaptor]> {
  let summary = "full attention with q/gate split, q/k norm, partial RoPE, "
                "GQA, KV cache and sigmoid output gate";
  let description = [{
    The full-attention layer of spec 3.3 between its input projections and
    its output projection (both `qn.matmul`). Operands (`T` tokens, `Hq =
    num_heads`, `Hkv = num_kv_heads`, `Dh = head_dim`):

    * `qg` `[T, Hq*2*Dh]`: the packed query/gate projection; head `h` holds
      its query at `[h*2Dh, h*2Dh+Dh)` and its gate at `[h*2Dh+Dh, (h+1)*2Dh)`;
    * `k`, `v` `[T, Hkv*Dh]`;
    * `q_norm`, `k_norm` `[Dh]`: per-head RMSNorm weights (`epsilon`);
    * `positions` `[T]` i32: absolute token positions;
    * `k_cache`, `v_cache` `[S, Hkv, Dh]` (same type, any float element type,
      `S` = capacity, may be dynamic).

    Steps: split q/gate, RMSNorm q and k per head, NEOX RoPE on the first
    `rope_dims` dims of each head (`theta = pos * rope_base^(-2i/rope_dims)`;
    with `rope_sections = [t, h, w, e]`, IMRoPE for text positions
    `(p, p, p, 0)`: pair `i` whose interleaved sector is `e` (or uncovered)
    is not rotated, qwen35 spec 3.3),
    write roped k and raw v into the cache rows `positions[t]`, attend query
    head `h` to KV head `h / (Hq/Hkv)` over cache rows `p <= positions[t]`
    with scores scaled by `scale` (default `1/sqrt(Dh)`), softmax, weighted
    sum of v, and multiply by `sigmoid(gate)`.

    Results: the gated attention output `[T, Hq*Dh]` (element type of `qg`)
    and the updated caches (same types as the operands).

    Example:

    ```mlir
    %o, %kc1, %vc1 = qn.gated_attention %qg, %k, %v, %qn, %kn, %pos, %kc, %vc
        heads(16, 2) head_dim 256 rope(64, 1.0e+07) {epsilon = 1.0e-06 : f32}
        : (tensor<?x8192xf32>, tensor<?x512xf32>, tensor<?x512xf32>,
           tensor<256xf32>, tensor<256xf32>, tensor<?xi32>,
           tensor<?x2x256xf16>, tensor<?x2x256xf16>)
        -> (tensor<?x4096xf32>, tensor<?x2x256xf16>, tensor<?x2x256xf16>)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$qg, QN_FloatTensor:$k,
                       QN_FloatTensor:$v, QN_FloatTensor:$q_norm,
                       QN_FloatTensor:$k_norm,
                       RankedTensorOf<[I32]>:$positions,
                       QN_FloatTensor:$k_cache, QN_FloatTensor:$v_cache,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, I64Attr:$rope_dims, F32Attr:$rope_base,
                       DefaultValuedAttr<F32Attr, "1.0e-6">:$epsilon,
                       OptionalAttr<F32Attr>:$scale,
                       OptionalAttr<DenseI64ArrayAttr>:$rope_sections);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_k_cache,
                      QN_FloatTensor:$new_v_cache);
  let assemblyFormat = "$qg `,` $k `,` $v `,` $q_norm `,` $k_norm `,` "
                       "$positions `,` $k_cache `,` $v_cache "
                       "`heads` `(` $num_heads `,` $num_kv_heads `)` "
                       "`head_dim` $head_dim "
                       "`rope` `(` $rope_dims `,` $rope_base `)` attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_Conv1dCausalOp : QN_Op<"conv1d_causal", [Pure, InferTypeOpAdaptor]> {
  let summary = "causal depthwise 1-D convolution with its conv state";
  let description = [{
    Spec 3.2 step 4 (ggml `ssm_conv`). `input` is `[T, C]`, `weight` is
    `[C, K]` (GGUF `ssm_conv1d`, tap `K-1` multiplies the current token),
    `state` is `[C, K-1]`: the previous `K-1` inputs per channel, oldest
    first. `result[t][c] = sum_i weight[c][i] * u[t-K+1+i][c]`, where `u`
    is the state followed by the input. No bias and no activation (apply
    `qn.silu` to the result). `new_state` holds the last `K-1` entries of
    `u` (pre-conv inputs) per channel.

    Example:

    ```mlir
    %y, %s1 = qn.conv1d_causal %u, %w, %s
        : (tensor<?x8192xf32>, tensor<8192x4xf32>, tensor<8192x3xf32>)
        -> (tensor<?x8192xf32>, tensor<8192x3xf32>)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_FloatTensor:$weight,
                       QN_FloatTensor:$state);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_state);
  let assemblyFormat = "$input `,` $weight `,` $state attr-dict `:` "
                       "functional-type(operands, results)";
}

def QN_GatedDeltaNetOp
    : QN_Op<"gated_delta_net", [Pure, InferTypeOpAdaptor]> {
  let summary = "the gated delta rule over a ubatch, with its recurrent state";
  let description = [{
    Spec 3.2 step 8 / section 4. Operands (`Hk` query/key heads of size
    `dk`, `Hv` value heads of size `dv`, `Hv` a multiple of `Hk`):

    * `q`, `k` `[T, Hk, dk]`: L2-normalised, unscaled;
    * `v` `[T, Hv, dv]`;
    * `g` `[T, Hv]`: log-decay (`<= 0`), `alpha = exp(g)`;
    * `beta` `[T, Hv]`: write strength after the sigmoid;
    * `state` `[Hv, dk, dv]`: the matrices `M_h` before the ubatch.

    Value head `h` uses query/key head `h / (Hv/Hk)` (`head_mapping =
    interleave`, Qwen3-Next) or `h mod Hk` (`tile`). Per token, with
    `s = scale` (default `1/sqrt(dk)`):

    ```
    M <- alpha M ; delta = beta (v - M^T k) ; M <- M + k delta^T ; o = M^T (s q)
    ```

    Results: `o` `[T, Hv, dv]` and `new_state` (the state's type). `impl`
    records the algorithm chosen by the delta-path selection pass
    (`recurrent`, `chunked` or `fused`); all compute the same function.
    With `recurrent_below N` (written by that pass too), a ubatch of fewer
    than `N` tokens runs the recurrent form instead: the whole choice as a
    function of the token count, in one place.
    Both `head_mapping` (default `interleave`) and `impl` (default: not
    chosen) print as keywords after the operands. With `state_clamp = c`
    every state element is clamped to `[-c, c]` after each token, as
    ik_llama.cpp does with `c = 1e6` (mainline and HF do not clamp).

    Example:

    ```mlir
    %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %beta, %s impl fused
        : (tensor<?x16x128xf32>, tensor<?x16x128xf32>, tensor<?x32x128xf32>,
           tensor<?x32xf32>, tensor<?x32xf32>, tensor<32x128x128xf32>)
        -> (tensor<?x32x128xf32>, tensor<32x128x128xf32>)
    ```
  }];
  let arguments = (ins QN_FloatTensor:$q, QN_FloatTensor:$k,
                       QN_FloatTensor:$v, QN_FloatTensor:$g,
                       QN_FloatTensor:$beta, QN_FloatTensor:$state,
                       OptionalAttr<F32Attr>:$scale,
                       DefaultValuedAttr<QN_HeadMapping,
                                         "::qn::HeadMapping::interleave">:$head_mapping,
                       OptionalAttr<QN_DeltaNetImpl>:$impl,
                       OptionalAttr<I64Attr>:$recurrent_below,
                       OptionalAttr<F32Attr>:$state_clamp);
  let results = (outs QN_FloatTensor:$result, QN_FloatTensor:$new_state);
  let hasVerifier = 1;
  let assemblyFormat = "$q `,` $k `,` $v `,` $g `,` $beta `,` $state "
                       "(`head_mapping` $head_mapping^)? (`impl` $impl^)? "
                       "(`recurrent_below` $recurrent_below^)? "
                       "attr-dict `:` functional-type(operands, results)";
}

def QN_MoeOp : QN_Op<"moe", [Pure, InferTypeOpAdaptor]> {
  let summary = "mixture of SwiGLU experts with top-k routing and a gated "
                "shared expert";
  let description = [{
    Spec 3.4. Operands (`E` experts, `F` expert width, `D` hidden size):

    * `input` `[T, D]`;
    * `router` `[E, D]`: `p = softmax(router * x)`;
    * `gate_exps`, `up_exps` `[E, F, D]`, `down_exps` `[E, D, F]`;
    * optional shared expert, all four or none: `shared_gate_inp` `[D]`,
      `shared_gate`, `shared_up` `[Fs, D]`, `shared_down` `[D, Fs]`.

    The `top_k` most probable experts are selected, their probabilities
    renormalised to sum 1 (the sum is first clamped to at least
    `min_weight_sum` when given, as mainline llama.cpp does), and
    `r = sum_e w_e * down_e(silu(gate_e x) * up_e x)`. The shared expert
    adds `sigmoid(shared_gate_inp . x) * down_s(silu(gate_s x) * up_s x)`.
    The result is `[T, D]` with the input's type.

    Example:

    ```mlir
    %y = qn.moe %f, %router, %gate, %up, %down
        shared(%sg, %sgate, %sup, %sdown) top_k 10
        : (tensor<?x2048xf32>, tensor<512x2048xf32>,
           !qn.qweight<q4_k, 512x512x2048>, !qn.qweight<q4_k, 512x512x2048>,
           !qn.qweight<q6_k, 512x2048x512>, tensor<2048xf32>,
           !qn.qweight<q8_0, 512x2048>, !qn.qweight<q8_0, 512x2048>,
           !qn.qweight<q8_0, 2048x512>) -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins QN_FloatTensor:$input, QN_Weight:$router,
                       QN_Weight:$gate_exps, QN_Weight:$up_exps,
                       QN_Weight:$down_exps, Variadic<QN_Weight>:$shared,
                       I64Attr:$top_k, OptionalAttr<F32Attr>:$min_weight_sum);
  let results = (outs QN_FloatTensor:$result);
  let assemblyFormat = "$input `,` $router `,` $gate_exps `,` $up_exps `,` "
                       "$down_exps (`shared` `(` $shared^ `)`)? `top_k` $top_k "
                       "attr-dict `:` "
                       "functional-type(operands, results)";
  let extraClassDeclaration = [{
    bool hasSharedExpert() { return !getShared().empty(); }
    ::mlir::Value getSharedGateInp() { return getShared()[0]; }
    ::mlir::Value getSharedGate() { return getShared()[1]; }
    ::mlir::Value getSharedUp() { return getShared()[2]; }
    ::mlir::Value getSharedDown() { return getShared()[3]; }
  }];
}

#endif // QN_MODEL_OPS_TD

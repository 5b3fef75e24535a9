// A whole (tiny) Qwen3-Next forward pass in model-level qn ops: embedding,
// one linear-attention (Gated DeltaNet) layer, one full-attention layer, each
// followed by the MoE FFN, and the output head. It shows how the spec's
// section 3 maps onto the dialect; the frontend emits the same structure at
// real sizes. Recurrent state and KV cache go in as arguments and come out as
// results.
//
// Sizes: D = 64, V = 256; linear layer Hk = 2, dk = 16, Hv = 4, dv = 16
// (Ck = 32, Cv = 64, Cc = 128, Kc = 4); full attention Hq = 4, Hkv = 2,
// Dh = 16, R = 8; MoE E = 4, F = 32, k = 2, Fs = 32. T (tokens) is dynamic.
//
//   qn-opt docs/examples/qwen3next-tiny.mlir

func.func @prefill(
    %ids: tensor<?xi32>, %pos: tensor<?xi32>,
    // globals
    %token_embd: !qn.qweight<q8_0, 256x64>, %output_norm: tensor<64xf32>,
    %output: !qn.qweight<q8_0, 256x64>,
    // layer 0 (linear attention)
    %l0_attn_norm: tensor<64xf32>, %l0_attn_qkv: !qn.qweight<q8_0, 128x64>,
    %l0_attn_gate: !qn.qweight<q8_0, 64x64>, %l0_ssm_ba: tensor<8x64xf32>,
    %l0_ssm_conv1d: tensor<128x4xf32>, %l0_ssm_dt: tensor<4xf32>,
    %l0_ssm_a: tensor<4xf32>, %l0_ssm_norm: tensor<16xf32>,
    %l0_ssm_out: !qn.qweight<q8_0, 64x64>,
    // layer 1 (full attention)
    %l1_attn_norm: tensor<64xf32>, %l1_attn_q: !qn.qweight<q8_0, 128x64>,
    %l1_attn_k: !qn.qweight<q8_0, 32x64>, %l1_attn_v: !qn.qweight<q8_0, 32x64>,
    %l1_attn_q_norm: tensor<16xf32>, %l1_attn_k_norm: tensor<16xf32>,
    %l1_attn_output: !qn.qweight<q8_0, 64x64>,
    // MoE weights (shared by both layers here to keep the example short)
    %post_norm: tensor<64xf32>, %router: tensor<4x64xf32>,
    %gate_exps: !qn.qweight<q8_0, 4x32x64>, %up_exps: !qn.qweight<q8_0, 4x32x64>,
    %down_exps: !qn.qweight<q8_0, 4x64x32>, %sh_gate_inp: tensor<64xf32>,
    %sh_gate: !qn.qweight<q8_0, 32x64>, %sh_up: !qn.qweight<q8_0, 32x64>,
    %sh_down: !qn.qweight<q8_0, 64x32>,
    // per-sequence state
    %conv_state: tensor<128x3xf32>, %delta_state: tensor<4x16x16xf32>,
    %k_cache: tensor<?x2x16xf16>, %v_cache: tensor<?x2x16xf16>)
    -> (tensor<?x256xf32>, tensor<128x3xf32>, tensor<4x16x16xf32>,
        tensor<?x2x16xf16>, tensor<?x2x16xf16>) {
  %h0 = qn.embed %token_embd[%ids] : !qn.qweight<q8_0, 256x64>, tensor<?xi32>

  // ---- layer 0: Gated DeltaNet (spec 3.2) ----
  %a0 = qn.rms_norm %h0, %l0_attn_norm : tensor<?x64xf32>, tensor<64xf32>
  %u = qn.matmul %a0, %l0_attn_qkv : tensor<?x64xf32>, !qn.qweight<q8_0, 128x64>
  %z = qn.matmul %a0, %l0_attn_gate : tensor<?x64xf32>, !qn.qweight<q8_0, 64x64>
  %ba = qn.matmul %a0, %l0_ssm_ba : tensor<?x64xf32>, tensor<8x64xf32>
  // ssm_ba is grouped by key head: [b_{2g}, b_{2g+1}, a_{2g}, a_{2g+1}].
  %ba3 = qn.reshape %ba : tensor<?x8xf32> -> tensor<?x2x4xf32>
  %b3 = qn.slice %ba3 [0, 0, 0] [-1, 2, 2] [1, 1, 1] : tensor<?x2x4xf32>
  %a3 = qn.slice %ba3 [0, 0, 2] [-1, 2, 2] [1, 1, 1] : tensor<?x2x4xf32>
  %b = qn.reshape %b3 : tensor<?x2x2xf32> -> tensor<?x4xf32>
  %araw = qn.reshape %a3 : tensor<?x2x2xf32> -> tensor<?x4xf32>
  // g = ssm_a * softplus(a + dt_bias); beta = sigmoid(b).
  %adt = qn.add %araw, %l0_ssm_dt : tensor<?x4xf32>, tensor<4xf32>
  %sp = qn.softplus %adt : tensor<?x4xf32>
  %g = qn.mul %sp, %l0_ssm_a : tensor<?x4xf32>, tensor<4xf32>
  %beta = qn.sigmoid %b : tensor<?x4xf32>
  // Causal conv over the Cc channels, then SiLU and the q/k/v split.
  %conv, %conv_state1 = qn.conv1d_causal %u, %l0_ssm_conv1d, %conv_state
      : (tensor<?x128xf32>, tensor<128x4xf32>, tensor<128x3xf32>)
      -> (tensor<?x128xf32>, tensor<128x3xf32>)
  %act = qn.silu %conv : tensor<?x128xf32>
  %qf = qn.slice %act [0, 0] [-1, 32] [1, 1] : tensor<?x128xf32>
  %kf = qn.slice %act [0, 32] [-1, 32] [1, 1] : tensor<?x128xf32>
  %vf = qn.slice %act [0, 64] [-1, 64] [1, 1] : tensor<?x128xf32>
  %q3 = qn.reshape %qf : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %k3 = qn.reshape %kf : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %v3 = qn.reshape %vf : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %qn = qn.l2_norm %q3 : tensor<?x2x16xf32>
  %kn = qn.l2_norm %k3 : tensor<?x2x16xf32>
  %o, %delta_state1 = qn.gated_delta_net %qn, %kn, %v3, %g, %beta, %delta_state
      : (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<?x4x16xf32>,
         tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x16x16xf32>)
      -> (tensor<?x4x16xf32>, tensor<4x16x16xf32>)
  // Gated output norm: RMSNorm(o) * silu(z), per value head.
  %on = qn.rms_norm %o, %l0_ssm_norm : tensor<?x4x16xf32>, tensor<16xf32>
  %z3 = qn.reshape %z : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %zs = qn.silu %z3 : tensor<?x4x16xf32>
  %gated = qn.mul %on, %zs : tensor<?x4x16xf32>, tensor<?x4x16xf32>
  %flat = qn.reshape %gated : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %m0 = qn.matmul %flat, %l0_ssm_out : tensor<?x64xf32>, !qn.qweight<q8_0, 64x64>
  %h0a = qn.add %h0, %m0 : tensor<?x64xf32>, tensor<?x64xf32>
  // MoE FFN (spec 3.4).
  %f0 = qn.rms_norm %h0a, %post_norm : tensor<?x64xf32>, tensor<64xf32>
  %e0 = qn.moe %f0, %router, %gate_exps, %up_exps, %down_exps
      shared(%sh_gate_inp, %sh_gate, %sh_up, %sh_down) top_k 2
      : (tensor<?x64xf32>, tensor<4x64xf32>, !qn.qweight<q8_0, 4x32x64>,
         !qn.qweight<q8_0, 4x32x64>, !qn.qweight<q8_0, 4x64x32>, tensor<64xf32>,
         !qn.qweight<q8_0, 32x64>, !qn.qweight<q8_0, 32x64>,
         !qn.qweight<q8_0, 64x32>) -> tensor<?x64xf32>
  %h1 = qn.add %h0a, %e0 : tensor<?x64xf32>, tensor<?x64xf32>

  // ---- layer 1: gated full attention (spec 3.3) ----
  %a1 = qn.rms_norm %h1, %l1_attn_norm : tensor<?x64xf32>, tensor<64xf32>
  %qg = qn.matmul %a1, %l1_attn_q : tensor<?x64xf32>, !qn.qweight<q8_0, 128x64>
  %k = qn.matmul %a1, %l1_attn_k : tensor<?x64xf32>, !qn.qweight<q8_0, 32x64>
  %v = qn.matmul %a1, %l1_attn_v : tensor<?x64xf32>, !qn.qweight<q8_0, 32x64>
  %att, %k_cache1, %v_cache1 = qn.gated_attention %qg, %k, %v, %l1_attn_q_norm,
      %l1_attn_k_norm, %pos, %k_cache, %v_cache heads(4, 2) head_dim 16
      rope(8, 1.0e+07)
      : (tensor<?x128xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<16xf32>,
         tensor<16xf32>, tensor<?xi32>, tensor<?x2x16xf16>, tensor<?x2x16xf16>)
      -> (tensor<?x64xf32>, tensor<?x2x16xf16>, tensor<?x2x16xf16>)
  %m1 = qn.matmul %att, %l1_attn_output : tensor<?x64xf32>, !qn.qweight<q8_0, 64x64>
  %h1a = qn.add %h1, %m1 : tensor<?x64xf32>, tensor<?x64xf32>
  %f1 = qn.rms_norm %h1a, %post_norm : tensor<?x64xf32>, tensor<64xf32>
  %e1 = qn.moe %f1, %router, %gate_exps, %up_exps, %down_exps
      shared(%sh_gate_inp, %sh_gate, %sh_up, %sh_down) top_k 2
      : (tensor<?x64xf32>, tensor<4x64xf32>, !qn.qweight<q8_0, 4x32x64>,
         !qn.qweight<q8_0, 4x32x64>, !qn.qweight<q8_0, 4x64x32>, tensor<64xf32>,
         !qn.qweight<q8_0, 32x64>, !qn.qweight<q8_0, 32x64>,
         !qn.qweight<q8_0, 64x32>) -> tensor<?x64xf32>
  %h2 = qn.add %h1a, %e1 : tensor<?x64xf32>, tensor<?x64xf32>

  // ---- head (spec 3.5) ----
  %hn = qn.rms_norm %h2, %output_norm : tensor<?x64xf32>, tensor<64xf32>
  %logits = qn.matmul %hn, %output : tensor<?x64xf32>, !qn.qweight<q8_0, 256x64>
  return %logits, %conv_state1, %delta_state1, %k_cache1, %v_cache1
      : tensor<?x256xf32>, tensor<128x3xf32>, tensor<4x16x16xf32>,
        tensor<?x2x16xf16>, tensor<?x2x16xf16>
}

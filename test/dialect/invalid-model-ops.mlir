// RUN: qn-opt %s --split-input-file --verify-diagnostics

// Tests that embed needs a matrix table.
func.func @embed_table(%t: tensor<1024xf32>, %ids: tensor<?xi32>) {
  // expected-error@+1 {{table must be [V, D], got 1024}}
  %0 = qn.embed %t[%ids] : tensor<1024xf32>, tensor<?xi32>
  return
}

// -----

// Tests that embed takes a rank-1 id list.
func.func @embed_ids(%t: tensor<16x8xf32>, %ids: tensor<2x3xi32>) {
  // expected-error@+1 {{ids must be rank 1 [T], got 2x3}}
  %0 = qn.embed %t[%ids] : tensor<16x8xf32>, tensor<2x3xi32>
  return
}

// -----

// Tests that embed ids are i32.
func.func @embed_id_type(%t: tensor<16x8xf32>, %ids: tensor<3xi64>) {
  // expected-error@+1 {{'qn.embed' op operand #1 must be ranked tensor of 32-bit signless integer values}}
  %0 = "qn.embed"(%t, %ids) : (tensor<16x8xf32>, tensor<3xi64>) -> tensor<3x8xf32>
  return
}

// -----

// Tests that rms_norm's weight matches the last dimension.
func.func @rms_norm_weight(%x: tensor<?x256xf32>, %w: tensor<128xf32>) {
  // expected-error@+1 {{weight must be [256] (the last dimension of the input), got 128}}
  %0 = qn.rms_norm %x, %w : tensor<?x256xf32>, tensor<128xf32>
  return
}

// -----

// Tests that rms_norm needs a positive epsilon.
func.func @rms_norm_eps(%x: tensor<?x256xf32>, %w: tensor<256xf32>) {
  // expected-error@+1 {{'qn.rms_norm' op epsilon must be > 0, got -1}}
  %0 = qn.rms_norm %x, %w {epsilon = -1.0 : f32} : tensor<?x256xf32>, tensor<256xf32>
  return
}

// -----

// Tests that rms_norm's weight has the input's element type.
func.func @rms_norm_type(%x: tensor<?x256xf32>, %w: tensor<256xf16>) {
  // expected-error@+1 {{weight element type 'f16' differs from input element type 'f32'}}
  %0 = qn.rms_norm %x, %w : tensor<?x256xf32>, tensor<256xf16>
  return
}

// -----

// Tests that matmul checks the input features against the weight.
func.func @matmul_k(%x: tensor<?x256xf32>, %w: !qn.qweight<q4_k, 512x512>) {
  // expected-error@+1 {{weight 512x512 expects 512 input features, the input has 256}}
  %0 = qn.matmul %x, %w : tensor<?x256xf32>, !qn.qweight<q4_k, 512x512>
  return
}

// -----

// Tests that matmul needs a 2-D weight.
func.func @matmul_rank(%x: tensor<?x256xf32>, %w: !qn.qweight<q8_0, 4x64x256>) {
  // expected-error@+1 {{weight must be [out, in], got 4x64x256}}
  %0 = qn.matmul %x, %w : tensor<?x256xf32>, !qn.qweight<q8_0, 4x64x256>
  return
}

// -----

// Tests that matmul's weight is a float tensor or a qweight.
func.func @matmul_weight_type(%x: tensor<?x256xf32>, %w: tensor<64x256xi8>) {
  // expected-error@+1 {{'qn.matmul' op operand #1 must be float tensor or !qn.qweight}}
  %0 = "qn.matmul"(%x, %w) : (tensor<?x256xf32>, tensor<64x256xi8>) -> tensor<?x64xf32>
  return
}

// -----

// Tests that gated_attention needs num_heads divisible by num_kv_heads.
func.func @attn_gqa(%qg: tensor<?x1536xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                    %pos: tensor<?xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{num_heads 3 is not a multiple of num_kv_heads 2}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(3, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x1536xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x384xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that gated_attention's packed q/gate projection has 2*Hq*Dh columns.
func.func @attn_qg(%qg: tensor<?x1024xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                   %pos: tensor<?xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{qg must be ?x2048, got ?x1024}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x1024xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that gated_attention's k has Hkv*Dh columns and T rows.
func.func @attn_k(%qg: tensor<5x2048xf32>, %k: tensor<4x256xf32>, %v: tensor<5x256xf32>, %n: tensor<128xf32>,
                  %pos: tensor<5xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{k must be 5x256, got 4x256}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<5x2048xf32>, tensor<4x256xf32>, tensor<5x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<5xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<5x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that gated_attention's norms are per head [Dh].
func.func @attn_norm(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<256xf32>,
                     %pos: tensor<?xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{q_norm must be 128, got 256}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that gated_attention's KV cache is [S, Hkv, Dh].
func.func @attn_cache(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                      %pos: tensor<?xi32>, %c: tensor<?x4x64xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{k_cache must be ?x2x128, got ?x4x64}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x4x64xf16>, tensor<?x4x64xf16>) -> (tensor<?x1024xf32>, tensor<?x4x64xf16>, tensor<?x4x64xf16>)
  return
}

// -----

// Tests that gated_attention's two caches have one type.
func.func @attn_cache_types(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                            %pos: tensor<?xi32>, %kc0: tensor<?x2x128xf16>, %vc0: tensor<?x2x128xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{k_cache and v_cache types differ: 'tensor<?x2x128xf16>' vs 'tensor<?x2x128xf32>'}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %kc0, %vc0 heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf32>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf32>)
  return
}

// -----

// Tests that gated_attention rotates an even number of dims within the head.
func.func @attn_rope(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                     %pos: tensor<?xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{rope_dims 33 must be even and in [0, head_dim = 128]}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(33, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that gated_attention's new caches have the old caches' types.
func.func @attn_result(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>, %n: tensor<128xf32>,
                       %pos: tensor<?xi32>, %c: tensor<?x2x128xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{inferred type(s) 'tensor<?x1024xf32>', 'tensor<?x2x128xf16>', 'tensor<?x2x128xf16>' are incompatible with return type(s) of operation 'tensor<?x1024xf32>', 'tensor<?x2x128xf32>', 'tensor<?x2x128xf16>'}}
  %o, %kc, %vc = qn.gated_attention %qg, %k, %v, %n, %n, %pos, %c, %c heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf32>, tensor<?x2x128xf16>)
  return
}

// -----

// Tests that conv1d_causal's weight has one row per channel.
func.func @conv_weight(%u: tensor<?x768xf32>, %w: tensor<512x4xf32>, %s: tensor<768x3xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{weight must be [C = 768, K], got 512x4}}
  %y, %s1 = qn.conv1d_causal %u, %w, %s : (tensor<?x768xf32>, tensor<512x4xf32>, tensor<768x3xf32>) -> (tensor<?x768xf32>, tensor<768x3xf32>)
  return
}

// -----

// Tests that conv1d_causal's state holds K-1 inputs per channel.
func.func @conv_state(%u: tensor<?x768xf32>, %w: tensor<768x4xf32>, %s: tensor<768x4xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{state must be 768x3, got 768x4}}
  %y, %s1 = qn.conv1d_causal %u, %w, %s : (tensor<?x768xf32>, tensor<768x4xf32>, tensor<768x4xf32>) -> (tensor<?x768xf32>, tensor<768x4xf32>)
  return
}

// -----

// Tests that conv1d_causal's input is [T, C].
func.func @conv_input(%u: tensor<768xf32>, %w: tensor<768x4xf32>, %s: tensor<768x3xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{input must be [T, C], got 768}}
  %y, %s1 = qn.conv1d_causal %u, %w, %s : (tensor<768xf32>, tensor<768x4xf32>, tensor<768x3xf32>) -> (tensor<768xf32>, tensor<768x3xf32>)
  return
}

// -----

// Tests that gated_delta_net's value heads are a multiple of the key heads.
func.func @gdn_heads(%q: tensor<?x3x64xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{value heads (4) must be a multiple of query/key heads (3)}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s
      : (tensor<?x3x64xf32>, tensor<?x3x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

// -----

// Tests that gated_delta_net's state is [Hv, dk, dv].
func.func @gdn_state(%q: tensor<?x2x64xf32>, %v: tensor<?x4x32xf32>, %g: tensor<?x4xf32>, %s: tensor<4x32x64xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{state must be 4x64x32, got 4x32x64}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x32xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x32x64xf32>)
      -> (tensor<?x4x32xf32>, tensor<4x32x64xf32>)
  return
}

// -----

// Tests that gated_delta_net's gate has one value per token and value head.
func.func @gdn_g(%q: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x2xf32>, %b: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{g must be ?x4, got ?x2}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %b, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x2xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

// -----

// Tests that gated_delta_net's q and k have one shape.
func.func @gdn_k(%q: tensor<?x2x64xf32>, %k: tensor<?x2x32xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{k must be ?x2x64, got ?x2x32}}
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %g, %s
      : (tensor<?x2x64xf32>, tensor<?x2x32xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

// -----

// Tests that gated_delta_net's operands share one element type.
func.func @gdn_types(%q: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x64x64xf16>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{all operands must have element type 'f32'}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf16>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf16>)
  return
}

// -----

// Tests that moe's expert stacks agree with the router.
func.func @moe_experts(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 4x64x256>,
                       %down: !qn.qweight<q8_0, 8x256x64>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{gate_exps must be 8x64x256, got 4x64x256}}
  %y = qn.moe %x, %router, %gate, %gate, %down top_k 2
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 4x64x256>, !qn.qweight<q4_k, 4x64x256>,
         !qn.qweight<q8_0, 8x256x64>) -> tensor<?x256xf32>
  return
}

// -----

// Tests that moe's down projection is [E, D, F].
func.func @moe_down(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
                    %down: !qn.qweight<q4_k, 8x64x256>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{down_exps must be 8x256x64, got 8x64x256}}
  %y = qn.moe %x, %router, %gate, %gate, %down top_k 2
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q4_k, 8x64x256>) -> tensor<?x256xf32>
  return
}

// -----

// Tests that moe's top_k does not exceed the expert count.
func.func @moe_top_k(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
                     %down: !qn.qweight<q8_0, 8x256x64>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{top_k = 9 must be in [1, 8] (the number of experts)}}
  %y = qn.moe %x, %router, %gate, %gate, %down top_k 9
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>) -> tensor<?x256xf32>
  return
}

// -----

// Tests that moe's shared expert has all four operands.
func.func @moe_shared_count(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
                            %down: !qn.qweight<q8_0, 8x256x64>, %sg: tensor<256xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{the shared expert needs 4 operands (gate_inp, gate, up, down), got 1}}
  %y = qn.moe %x, %router, %gate, %gate, %down shared(%sg) top_k 2
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>, tensor<256xf32>) -> tensor<?x256xf32>
  return
}

// -----

// Tests that moe's shared expert down projection is [D, Fs].
func.func @moe_shared_down(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
                           %down: !qn.qweight<q8_0, 8x256x64>, %sg: tensor<256xf32>, %sgate: tensor<32x256xf32>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{shared down must be 256x32, got 32x256}}
  %y = qn.moe %x, %router, %gate, %gate, %down shared(%sg, %sgate, %sgate, %sgate) top_k 2
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>, tensor<256xf32>, tensor<32x256xf32>, tensor<32x256xf32>, tensor<32x256xf32>)
      -> tensor<?x256xf32>
  return
}

// -----

// Tests that moe's input is [T, D] and matches the router.
func.func @moe_router(%x: tensor<?x128xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
                      %down: !qn.qweight<q8_0, 8x256x64>) {
  // expected-error@+2 {{failed to infer returned types}}
  // expected-error@+1 {{router must be [E, D = 128], got 8x256}}
  %y = qn.moe %x, %router, %gate, %gate, %down top_k 2
      : (tensor<?x128xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>) -> tensor<?x128xf32>
  return
}


// -----

// Tests that gated_delta_net's state clamp is positive.
func.func @gdn_clamp(%q: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // expected-error@+1 {{'qn.gated_delta_net' op state_clamp must be > 0, got 0}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s {state_clamp = 0.0 : f32}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

// -----

// Tests that gated_delta_net's scale is positive.
func.func @gdn_scale(%q: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>, %g: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // expected-error@+1 {{'qn.gated_delta_net' op scale must be > 0, got -1}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s {scale = -1.0 : f32}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

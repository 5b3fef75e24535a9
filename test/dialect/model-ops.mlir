// RUN: qn-opt %s --split-input-file --verify-roundtrip | FileCheck %s
// RUN: qn-opt %s --split-input-file --mlir-print-op-generic | qn-opt --split-input-file | FileCheck %s

// Tests the !qn.qweight type in every block format.
// CHECK-LABEL: func.func @qweight_formats
// CHECK-SAME: !qn.qweight<f32, 3x5>
// CHECK-SAME: !qn.qweight<f16, 7>
// CHECK-SAME: !qn.qweight<bf16, 2x3x4>
// CHECK-SAME: !qn.qweight<q4_0, 2x32>
// CHECK-SAME: !qn.qweight<q4_1, 32>
// CHECK-SAME: !qn.qweight<q5_0, 64>
// CHECK-SAME: !qn.qweight<q5_1, 96>
// CHECK-SAME: !qn.qweight<q8_0, 512x2048>
// CHECK-SAME: !qn.qweight<q2_k, 256>
// CHECK-SAME: !qn.qweight<q3_k, 512>
// CHECK-SAME: !qn.qweight<q4_k, 512x2048>
// CHECK-SAME: !qn.qweight<q5_k, 4x256>
// CHECK-SAME: !qn.qweight<q6_k, 512x2048x512>
// CHECK-SAME: !qn.qweight<iq4_nl, 32>
// CHECK-SAME: !qn.qweight<iq4_xs, 256>
// CHECK-SAME: !qn.qweight<mxfp4, 64>
func.func @qweight_formats(%a: !qn.qweight<f32, 3x5>, %b: !qn.qweight<f16, 7>, %c: !qn.qweight<bf16, 2x3x4>,
    %d: !qn.qweight<q4_0, 2x32>, %e: !qn.qweight<q4_1, 32>, %f: !qn.qweight<q5_0, 64>, %g: !qn.qweight<q5_1, 96>, %h: !qn.qweight<q8_0, 512x2048>,
    %i: !qn.qweight<q2_k, 256>, %j: !qn.qweight<q3_k, 512>, %k: !qn.qweight<q4_k, 512x2048>, %l: !qn.qweight<q5_k, 4x256>, %m: !qn.qweight<q6_k, 512x2048x512>,
    %n: !qn.qweight<iq4_nl, 32>, %o: !qn.qweight<iq4_xs, 256>, %p: !qn.qweight<mxfp4, 64>) {
  return
}

// -----

// Tests embed, rms_norm and matmul with float and quantized weights (incl. the output head).
// CHECK-LABEL: func.func @embed_norm_matmul
func.func @embed_norm_matmul(%table: !qn.qweight<q4_k, 1024x256>, %ftable: tensor<1024x256xf32>, %ids: tensor<?xi32>,
                             %w: tensor<256xf32>, %proj: !qn.qweight<q8_0, 512x256>, %fproj: tensor<64x256xf32>) -> tensor<?x1024xf32> {
  // CHECK: qn.embed %{{.*}}[%{{.*}}] : !qn.qweight<q4_k, 1024x256>, tensor<?xi32>
  %h = qn.embed %table[%ids] : !qn.qweight<q4_k, 1024x256>, tensor<?xi32>
  // CHECK: qn.embed %{{.*}}[%{{.*}}] : tensor<1024x256xf32>, tensor<?xi32>
  %h2 = qn.embed %ftable[%ids] : tensor<1024x256xf32>, tensor<?xi32>
  // Gathering rows of an activation (prefill's output rows).
  // CHECK: qn.embed %{{.*}}[%{{.*}}] : tensor<?x256xf32>, tensor<?xi32>
  %rows = qn.embed %h2[%ids] : tensor<?x256xf32>, tensor<?xi32>
  // CHECK: qn.rms_norm %{{.*}}, %{{.*}} : tensor<?x256xf32>, tensor<256xf32>
  %rows_n = qn.rms_norm %rows, %w : tensor<?x256xf32>, tensor<256xf32>
  // CHECK: qn.rms_norm %{{.*}}, %{{.*}} : tensor<?x256xf32>, tensor<256xf32>
  %a = qn.rms_norm %h, %w : tensor<?x256xf32>, tensor<256xf32>
  // CHECK: qn.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
  %a2 = qn.rms_norm %h2, %w {epsilon = 1.0e-5 : f32} : tensor<?x256xf32>, tensor<256xf32>
  // CHECK: qn.matmul %{{.*}}, %{{.*}} : tensor<?x256xf32>, !qn.qweight<q8_0, 512x256>
  %y = qn.matmul %a, %proj : tensor<?x256xf32>, !qn.qweight<q8_0, 512x256>
  // CHECK: qn.matmul %{{.*}}, %{{.*}} : tensor<?x256xf32>, tensor<64x256xf32>
  %z = qn.matmul %a2, %fproj : tensor<?x256xf32>, tensor<64x256xf32>
  // The output head reuses the embedding table when tied.
  // CHECK: qn.matmul %{{.*}}, %{{.*}} : tensor<?x256xf32>, !qn.qweight<q4_k, 1024x256>
  %logits = qn.matmul %a, %table : tensor<?x256xf32>, !qn.qweight<q4_k, 1024x256>
  return %logits : tensor<?x1024xf32>
}

// -----

// Tests gated_attention with an f16 KV cache of dynamic capacity.
// CHECK-LABEL: func.func @gated_attention
func.func @gated_attention(%qg: tensor<?x2048xf32>, %k: tensor<?x256xf32>, %v: tensor<?x256xf32>,
                           %qn: tensor<128xf32>, %kn: tensor<128xf32>, %pos: tensor<?xi32>,
                           %kc: tensor<?x2x128xf16>, %vc: tensor<?x2x128xf16>) -> tensor<?x1024xf32> {
  // CHECK: qn.gated_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} heads(8, 2) head_dim 128 rope(32, 1.000000e+07)
  // CHECK-SAME: -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  %o, %kc1, %vc1 = qn.gated_attention %qg, %k, %v, %qn, %kn, %pos, %kc, %vc heads(8, 2) head_dim 128 rope(32, 1.0e+07)
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  // CHECK: qn.gated_attention {{.*}} {epsilon = 9.99999974E-6 : f32, scale = 1.250000e-01 : f32}
  %o2, %kc2, %vc2 = qn.gated_attention %qg, %k, %v, %qn, %kn, %pos, %kc1, %vc1 heads(8, 2) head_dim 128 rope(32, 1.0e+07) {epsilon = 1.0e-5 : f32, scale = 0.125 : f32}
      : (tensor<?x2048xf32>, tensor<?x256xf32>, tensor<?x256xf32>, tensor<128xf32>, tensor<128xf32>, tensor<?xi32>,
         tensor<?x2x128xf16>, tensor<?x2x128xf16>) -> (tensor<?x1024xf32>, tensor<?x2x128xf16>, tensor<?x2x128xf16>)
  return %o2 : tensor<?x1024xf32>
}

// -----

// Tests conv1d_causal and gated_delta_net with their states, and the impl/head_mapping attributes.
// CHECK-LABEL: func.func @linear_attention
func.func @linear_attention(%u: tensor<?x768xf32>, %w: tensor<768x4xf32>, %cs: tensor<768x3xf32>,
                            %q: tensor<?x2x64xf32>, %k: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>,
                            %g: tensor<?x4xf32>, %b: tensor<?x4xf32>, %s: tensor<4x64x64xf32>) {
  // CHECK: qn.conv1d_causal %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x768xf32>, tensor<768x4xf32>, tensor<768x3xf32>) -> (tensor<?x768xf32>, tensor<768x3xf32>)
  %y, %cs1 = qn.conv1d_causal %u, %w, %cs : (tensor<?x768xf32>, tensor<768x4xf32>, tensor<768x3xf32>) -> (tensor<?x768xf32>, tensor<768x3xf32>)
  // CHECK: qn.gated_delta_net %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
  // CHECK-SAME: -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  // CHECK: qn.gated_delta_net %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} head_mapping tile impl chunked {scale = 1.250000e-01 : f32}
  %o2, %s2 = qn.gated_delta_net %q, %k, %v, %g, %b, %s1 head_mapping tile impl chunked {scale = 0.125 : f32}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  // CHECK: qn.gated_delta_net %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} impl recurrent :
  %o3, %s3 = qn.gated_delta_net %q, %k, %v, %g, %b, %s2 head_mapping interleave impl recurrent
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  // CHECK: qn.gated_delta_net {{.*}} impl fused {state_clamp = 1.000000e+06 : f32} :
  %o4, %s4 = qn.gated_delta_net %q, %k, %v, %g, %b, %s3 impl fused {state_clamp = 1.0e+06 : f32}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x64x64xf32>)
      -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  return
}

// -----

// Tests moe with and without the shared expert.
// CHECK-LABEL: func.func @moe
func.func @moe(%x: tensor<?x256xf32>, %router: tensor<8x256xf32>, %gate: !qn.qweight<q4_k, 8x64x256>,
               %up: !qn.qweight<q4_k, 8x64x256>, %down: !qn.qweight<q8_0, 8x256x64>, %sg: tensor<256xf32>,
               %sgate: !qn.qweight<q8_0, 32x256>, %sup: !qn.qweight<q8_0, 32x256>, %sdown: tensor<256x32xf32>) {
  // CHECK: qn.moe %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} shared(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) top_k 2 :
  %y = qn.moe %x, %router, %gate, %up, %down shared(%sg, %sgate, %sup, %sdown) top_k 2
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>, tensor<256xf32>, !qn.qweight<q8_0, 32x256>, !qn.qweight<q8_0, 32x256>,
         tensor<256x32xf32>) -> tensor<?x256xf32>
  // CHECK: qn.moe %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} top_k 8 {min_weight_sum = 6.10351563E-5 : f32} :
  %y2 = qn.moe %y, %router, %gate, %up, %down top_k 8 {min_weight_sum = 6.103515625e-5 : f32}
      : (tensor<?x256xf32>, tensor<8x256xf32>, !qn.qweight<q4_k, 8x64x256>, !qn.qweight<q4_k, 8x64x256>,
         !qn.qweight<q8_0, 8x256x64>) -> tensor<?x256xf32>
  return
}

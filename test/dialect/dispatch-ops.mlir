// RUN: qn-opt %s --split-input-file --verify-roundtrip | FileCheck %s
// RUN: qn-opt %s --split-input-file | qn-opt --split-input-file | FileCheck %s

// Tests that every dispatch op prints its decisions as keywords and
// round-trips: backend, weight formats and layouts, algorithm, parameters.

// CHECK-LABEL: func.func @linear
// CHECK: qn.dispatch.embed %{{.*}}[%{{.*}}] on cpu weights(q8_0:rows) :
// CHECK: qn.dispatch.rms_norm %{{.*}}, %{{.*}} on cpu epsilon 9.99999997E-7 :
// CHECK: qn.dispatch.matmul %{{.*}}, %{{.*}} on cpu weights(q4_k:rows) :
// CHECK: qn.dispatch.l2_norm %{{.*}} on cpu epsilon 9.99999997E-7 :
// CHECK: qn.dispatch.transfer %{{.*}} from cpu to cuda :
func.func @linear(%emb: !qn.qweight<q8_0, 16x256>, %ids: tensor<?xi32>,
                  %nw: tensor<256xf32>, %w: !qn.qweight<q4_k, 32x256>)
    -> tensor<?x32xf32> {
  %h = qn.dispatch.embed %emb[%ids] on cpu weights(q8_0:rows)
      : (!qn.qweight<q8_0, 16x256>, tensor<?xi32>) -> tensor<?x256xf32>
  %n = qn.dispatch.rms_norm %h, %nw on cpu epsilon 1.0e-06
      : (tensor<?x256xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %y = qn.dispatch.matmul %n, %w on cpu weights(q4_k:rows)
      : (tensor<?x256xf32>, !qn.qweight<q4_k, 32x256>) -> tensor<?x32xf32>
  %l = qn.dispatch.l2_norm %y on cpu epsilon 1.0e-06
      : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %t = qn.dispatch.transfer %l from cpu to cuda
      : (tensor<?x32xf32>) -> tensor<?x32xf32>
  return %t : tensor<?x32xf32>
}

// -----

// CHECK-LABEL: func.func @stateful
// CHECK: qn.dispatch.conv1d_causal %{{.*}}, %{{.*}}, %{{.*}} on cpu :
// CHECK: qn.dispatch.gated_delta_net {{.*}} on cpu impl fused recurrent_below 3 {state_clamp = 1.000000e+06 : f32} :
// CHECK: qn.dispatch.gated_delta_net {{.*}} on cpu impl recurrent :
// CHECK: qn.dispatch.gated_attention {{.*}} on cpu impl plain heads(2, 1) head_dim 8 rope(4, 1.000000e+07) epsilon 9.99999997E-7 :
func.func @stateful(%u: tensor<?x8xf32>, %cw: tensor<8x4xf32>,
                    %cs: tensor<8x3xf32>, %q: tensor<?x1x4xf32>,
                    %v: tensor<?x2x4xf32>, %g: tensor<?x2xf32>,
                    %s: tensor<2x4x4xf32>, %qg: tensor<?x32xf32>,
                    %k: tensor<?x8xf32>, %nrm: tensor<8xf32>,
                    %pos: tensor<?xi32>, %kc: tensor<?x1x8xf16>) {
  %y, %cs1 = qn.dispatch.conv1d_causal %u, %cw, %cs on cpu
      : (tensor<?x8xf32>, tensor<8x4xf32>, tensor<8x3xf32>)
      -> (tensor<?x8xf32>, tensor<8x3xf32>)
  %o, %s1 = qn.dispatch.gated_delta_net %q, %q, %v, %g, %g, %s on cpu
      impl fused recurrent_below 3 {state_clamp = 1.0e6 : f32}
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  %o2, %s2 = qn.dispatch.gated_delta_net %q, %q, %v, %g, %g, %s1 on cpu
      impl recurrent
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  %a, %kc1, %vc1 = qn.dispatch.gated_attention %qg, %k, %k, %nrm, %nrm, %pos,
      %kc, %kc on cpu impl plain heads(2, 1) head_dim 8 rope(4, 1.0e7)
      epsilon 1.0e-06
      : (tensor<?x32xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>,
         tensor<8xf32>, tensor<?xi32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
      -> (tensor<?x16xf32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
  return
}

// -----

// CHECK-LABEL: func.func @moe
// CHECK: qn.dispatch.moe {{.*}} shared({{.*}}) on cpu top_k 2 weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows, f32:rows, q8_0:rows, q8_0:rows, q8_0:rows) :
func.func @moe(%x: tensor<?x256xf32>, %r: tensor<4x256xf32>,
               %g: !qn.qweight<q4_k, 4x256x256>, %d: !qn.qweight<q6_k, 4x256x256>,
               %sgi: tensor<256xf32>, %sg: !qn.qweight<q8_0, 64x256>,
               %sd: !qn.qweight<q8_0, 256x64>) -> tensor<?x256xf32> {
  %y = qn.dispatch.moe %x, %r, %g, %g, %d shared(%sgi, %sg, %sg, %sd) on cpu
      top_k 2 weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows, f32:rows,
                      q8_0:rows, q8_0:rows, q8_0:rows)
      : (tensor<?x256xf32>, tensor<4x256xf32>, !qn.qweight<q4_k, 4x256x256>,
         !qn.qweight<q4_k, 4x256x256>, !qn.qweight<q6_k, 4x256x256>,
         tensor<256xf32>, !qn.qweight<q8_0, 64x256>, !qn.qweight<q8_0, 64x256>,
         !qn.qweight<q8_0, 256x64>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

// CHECK-LABEL: func.func @chain
// CHECK: qn.dispatch.elementwise(%{{.*}}, %{{.*}}) on cpu kernel "prefill.g-0" : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> {
// CHECK: ^bb0(%[[X:.*]]: tensor<?x2xf32>, %[[Y:.*]]: tensor<2xf32>):
// CHECK-NEXT: %[[S:.*]] = qn.add %[[X]], %[[Y]]
// CHECK-NEXT: %[[T:.*]] = qn.tanh %[[S]]
// CHECK-NEXT: qn.dispatch.yield %[[T]] : tensor<?x2xf32>
func.func @chain(%a: tensor<?x2xf32>, %b: tensor<2xf32>) -> tensor<?x2xf32> {
  %r = qn.dispatch.elementwise (%a, %b) on cpu kernel "prefill.g-0"
      : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> {
  ^bb0(%x: tensor<?x2xf32>, %y: tensor<2xf32>):
    %s = qn.add %x, %y : tensor<?x2xf32>, tensor<2xf32>
    %t = qn.tanh %s : tensor<?x2xf32>
    qn.dispatch.yield %t : tensor<?x2xf32>
  }
  return %r : tensor<?x2xf32>
}

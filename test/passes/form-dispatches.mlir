// RUN: qn-opt %s --split-input-file --qn-form-dispatches | FileCheck %s
// RUN: qn-opt %s --split-input-file --qn-form-dispatches="backend=cuda" | FileCheck %s --check-prefix=CUDA

// Tests that every model op becomes its dispatch op with the weight's
// format, the backend and the op's parameters; shape ops stay (they are
// views or copies, decided with the buffers).
// CHECK-LABEL: func.func @prefill
// CHECK: qn.dispatch.embed %{{.*}}[%{{.*}}] on cpu weights(q8_0:rows) {qn.name = "h"}
// CHECK: qn.dispatch.rms_norm %{{.*}}, %{{.*}} on cpu epsilon 9.99999997E-7 {qn.name = "n"}
// CHECK: qn.reshape
// CHECK: qn.slice
// CHECK: qn.dispatch.matmul %{{.*}}, %{{.*}} on cpu weights(q4_k:rows) {qn.name = "y"}
// CHECK: qn.dispatch.l2_norm %{{.*}} on cpu epsilon 9.99999997E-7 {qn.name = "l"}
// CHECK-NOT: qn.matmul
// CHECK-NOT: qn.embed
// CUDA-LABEL: func.func @prefill
// CUDA: qn.dispatch.embed %{{.*}}[%{{.*}}] on cuda
// CUDA: qn.dispatch.matmul %{{.*}}, %{{.*}} on cuda weights(q4_k:rows)
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: !qn.qweight<q8_0, 16x256> {qn.weight = "token_embd.weight"},
                   %nw: tensor<256xf32> {qn.weight = "n.weight"},
                   %w: !qn.qweight<q4_k, 8x256> {qn.weight = "w"})
    -> (tensor<?x8xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : !qn.qweight<q8_0, 16x256>, tensor<?xi32>
  %n = qn.rms_norm %h, %nw {qn.name = "n"} : tensor<?x256xf32>, tensor<256xf32>
  %r = qn.reshape %n {qn.name = "r"} : tensor<?x256xf32> -> tensor<?x2x128xf32>
  %s = qn.slice %r [0, 0, 0] [-1, 2, 128] [1, 1, 1] {qn.name = "s"} : tensor<?x2x128xf32>
  %f = qn.reshape %s {qn.name = "f"} : tensor<?x2x128xf32> -> tensor<?x256xf32>
  %y = qn.matmul %f, %w {qn.name = "y"} : tensor<?x256xf32>, !qn.qweight<q4_k, 8x256>
  %l = qn.l2_norm %y {qn.name = "l"} : tensor<?x8xf32>
  return %l : tensor<?x8xf32>
}

// -----

// Tests elementwise trees: add -> softplus -> mul is one dispatch whose
// body is the tree (the names stay on the ops inside); the same tree in the
// next layer shares its kernel; a tree with other shapes gets its own; a
// value used twice (%s) ends a tree.
// CHECK-LABEL: func.func @prefill
// CHECK: %[[G0:.*]] = qn.dispatch.elementwise(%{{.*}}, %{{.*}}, %{{.*}}) on cpu kernel "prefill.g-0" {qn.name = "g-0"} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32> {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<?x2xf32>, %[[B:.*]]: tensor<2xf32>, %[[A:.*]]: tensor<2xf32>):
// CHECK-NEXT: %[[S:.*]] = qn.add %[[X]], %[[B]] {qn.name = "a-0"}
// CHECK-NEXT: %[[P:.*]] = qn.softplus %[[S]] {qn.name = "s-0"}
// CHECK-NEXT: %[[M:.*]] = qn.mul %[[P]], %[[A]] {qn.name = "g-0"}
// CHECK-NEXT: qn.dispatch.yield %[[M]]
// CHECK: qn.dispatch.elementwise({{.*}}) on cpu kernel "prefill.g-0" {qn.name = "g-1"}
// CHECK: qn.dispatch.elementwise({{.*}}) on cpu kernel "prefill.e" {qn.name = "e"} : (tensor<?x4xf32>) -> tensor<?x4xf32>
// CHECK: %[[T:.*]] = qn.dispatch.elementwise({{.*}}) on cpu kernel "prefill.t" {qn.name = "t"}
// CHECK: qn.dispatch.elementwise(%[[T]]) on cpu kernel "prefill.u" {qn.name = "u"}
func.func @prefill(%x: tensor<?x2xf32>, %b: tensor<2xf32>, %a: tensor<2xf32>,
                   %z: tensor<?x4xf32>)
    -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %0 = qn.add %x, %b {qn.name = "a-0"} : tensor<?x2xf32>, tensor<2xf32>
  %1 = qn.softplus %0 {qn.name = "s-0"} : tensor<?x2xf32>
  %2 = qn.mul %1, %a {qn.name = "g-0"} : tensor<?x2xf32>, tensor<2xf32>
  %3 = qn.add %2, %b {qn.name = "a-1"} : tensor<?x2xf32>, tensor<2xf32>
  %4 = qn.softplus %3 {qn.name = "s-1"} : tensor<?x2xf32>
  %5 = qn.mul %4, %a {qn.name = "g-1"} : tensor<?x2xf32>, tensor<2xf32>
  %6 = qn.exp %z {qn.name = "e"} : tensor<?x4xf32>
  %7 = qn.tanh %z {qn.name = "t"} : tensor<?x4xf32>
  %8 = qn.mul %7, %7 {qn.name = "u"} : tensor<?x4xf32>, tensor<?x4xf32>
  return %2, %5, %6, %8 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// Tests the stateful ops and MoE: states in and out, every weight's format
// in operand order, the attention algorithm, the backend qn-assign-backends
// wrote (qn.backend) over the pass option.
// CHECK-LABEL: func.func @layer
// CHECK: qn.dispatch.conv1d_causal %{{.*}}, %{{.*}}, %{{.*}} on cpu {qn.name = "c"}
// CHECK: qn.dispatch.gated_attention {{.*}} on cpu impl plain heads(2, 1) head_dim 8 rope(4, 1.000000e+07) epsilon 9.99999997E-7 {qn.name = "att"}
// CHECK: qn.dispatch.moe {{.*}} on cpu top_k 2 weights(f32:rows, q4_k:rows, q4_k:rows, q6_k:rows) {qn.name = "moe"}
// CUDA-LABEL: func.func @layer
// CUDA: qn.dispatch.conv1d_causal {{.*}} on cuda
// CUDA: qn.dispatch.gated_attention {{.*}} on cpu impl plain
// CUDA: qn.dispatch.moe {{.*}} on cuda
func.func @layer(%u: tensor<?x8xf32>, %cw: tensor<8x4xf32>, %cs: tensor<8x3xf32>,
                 %qg: tensor<?x32xf32>, %k: tensor<?x8xf32>, %nrm: tensor<8xf32>,
                 %pos: tensor<?xi32>, %kc: tensor<?x1x8xf16>,
                 %x: tensor<?x256xf32>, %r: tensor<4x256xf32>,
                 %g: !qn.qweight<q4_k, 4x256x256>, %d: !qn.qweight<q6_k, 4x256x256>)
    -> (tensor<?x8xf32>, tensor<?x16xf32>, tensor<?x256xf32>) {
  %y, %cs1 = qn.conv1d_causal %u, %cw, %cs {qn.name = "c"}
      : (tensor<?x8xf32>, tensor<8x4xf32>, tensor<8x3xf32>)
      -> (tensor<?x8xf32>, tensor<8x3xf32>)
  %a, %kc1, %vc1 = qn.gated_attention %qg, %k, %k, %nrm, %nrm, %pos, %kc, %kc
      heads(2, 1) head_dim 8 rope(4, 1.0e7) {qn.name = "att", qn.backend = "cpu"}
      : (tensor<?x32xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>,
         tensor<8xf32>, tensor<?xi32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
      -> (tensor<?x16xf32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
  %m = qn.moe %x, %r, %g, %g, %d top_k 2 {qn.name = "moe"}
      : (tensor<?x256xf32>, tensor<4x256xf32>, !qn.qweight<q4_k, 4x256x256>,
         !qn.qweight<q4_k, 4x256x256>, !qn.qweight<q6_k, 4x256x256>)
      -> tensor<?x256xf32>
  return %y, %a, %m : tensor<?x8xf32>, tensor<?x16xf32>, tensor<?x256xf32>
}

// -----

// Tests a transfer: from the producer's backend to its target.
// CHECK-LABEL: func.func @split
// CHECK: qn.dispatch.l2_norm %{{.*}} on cuda
// CHECK: qn.dispatch.transfer %{{.*}} from cuda to cpu
// CHECK: qn.dispatch.l2_norm %{{.*}} on cpu
func.func @split(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %a = qn.l2_norm %x {qn.backend = "cuda"} : tensor<?x8xf32>
  %t = qn.transfer %a to "cpu" : tensor<?x8xf32>
  %b = qn.l2_norm %t {qn.backend = "cpu"} : tensor<?x8xf32>
  return %b : tensor<?x8xf32>
}

// -----

// Tests that the tile head mapping (qwen35 files: v head h reads key head
// h mod Hk) and IMRoPE sections reach the dispatch ops, where the kernels
// read them.
// CHECK-LABEL: func.func @qwen35
// CHECK: qn.dispatch.gated_delta_net {{.*}} on cpu impl fused head_mapping tile :
// CHECK: qn.dispatch.gated_attention {{.*}}rope_sections = array<i64: 3, 1, 0, 0>
func.func @qwen35(%q: tensor<?x2x4xf32>, %v: tensor<?x4x4xf32>,
                  %g: tensor<?x4xf32>, %s: tensor<4x4x4xf32>,
                  %qg: tensor<?x16xf32>, %k: tensor<?x4xf32>,
                  %n: tensor<4xf32>, %pos: tensor<?xi32>,
                  %kc: tensor<?x1x4xf16>) {
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s head_mapping tile impl fused
      : (tensor<?x2x4xf32>, tensor<?x2x4xf32>, tensor<?x4x4xf32>,
         tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x4x4xf32>)
      -> (tensor<?x4x4xf32>, tensor<4x4x4xf32>)
  %a, %kc1, %vc1 = qn.gated_attention %qg, %k, %k, %n, %n, %pos, %kc, %kc
      heads(2, 1) head_dim 4 rope(4, 1.0e+07) {rope_sections = array<i64: 3, 1, 0, 0>}
      : (tensor<?x16xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4xf32>,
         tensor<4xf32>, tensor<?xi32>, tensor<?x1x4xf16>, tensor<?x1x4xf16>)
      -> (tensor<?x8xf32>, tensor<?x1x4xf16>, tensor<?x1x4xf16>)
  return
}

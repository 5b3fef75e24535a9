// RUN: qn-opt %s --split-input-file --qn-form-dispatches | FileCheck %s

// Tests views and copies: a reshape and a slice are views of the embedding
// (no copy, slot of their storage), the reshape of the strided slice cannot
// be a view, so it is a copy and the matmul reads the copy.
// CHECK-LABEL: func.func @prefill
// CHECK: qn.embed {{.*}}{qn.dispatch = "embed", qn.name = "h", qn.slot = array<i64: 0>}
// CHECK: qn.reshape {{.*}}{qn.dispatch = "view", qn.name = "r", qn.offset = 0 : i64, qn.slot = array<i64: 0>, qn.strides = array<i64: 24, 6, 1>}
// CHECK: qn.slice {{.*}}{qn.dispatch = "view", qn.name = "s", qn.offset = 2 : i64, qn.slot = array<i64: 0>, qn.strides = array<i64: 24, 6, 1>}
// CHECK: qn.reshape {{.*}}{qn.copies = ["s.copy"], qn.dispatch = "copy", qn.name = "f", qn.offset = 0 : i64, qn.slot = array<i64: 1>, qn.strides = array<i64: 12, 1>}
// CHECK: qn.matmul {{.*}}{qn.dispatch = "matmul", qn.name = "y", qn.slot = array<i64: 0>}
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"},
                   %w: tensor<8x12xf32> {qn.weight = "w"})
    -> (tensor<?x8xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %r = qn.reshape %h {qn.name = "r"} : tensor<?x24xf32> -> tensor<?x4x6xf32>
  %s = qn.slice %r [0, 0, 2] [-1, 4, 3] [1, 1, 1] {qn.name = "s"} : tensor<?x4x6xf32>
  %f = qn.reshape %s {qn.name = "f"} : tensor<?x4x3xf32> -> tensor<?x12xf32>
  %y = qn.matmul %f, %w {qn.name = "y"} : tensor<?x12xf32>, tensor<8x12xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Tests a concat: scratch written by one copy per piece; the strided slice
// is copied straight into its part (no "b.copy"), and the matmul that reads
// the slice directly gets a contiguous copy first. Slots: `a` stays live
// until b.copy reads it through `b`, so y needs a third slot.
// CHECK-LABEL: func.func @prefill
// CHECK: qn.slice {{.*}}{qn.dispatch = "view", qn.name = "b", qn.offset = 8 : i64, qn.slot = array<i64: 0>, qn.strides = array<i64: 24, 1>}
// CHECK: qn.concat {{.*}}{qn.copies = ["c.part0", "c.part1"], qn.dispatch = "copy", qn.name = "c", qn.slot = array<i64: 1>}
// CHECK: qn.matmul {{.*}}{qn.dispatch = "matmul", qn.name = "y", qn.slot = array<i64: 2>}
// CHECK: qn.matmul {{.*}}{qn.copies = ["b.copy"], qn.dispatch = "matmul", qn.name = "z", qn.slot = array<i64: 0>}
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"},
                   %w: tensor<8x32xf32> {qn.weight = "w"},
                   %w2: tensor<8x8xf32> {qn.weight = "w2"})
    -> (tensor<?x8xf32> {qn.output = "logits"}) {
  %a = qn.embed %emb[%tok] {qn.name = "a"} : tensor<16x24xf32>, tensor<?xi32>
  %b = qn.slice %a [0, 8] [-1, 8] [1, 1] {qn.name = "b"} : tensor<?x24xf32>
  %c = qn.concat %a, %b along 1 {qn.name = "c"} : tensor<?x24xf32>, tensor<?x8xf32>
  %y = qn.matmul %c, %w {qn.name = "y"} : tensor<?x32xf32>, tensor<8x32xf32>
  %z = qn.matmul %b, %w2 {qn.name = "z"} : tensor<?x8xf32>, tensor<8x8xf32>
  %o = qn.add %y, %z {qn.name = "o"} : tensor<?x8xf32>, tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

// Tests elementwise chains: add -> softplus -> mul is one elementwise
// dispatch at the root; its members carry the kernel and no dispatch of
// their own. The second, identical chain (another layer) shares the
// first's kernel.
// CHECK-LABEL: func.func @prefill
// CHECK: qn.add {{.*}}{qn.kernel = "prefill.g-0", qn.name = "a-0"}
// CHECK-NEXT: qn.softplus {{.*}}{qn.kernel = "prefill.g-0", qn.name = "s-0"}
// CHECK-NEXT: qn.mul {{.*}}{qn.dispatch = "elementwise", qn.kernel = "prefill.g-0", qn.name = "g-0", qn.slot = array<i64: 1>}
// CHECK-NEXT: qn.add {{.*}}{qn.kernel = "prefill.g-0", qn.name = "a-1"}
// CHECK-NEXT: qn.softplus {{.*}}{qn.kernel = "prefill.g-0", qn.name = "s-1"}
// CHECK-NEXT: qn.mul {{.*}}{qn.dispatch = "elementwise", qn.kernel = "prefill.g-0", qn.name = "g-1", qn.slot = array<i64: 0>}
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x8xf32> {qn.weight = "token_embd.weight"},
                   %bias: tensor<8xf32> {qn.weight = "bias"})
    -> (tensor<?x8xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x8xf32>, tensor<?xi32>
  %a0 = qn.add %h, %bias {qn.name = "a-0"} : tensor<?x8xf32>, tensor<8xf32>
  %s0 = qn.softplus %a0 {qn.name = "s-0"} : tensor<?x8xf32>
  %g0 = qn.mul %s0, %h {qn.name = "g-0"} : tensor<?x8xf32>, tensor<?x8xf32>
  %a1 = qn.add %g0, %bias {qn.name = "a-1"} : tensor<?x8xf32>, tensor<8xf32>
  %s1 = qn.softplus %a1 {qn.name = "s-1"} : tensor<?x8xf32>
  %g1 = qn.mul %s1, %g0 {qn.name = "g-1"} : tensor<?x8xf32>, tensor<?x8xf32>
  return %g1 : tensor<?x8xf32>
}

// -----

// Tests that functions other than @prefill and @decode are left alone.
// CHECK-LABEL: func.func @helper
// CHECK-NOT: qn.dispatch
func.func @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = qn.silu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

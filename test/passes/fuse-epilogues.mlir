// RUN: qn-opt %s --split-input-file --qn-form-dispatches --qn-fuse-epilogues | FileCheck %s
// RUN: qn-opt %s --split-input-file --qn-form-dispatches | FileCheck %s --check-prefix=OFF

// Tests the residual add after an output projection: fused into the
// matmul, which takes the add's name; without the pass it stays an
// elementwise dispatch.
// CHECK-LABEL: func.func @residual
// CHECK: %[[H:.*]] = qn.dispatch.embed
// CHECK: %[[Y:.*]] = qn.dispatch.matmul %{{.*}}, %{{.*}} residual(%[[H]]) on cpu weights(q8_0:rows) {qn.name = "attn_residual-3"} : (tensor<?x64xf32>, !qn.qweight<q8_0, 64x64>, tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK-NOT: qn.dispatch.elementwise
// CHECK: return %[[Y]]
// OFF-LABEL: func.func @residual
// OFF: qn.dispatch.matmul %{{.*}}, %{{.*}} on cpu weights(q8_0:rows) {qn.name = "attn_out-3"}
// OFF: qn.dispatch.elementwise({{.*}}) on cpu kernel "residual.attn_residual-3" {qn.name = "attn_residual-3"}
func.func @residual(%tok: tensor<?xi32>, %emb: tensor<16x64xf32>,
                    %w: !qn.qweight<q8_0, 64x64>) -> tensor<?x64xf32> {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x64xf32>, tensor<?xi32>
  %y = qn.matmul %h, %w {qn.name = "attn_out-3"} : tensor<?x64xf32>, !qn.qweight<q8_0, 64x64>
  %r = qn.add %h, %y {qn.name = "attn_residual-3"} : tensor<?x64xf32>, tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// Tests the cases where it does not pay or cannot be done: the product has
// another reader (it is written anyway); the add broadcasts; the add is part
// of a longer chain (its body is not one add); the other operand is
// computed after the matmul.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: residual(
// CHECK: return
func.func @not_fused(%x: tensor<?x64xf32>, %w: tensor<64x64xf32>,
                     %bias: tensor<64xf32>)
    -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>,
        tensor<?x64xf32>) {
  %y1 = qn.matmul %x, %w {qn.name = "y1"} : tensor<?x64xf32>, tensor<64x64xf32>
  %a1 = qn.add %x, %y1 {qn.name = "a1"} : tensor<?x64xf32>, tensor<?x64xf32>
  %y2 = qn.matmul %x, %w {qn.name = "y2"} : tensor<?x64xf32>, tensor<64x64xf32>
  %a2 = qn.add %y2, %bias {qn.name = "a2"} : tensor<?x64xf32>, tensor<64xf32>
  %y3 = qn.matmul %x, %w {qn.name = "y3"} : tensor<?x64xf32>, tensor<64x64xf32>
  %s3 = qn.add %x, %y3 {qn.name = "s3"} : tensor<?x64xf32>, tensor<?x64xf32>
  %a3 = qn.silu %s3 {qn.name = "a3"} : tensor<?x64xf32>
  %y4 = qn.matmul %x, %w {qn.name = "y4"} : tensor<?x64xf32>, tensor<64x64xf32>
  %late = qn.l2_norm %x {qn.name = "late"} : tensor<?x64xf32>
  %a4 = qn.add %y4, %late {qn.name = "a4"} : tensor<?x64xf32>, tensor<?x64xf32>
  return %y1, %a2, %a3, %a4, %a1 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Tests an add of two products: the later matmul takes the earlier one's
// result as its residual.
// CHECK-LABEL: func.func @two_products
// CHECK: %[[A:.*]] = qn.dispatch.matmul %{{.*}}, %{{.*}} on cpu weights(f32:rows) {qn.name = "a"}
// CHECK-NEXT: qn.dispatch.matmul %{{.*}}, %{{.*}} residual(%[[A]]) on cpu weights(f32:rows) {qn.name = "s"}
func.func @two_products(%x: tensor<?x64xf32>, %w: tensor<64x64xf32>) -> tensor<?x64xf32> {
  %a = qn.matmul %x, %w {qn.name = "a"} : tensor<?x64xf32>, tensor<64x64xf32>
  %b = qn.matmul %x, %w {qn.name = "b"} : tensor<?x64xf32>, tensor<64x64xf32>
  %s = qn.add %a, %b {qn.name = "s"} : tensor<?x64xf32>, tensor<?x64xf32>
  return %s : tensor<?x64xf32>
}

// RUN: qn-opt %s --split-input-file --qn-fuse-repeat-broadcast | FileCheck %s
// RUN: qn-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qn-fuse-repeat-broadcast{report=true}))' --verify-diagnostics > /dev/null

// Tests that sub(repeat(x), y) reads x directly when the repeat stretches a size-1 dim.
// CHECK-LABEL: func.func @sub_lhs
// CHECK-SAME: (%[[X:.*]]: tensor<64x1xf32>, %[[Y:.*]]: tensor<64x64xf32>)
// CHECK-NOT: qn.repeat
// CHECK: %[[R:.*]] = qn.sub %[[X]], %[[Y]] : tensor<64x1xf32>, tensor<64x64xf32>
// CHECK: return %[[R]]
func.func @sub_lhs(%x: tensor<64x1xf32>, %y: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %r = qn.repeat %x, [1, 64] : tensor<64x1xf32>
  // expected-remark@+1 {{operand 0 ('qn.repeat' by [1, 64]) fused into broadcasting}}
  %d = qn.sub %r, %y : tensor<64x64xf32>, tensor<64x64xf32>
  return %d : tensor<64x64xf32>
}

// -----

// Tests that sub(x, repeat(y)) reads y directly.
// CHECK-LABEL: func.func @sub_rhs
// CHECK-SAME: (%[[X:.*]]: tensor<4x64x64xf32>, %[[Y:.*]]: tensor<4x1x64xf32>)
// CHECK-NOT: qn.repeat
// CHECK: qn.sub %[[X]], %[[Y]] : tensor<4x64x64xf32>, tensor<4x1x64xf32>
func.func @sub_rhs(%x: tensor<4x64x64xf32>, %y: tensor<4x1x64xf32>) -> tensor<4x64x64xf32> {
  %r = qn.repeat %y, [1, 64, 1] : tensor<4x1x64xf32>
  // expected-remark@+1 {{operand 1 ('qn.repeat' by [1, 64, 1]) fused into broadcasting}}
  %d = qn.sub %x, %r : tensor<4x64x64xf32>, tensor<4x64x64xf32>
  return %d : tensor<4x64x64xf32>
}

// -----

// Tests the add, mul and div forms on both sides.
// CHECK-LABEL: func.func @add_mul_div
// CHECK-SAME: (%[[X:.*]]: tensor<1x8xf32>, %[[Y:.*]]: tensor<6x8xf32>)
// CHECK-NOT: qn.repeat
// CHECK: %[[A:.*]] = qn.add %[[X]], %[[Y]] : tensor<1x8xf32>, tensor<6x8xf32>
// CHECK: %[[B:.*]] = qn.add %[[Y]], %[[X]] : tensor<6x8xf32>, tensor<1x8xf32>
// CHECK: %[[C:.*]] = qn.mul %[[X]], %[[A]] : tensor<1x8xf32>, tensor<6x8xf32>
// CHECK: %[[D:.*]] = qn.mul %[[B]], %[[X]] : tensor<6x8xf32>, tensor<1x8xf32>
// CHECK: %[[E:.*]] = qn.div %[[X]], %[[C]] : tensor<1x8xf32>, tensor<6x8xf32>
// CHECK: qn.div %[[D]], %[[X]] : tensor<6x8xf32>, tensor<1x8xf32>
func.func @add_mul_div(%x: tensor<1x8xf32>, %y: tensor<6x8xf32>) -> (tensor<6x8xf32>, tensor<6x8xf32>) {
  %r = qn.repeat %x, [6, 1] : tensor<1x8xf32>
  // expected-remark@+1 {{operand 0}}
  %a = qn.add %r, %y : tensor<6x8xf32>, tensor<6x8xf32>
  // expected-remark@+1 {{operand 1}}
  %b = qn.add %y, %r : tensor<6x8xf32>, tensor<6x8xf32>
  // expected-remark@+1 {{operand 0}}
  %c = qn.mul %r, %a : tensor<6x8xf32>, tensor<6x8xf32>
  // expected-remark@+1 {{operand 1}}
  %d = qn.mul %b, %r : tensor<6x8xf32>, tensor<6x8xf32>
  // expected-remark@+1 {{operand 0}}
  %e = qn.div %r, %c : tensor<6x8xf32>, tensor<6x8xf32>
  // expected-remark@+1 {{operand 1}}
  %f = qn.div %d, %r : tensor<6x8xf32>, tensor<6x8xf32>
  return %e, %f : tensor<6x8xf32>, tensor<6x8xf32>
}

// -----

// Tests the chunked delta rule's outer difference D[i][j] = G[i] - G[j]: both
// repeats disappear and one broadcast subtract of two reshaped views remains.
// CHECK-LABEL: func.func @outer_difference
// CHECK-SAME: (%[[G:.*]]: tensor<64xf32>)
// CHECK-DAG: %[[COL:.*]] = qn.reshape %[[G]] : tensor<64xf32> -> tensor<64x1xf32>
// CHECK-DAG: %[[ROW:.*]] = qn.reshape %[[G]] : tensor<64xf32> -> tensor<1x64xf32>
// CHECK-NOT: qn.repeat
// CHECK: %[[D:.*]] = qn.sub %[[COL]], %[[ROW]] : tensor<64x1xf32>, tensor<1x64xf32>
// CHECK-NEXT: return %[[D]] : tensor<64x64xf32>
func.func @outer_difference(%g: tensor<64xf32>) -> tensor<64x64xf32> {
  %col = qn.reshape %g : tensor<64xf32> -> tensor<64x1xf32>
  %gi = qn.repeat %col, [1, 64] : tensor<64x1xf32>
  %row = qn.reshape %g : tensor<64xf32> -> tensor<1x64xf32>
  %gj = qn.repeat %row, [64, 1] : tensor<1x64xf32>
  // expected-remark@+2 {{operand 0}}
  // expected-remark@+1 {{operand 1}}
  %d = qn.sub %gi, %gj : tensor<64x64xf32>, tensor<64x64xf32>
  return %d : tensor<64x64xf32>
}

// -----

// Tests the batched ggml form (chunks x heads leading dims) of the outer difference.
// CHECK-LABEL: func.func @outer_difference_batched
// CHECK-NOT: qn.repeat
// CHECK: qn.sub %{{.*}}, %{{.*}} : tensor<4x2x64x1xf32>, tensor<4x2x1x64xf32>
func.func @outer_difference_batched(%g: tensor<4x2x64xf32>) -> tensor<4x2x64x64xf32> {
  %col = qn.reshape %g : tensor<4x2x64xf32> -> tensor<4x2x64x1xf32>
  %gi = qn.repeat %col, [1, 1, 1, 64] : tensor<4x2x64x1xf32>
  %row = qn.reshape %g : tensor<4x2x64xf32> -> tensor<4x2x1x64xf32>
  %gj = qn.repeat %row, [1, 1, 64, 1] : tensor<4x2x1x64xf32>
  // expected-remark@+2 {{operand 0}}
  // expected-remark@+1 {{operand 1}}
  %d = qn.sub %gi, %gj : tensor<4x2x64x64xf32>, tensor<4x2x64x64xf32>
  return %d : tensor<4x2x64x64xf32>
}

// -----

// Tests that a repeat tiling a dimension larger than 1 is kept (tiling is not broadcasting).
// CHECK-LABEL: func.func @tile_not_broadcast
// CHECK: %[[R:.*]] = qn.repeat %{{.*}}, [2, 1] : tensor<3x8xf32>
// CHECK: qn.sub %[[R]], %{{.*}} : tensor<6x8xf32>, tensor<6x8xf32>
func.func @tile_not_broadcast(%x: tensor<3x8xf32>, %y: tensor<6x8xf32>) -> tensor<6x8xf32> {
  %r = qn.repeat %x, [2, 1] : tensor<3x8xf32>
  %d = qn.sub %r, %y : tensor<6x8xf32>, tensor<6x8xf32>
  return %d : tensor<6x8xf32>
}

// -----

// Tests that a repeat of a size-1 dim is kept when broadcasting would give a
// different result shape (the other operand is also 1 along that dim).
// CHECK-LABEL: func.func @shape_would_change
// CHECK: %[[R:.*]] = qn.repeat %{{.*}}, [1, 4] : tensor<2x1xf32>
// CHECK: qn.mul %[[R]], %{{.*}} : tensor<2x4xf32>, tensor<2x1xf32>
func.func @shape_would_change(%x: tensor<2x1xf32>, %y: tensor<2x1xf32>) -> tensor<2x4xf32> {
  %r = qn.repeat %x, [1, 4] : tensor<2x1xf32>
  %d = qn.mul %r, %y : tensor<2x4xf32>, tensor<2x1xf32>
  return %d : tensor<2x4xf32>
}

// -----

// Tests that the repeat of the other operand is still fused when one operand
// cannot be: only the broadcastable side changes.
// CHECK-LABEL: func.func @one_side_only
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[Y:.*]]: tensor<1x8xf32>)
// CHECK: %[[R:.*]] = qn.repeat %[[X]], [2, 1] : tensor<3x8xf32>
// CHECK: qn.add %[[R]], %[[Y]] : tensor<6x8xf32>, tensor<1x8xf32>
func.func @one_side_only(%x: tensor<3x8xf32>, %y: tensor<1x8xf32>) -> tensor<6x8xf32> {
  %r = qn.repeat %x, [2, 1] : tensor<3x8xf32>
  %s = qn.repeat %y, [6, 1] : tensor<1x8xf32>
  // expected-remark@+1 {{operand 1}}
  %d = qn.add %r, %s : tensor<6x8xf32>, tensor<6x8xf32>
  return %d : tensor<6x8xf32>
}

// -----

// Tests that a repeat with another user stays for that user.
// CHECK-LABEL: func.func @repeat_other_user
// CHECK-SAME: (%[[X:.*]]: tensor<64x1xf32>, %[[Y:.*]]: tensor<64x64xf32>)
// CHECK: %[[R:.*]] = qn.repeat %[[X]], [1, 64] : tensor<64x1xf32>
// CHECK: %[[D:.*]] = qn.sub %[[X]], %[[Y]] : tensor<64x1xf32>, tensor<64x64xf32>
// CHECK: %[[E:.*]] = qn.exp %[[R]] : tensor<64x64xf32>
// CHECK: return %[[D]], %[[E]]
func.func @repeat_other_user(%x: tensor<64x1xf32>, %y: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<64x64xf32>) {
  %r = qn.repeat %x, [1, 64] : tensor<64x1xf32>
  // expected-remark@+1 {{operand 0}}
  %d = qn.sub %r, %y : tensor<64x64xf32>, tensor<64x64xf32>
  %e = qn.exp %r : tensor<64x64xf32>
  return %d, %e : tensor<64x64xf32>, tensor<64x64xf32>
}

// -----

// Tests a chain: the result of one fused op feeds the next, each repeat goes.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: tensor<1x16xf32>, %[[Y:.*]]: tensor<8x16xf32>, %[[Z:.*]]: tensor<8x1xf32>)
// CHECK-NOT: qn.repeat
// CHECK: %[[A:.*]] = qn.sub %[[X]], %[[Y]] : tensor<1x16xf32>, tensor<8x16xf32>
// CHECK: %[[B:.*]] = qn.mul %[[A]], %[[Z]] : tensor<8x16xf32>, tensor<8x1xf32>
// CHECK: qn.add %[[B]], %[[X]] : tensor<8x16xf32>, tensor<1x16xf32>
func.func @chain(%x: tensor<1x16xf32>, %y: tensor<8x16xf32>, %z: tensor<8x1xf32>) -> tensor<8x16xf32> {
  %rx = qn.repeat %x, [8, 1] : tensor<1x16xf32>
  %rz = qn.repeat %z, [1, 16] : tensor<8x1xf32>
  // expected-remark@+1 {{operand 0}}
  %a = qn.sub %rx, %y : tensor<8x16xf32>, tensor<8x16xf32>
  // expected-remark@+1 {{operand 1}}
  %b = qn.mul %a, %rz : tensor<8x16xf32>, tensor<8x16xf32>
  // expected-remark@+1 {{operand 1}}
  %c = qn.add %b, %rx : tensor<8x16xf32>, tensor<8x16xf32>
  return %c : tensor<8x16xf32>
}

// -----

// Tests dynamic shapes: a dynamic dim that is not repeated is fine.
// CHECK-LABEL: func.func @dynamic_ok
// CHECK-NOT: qn.repeat
// CHECK: qn.sub %{{.*}}, %{{.*}} : tensor<?x1xf32>, tensor<?x32xf32>
func.func @dynamic_ok(%x: tensor<?x1xf32>, %y: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = qn.repeat %x, [1, 32] : tensor<?x1xf32>
  // expected-remark@+1 {{operand 0}}
  %d = qn.sub %r, %y : tensor<?x32xf32>, tensor<?x32xf32>
  return %d : tensor<?x32xf32>
}

// -----

// Tests dynamic shapes: repeating a dim of unknown size may tile, so it is kept.
// CHECK-LABEL: func.func @dynamic_repeated_dim
// CHECK: %[[R:.*]] = qn.repeat %{{.*}}, [4, 1] : tensor<?x32xf32>
// CHECK: qn.sub %[[R]], %{{.*}}
func.func @dynamic_repeated_dim(%x: tensor<?x32xf32>, %y: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = qn.repeat %x, [4, 1] : tensor<?x32xf32>
  %d = qn.sub %r, %y : tensor<?x32xf32>, tensor<?x32xf32>
  return %d : tensor<?x32xf32>
}

// -----

// Tests that ops other than add/sub/mul/div are left alone.
// CHECK-LABEL: func.func @other_ops_untouched
// CHECK: %[[R:.*]] = qn.repeat
// CHECK: qn.max %[[R]], %{{.*}}
func.func @other_ops_untouched(%x: tensor<1x8xf32>, %y: tensor<6x8xf32>) -> tensor<6x8xf32> {
  %r = qn.repeat %x, [6, 1] : tensor<1x8xf32>
  %m = qn.max %r, %y : tensor<6x8xf32>, tensor<6x8xf32>
  return %m : tensor<6x8xf32>
}

// -----

// Tests nested repeats: each level stretches only size-1 dims, so both go.
// CHECK-LABEL: func.func @nested_repeats
// CHECK-SAME: (%[[X:.*]]: tensor<1x1xf32>, %[[Y:.*]]: tensor<8x16xf32>)
// CHECK-NOT: qn.repeat
// CHECK: qn.div %[[Y]], %[[X]] : tensor<8x16xf32>, tensor<1x1xf32>
func.func @nested_repeats(%x: tensor<1x1xf32>, %y: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %r1 = qn.repeat %x, [1, 16] : tensor<1x1xf32>
  %r2 = qn.repeat %r1, [8, 1] : tensor<1x16xf32>
  // expected-remark@+2 {{operand 1 ('qn.repeat' by [8, 1])}}
  // expected-remark@+1 {{operand 1 ('qn.repeat' by [1, 16])}}
  %d = qn.div %y, %r2 : tensor<8x16xf32>, tensor<8x16xf32>
  return %d : tensor<8x16xf32>
}

// -----

// Tests that a repeat feeding both operands of one op is fused on one side
// only: fusing both would shrink the result to 64x1.
// CHECK-LABEL: func.func @same_repeat_both_sides
// CHECK-SAME: (%[[X:.*]]: tensor<64x1xf32>)
// CHECK: %[[R:.*]] = qn.repeat %[[X]], [1, 64]
// CHECK: qn.mul %[[X]], %[[R]] : tensor<64x1xf32>, tensor<64x64xf32>
func.func @same_repeat_both_sides(%x: tensor<64x1xf32>) -> tensor<64x64xf32> {
  %r = qn.repeat %x, [1, 64] : tensor<64x1xf32>
  // expected-remark@+1 {{operand 0}}
  %m = qn.mul %r, %r : tensor<64x64xf32>, tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}

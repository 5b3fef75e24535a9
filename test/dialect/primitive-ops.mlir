// RUN: qn-opt %s --split-input-file --verify-roundtrip | FileCheck %s
// RUN: qn-opt %s --split-input-file --mlir-print-op-generic | qn-opt --split-input-file | FileCheck %s

// Tests that the broadcasting binary ops infer the numpy broadcast shape.
// CHECK-LABEL: func.func @binary
func.func @binary(%a: tensor<64x1xf32>, %b: tensor<1x64xf32>, %c: tensor<?x4x1xf32>, %d: tensor<5xf32>) {
  // CHECK: qn.add %{{.*}}, %{{.*}} : tensor<64x1xf32>, tensor<1x64xf32>
  %0 = qn.add %a, %b : tensor<64x1xf32>, tensor<1x64xf32>
  // CHECK: qn.sub
  %1 = qn.sub %a, %b : tensor<64x1xf32>, tensor<1x64xf32>
  // CHECK: qn.mul
  %2 = qn.mul %c, %d : tensor<?x4x1xf32>, tensor<5xf32>
  // CHECK: qn.div
  %3 = qn.div %d, %c : tensor<5xf32>, tensor<?x4x1xf32>
  // CHECK: qn.max
  %4 = qn.max %0, %1 : tensor<64x64xf32>, tensor<64x64xf32>
  // CHECK: qn.min
  %5 = qn.min %2, %3 : tensor<?x4x5xf32>, tensor<?x4x5xf32>
  return
}

// -----

// Tests the unary elementwise ops, scale and convert.
// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<?x8xf32>) -> tensor<?x8xf16> {
  // CHECK: qn.exp %{{.*}} : tensor<?x8xf32>
  %0 = qn.exp %x : tensor<?x8xf32>
  %1 = qn.log %0 : tensor<?x8xf32>
  %2 = qn.neg %1 : tensor<?x8xf32>
  %3 = qn.abs %2 : tensor<?x8xf32>
  %4 = qn.sqrt %3 : tensor<?x8xf32>
  %5 = qn.rsqrt %4 : tensor<?x8xf32>
  %6 = qn.tanh %5 : tensor<?x8xf32>
  %7 = qn.sigmoid %6 : tensor<?x8xf32>
  %8 = qn.silu %7 : tensor<?x8xf32>
  // CHECK: qn.softplus
  %9 = qn.softplus %8 : tensor<?x8xf32>
  // CHECK: qn.scale %{{.*}}, 5.000000e-01 : tensor<?x8xf32>
  %10 = qn.scale %9, 0.5 : tensor<?x8xf32>
  // CHECK: qn.convert %{{.*}} : tensor<?x8xf32> to tensor<?x8xf16>
  %11 = qn.convert %10 : tensor<?x8xf32> to tensor<?x8xf16>
  return %11 : tensor<?x8xf16>
}

// -----

// Tests the shape ops: repeat, reshape, permute, slice, concat, pad, gather.
// CHECK-LABEL: func.func @shapes
func.func @shapes(%g: tensor<64xf32>, %x: tensor<?x16x512xf32>, %s: tensor<3x8xf32>,
                  %u: tensor<?x8xf32>, %ids: tensor<?xi32>) {
  // CHECK: qn.reshape %{{.*}} : tensor<64xf32> -> tensor<64x1xf32>
  %0 = qn.reshape %g : tensor<64xf32> -> tensor<64x1xf32>
  // CHECK: qn.repeat %{{.*}}, [1, 64] : tensor<64x1xf32>
  %1 = qn.repeat %0, [1, 64] : tensor<64x1xf32>
  // CHECK: qn.permute %{{.*}}, [1, 0] : tensor<64x64xf32>
  %2 = qn.permute %1, [1, 0] : tensor<64x64xf32>
  // CHECK: qn.slice %{{.*}} [0, 0, 256] [-1, 16, 256] [1, 1, 1] : tensor<?x16x512xf32>
  %3 = qn.slice %x [0, 0, 256] [-1, 16, 256] [1, 1, 1] : tensor<?x16x512xf32>
  %4 = qn.slice %x [0, 1, 0] [-1, 8, -1] [1, 2, 2] : tensor<?x16x512xf32>
  // CHECK: qn.concat %{{.*}}, %{{.*}} along 0 : tensor<3x8xf32>, tensor<?x8xf32>
  %5 = qn.concat %s, %u along 0 : tensor<3x8xf32>, tensor<?x8xf32>
  // CHECK: qn.pad %{{.*}} low [0, 0] high [0, 60] : tensor<64x1xf32>
  %6 = qn.pad %0 low [0, 0] high [0, 60] : tensor<64x1xf32>
  %7 = qn.pad %0 low [1, 0] high [0, 0] {value = -1.0 : f32} : tensor<64x1xf32>
  // CHECK: qn.gather %{{.*}}[%{{.*}}] along 0 : tensor<3x8xf32>, tensor<?xi32>
  %8 = qn.gather %s[%ids] along 0 : tensor<3x8xf32>, tensor<?xi32>
  %9 = qn.gather %s[%ids] along 1 : tensor<3x8xf32>, tensor<?xi32>
  // CHECK: qn.reshape %{{.*}} : tensor<?x16x512xf32> -> tensor<?x8192xf32>
  %10 = qn.reshape %x : tensor<?x16x512xf32> -> tensor<?x8192xf32>
  return
}

// -----

// Tests cumsum, tri, reduce, softmax, l2_norm and top_k.
// CHECK-LABEL: func.func @scans
func.func @scans(%g: tensor<4x64xf32>, %d: tensor<4x64x64xf32>, %p: tensor<?x512xf32>) {
  // CHECK: qn.cumsum %{{.*}} along 1 : tensor<4x64xf32>
  %0 = qn.cumsum %g along 1 : tensor<4x64xf32>
  // CHECK: qn.tri lower_diag %{{.*}} : tensor<4x64x64xf32>
  %1 = qn.tri lower_diag %d : tensor<4x64x64xf32>
  %2 = qn.tri lower %d : tensor<4x64x64xf32>
  %3 = qn.tri upper %d : tensor<4x64x64xf32>
  %4 = qn.tri upper_diag %d : tensor<4x64x64xf32>
  // CHECK: qn.reduce sum %{{.*}} along 1 keep_dim : tensor<?x512xf32>
  %5 = qn.reduce sum %p along 1 keep_dim : tensor<?x512xf32>
  // CHECK: qn.reduce max %{{.*}} along 0 : tensor<?x512xf32>
  %6 = qn.reduce max %p along 0 : tensor<?x512xf32>
  %7 = qn.reduce mean %p along 1 : tensor<?x512xf32>
  %8 = qn.reduce min %p along 1 : tensor<?x512xf32>
  // CHECK: qn.softmax %{{.*}} along 1 : tensor<?x512xf32>
  %9 = qn.softmax %p along 1 : tensor<?x512xf32>
  // CHECK: qn.l2_norm %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x512xf32>
  %10 = qn.l2_norm %p {epsilon = 1.0e-5 : f32} : tensor<?x512xf32>
  // CHECK: qn.l2_norm %{{.*}} : tensor<?x512xf32>
  %13 = qn.l2_norm %p : tensor<?x512xf32>
  // CHECK: %{{.*}}, %{{.*}} = qn.top_k %{{.*}}, 10 : tensor<?x512xf32>
  %11, %12 = qn.top_k %9, 10 : tensor<?x512xf32>
  return
}

// -----

// Tests batch_matmul (plain, transposed, broadcast batch), solve_tri, dequantize, rope.
// CHECK-LABEL: func.func @linalg
func.func @linalg(%k: tensor<32x64x128xf32>, %m: tensor<1x128x16xf32>, %a: tensor<32x64x64xf32>,
                  %w: !qn.qweight<q8_0, 64x2048>, %q: tensor<?x16x256xf32>, %pos: tensor<?xi32>) {
  // CHECK: qn.batch_matmul %{{.*}}, %{{.*}} transpose_rhs : tensor<32x64x128xf32>, tensor<32x64x128xf32>
  %0 = qn.batch_matmul %k, %k transpose_rhs : tensor<32x64x128xf32>, tensor<32x64x128xf32>
  // CHECK: qn.batch_matmul %{{.*}}, %{{.*}} : tensor<32x64x128xf32>, tensor<1x128x16xf32>
  %1 = qn.batch_matmul %k, %m : tensor<32x64x128xf32>, tensor<1x128x16xf32>
  // CHECK: qn.solve_tri %{{.*}}, %{{.*}} {unit_diagonal} : tensor<32x64x64xf32>, tensor<32x64x64xf32>
  %2 = qn.solve_tri %a, %0 {unit_diagonal} : tensor<32x64x64xf32>, tensor<32x64x64xf32>
  %3 = qn.solve_tri %a, %k : tensor<32x64x64xf32>, tensor<32x64x128xf32>
  // CHECK: qn.dequantize %{{.*}} : !qn.qweight<q8_0, 64x2048>
  %4 = qn.dequantize %w : !qn.qweight<q8_0, 64x2048>
  // CHECK: qn.rope %{{.*}}, %{{.*}} dims 64 base 1.000000e+07 : tensor<?x16x256xf32>, tensor<?xi32>
  %5 = qn.rope %q, %pos dims 64 base 1.0e+07 : tensor<?x16x256xf32>, tensor<?xi32>
  return
}

// -----

// Tests pad_to_multiple and crop, the pair that pads a dynamic token count to
// whole chunks and drops the padding again.
// CHECK-LABEL: func.func @pad_crop
func.func @pad_crop(%q: tensor<?x4x128xf32>, %s: tensor<100x4xf32>) {
  // CHECK: qn.pad_to_multiple %{{.*}} along 0 multiple 64 : tensor<?x4x128xf32>
  %0 = qn.pad_to_multiple %q along 0 multiple 64 : tensor<?x4x128xf32>
  // CHECK: qn.pad_to_multiple %{{.*}} along 0 multiple 64 : tensor<100x4xf32>
  %1 = qn.pad_to_multiple %s along 0 multiple 64 : tensor<100x4xf32>
  // CHECK: qn.crop %{{.*}} to %{{.*}} along 0 : tensor<?x4x128xf32>, tensor<?x4x128xf32>
  %2 = qn.crop %0 to %q along 0 : tensor<?x4x128xf32>, tensor<?x4x128xf32>
  // CHECK: qn.crop %{{.*}} to %{{.*}} along 0 : tensor<128x4xf32>, tensor<100x4xf32>
  %3 = qn.crop %1 to %s along 0 : tensor<128x4xf32>, tensor<100x4xf32>
  %4 = qn.add %3, %s : tensor<100x4xf32>, tensor<100x4xf32>
  return
}

// -----

// Tests transfer (inserted by qn-assign-backends) on tensors and weights.
// CHECK-LABEL: func.func @transfer
func.func @transfer(%h: tensor<?x64xf32>, %w: !qn.qweight<q8_0, 4x32>) {
  // CHECK: qn.transfer %{{.*}} to "cuda" : tensor<?x64xf32>
  %0 = qn.transfer %h to "cuda" : tensor<?x64xf32>
  // CHECK: qn.transfer %{{.*}} to "cpu" : !qn.qweight<q8_0, 4x32>
  %1 = qn.transfer %w to "cpu" : !qn.qweight<q8_0, 4x32>
  return
}

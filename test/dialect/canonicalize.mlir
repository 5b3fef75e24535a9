// RUN: qn-opt %s --split-input-file --allow-unregistered-dialect --canonicalize | FileCheck %s

// Tests that ops returning their input unchanged fold away.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NOT: qn.
// CHECK: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @identities(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
                                              tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = qn.scale %x, 1.0 : tensor<4x8xf32>
  %1 = qn.convert %x : tensor<4x8xf32> to tensor<4x8xf32>
  %2 = qn.repeat %x, [1, 1] : tensor<4x8xf32>
  %3 = qn.reshape %x : tensor<4x8xf32> -> tensor<4x8xf32>
  %4 = qn.permute %x, [0, 1] : tensor<4x8xf32>
  %5 = qn.slice %x [0, 0] [4, -1] [1, 1] : tensor<4x8xf32>
  %6 = qn.pad %x low [0, 0] high [0, 0] : tensor<4x8xf32>
  %7 = qn.pad_to_multiple %x along 1 multiple 8 : tensor<4x8xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
                                         tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Tests that ops that change values do not fold.
// CHECK-LABEL: func.func @not_identities
// CHECK: qn.scale
// CHECK: qn.repeat
// CHECK: qn.permute
// CHECK: qn.slice
// CHECK: qn.pad
// CHECK: qn.crop
// CHECK: qn.pad_to_multiple
func.func @not_identities(%x: tensor<4x8xf32>, %d: tensor<?x8xf32>, %l: tensor<?x8xf32>) {
  %0 = qn.scale %x, 2.0 : tensor<4x8xf32>
  %1 = qn.repeat %x, [2, 1] : tensor<4x8xf32>
  %2 = qn.permute %x, [1, 0] : tensor<4x8xf32>
  %3 = qn.slice %x [1, 0] [3, 8] [1, 1] : tensor<4x8xf32>
  %4 = qn.pad %x low [0, 1] high [0, 0] : tensor<4x8xf32>
  %5 = qn.crop %d to %l along 0 : tensor<?x8xf32>, tensor<?x8xf32>
  // Same type, but a dynamic size may grow: no fold.
  %6 = qn.pad_to_multiple %d along 0 multiple 64 : tensor<?x8xf32>
  "test.use"(%0, %1, %2, %3, %4, %5, %6) : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8x4xf32>, tensor<3x8xf32>, tensor<4x9xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> ()
  return
}

// -----

// Tests that a reshape of a reshape reads the original tensor.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<64xf32>)
// CHECK: %[[R:.*]] = qn.reshape %[[X]] : tensor<64xf32> -> tensor<1x64xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<64xf32>) -> tensor<1x64xf32> {
  %0 = qn.reshape %x : tensor<64xf32> -> tensor<8x8xf32>
  %1 = qn.reshape %0 : tensor<8x8xf32> -> tensor<1x64xf32>
  return %1 : tensor<1x64xf32>
}

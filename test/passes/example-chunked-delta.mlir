// RUN: qn-opt %src/docs/examples/chunked-delta.mlir --qn-fuse-repeat-broadcast | FileCheck %s

// Tests that the bundled example (the README's demo input) loses every repeat:
// the decay matrix is one broadcast subtract of two reshaped views of G and
// the key decay broadcasts G_last.
// CHECK-LABEL: func.func @chunk_decay
// CHECK-NOT: qn.repeat
// CHECK: %[[G:.*]] = qn.cumsum
// CHECK-DAG: %[[COL:.*]] = qn.reshape %[[G]] : tensor<4x2x64xf32> -> tensor<4x2x64x1xf32>
// CHECK-DAG: %[[ROW:.*]] = qn.reshape %[[G]] : tensor<4x2x64xf32> -> tensor<4x2x1x64xf32>
// CHECK: qn.sub %[[COL]], %[[ROW]] : tensor<4x2x64x1xf32>, tensor<4x2x1x64xf32>
// CHECK: %[[LAST:.*]] = qn.slice %[[G]]
// CHECK: qn.sub %[[LAST]], %[[G]] : tensor<4x2x1xf32>, tensor<4x2x64xf32>
// CHECK-NOT: qn.repeat

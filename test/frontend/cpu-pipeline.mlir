// qn-cpu-pipeline runs the graph clean-up on every function: repeats become
// broadcasts, duplicates fold (CSE), dead pure ops go (canonicalize); then
// every op gets a backend.
// RUN: qn-opt %s --qn-cpu-pipeline 2>/dev/null | FileCheck %s
// RUN: qn-opt %s --pass-pipeline='builtin.module(qn-cpu-pipeline)' 2>/dev/null | FileCheck %s

// CHECK-LABEL: func.func @cleanup(
// CHECK-SAME: %[[G:.*]]: tensor<64xf32>, %[[X:.*]]: tensor<64x64xf32>
// CHECK: %[[A:.*]] = qn.reshape %[[G]] {qn.backend = "cpu"} : tensor<64xf32> -> tensor<64x1xf32>
// CHECK-NOT: qn.repeat
// CHECK-NEXT: %[[D:.*]] = qn.sub %[[A]], %[[X]] {qn.backend = "cpu"} : tensor<64x1xf32>, tensor<64x64xf32>
// CHECK-NOT: qn.sub
// CHECK-NOT: qn.exp
// CHECK: return %[[D]], %[[D]]
func.func @cleanup(%g: tensor<64xf32>, %x: tensor<64x64xf32>)
    -> (tensor<64x64xf32>, tensor<64x64xf32>) {
  %a = qn.reshape %g : tensor<64xf32> -> tensor<64x1xf32>
  %ai = qn.repeat %a, [1, 64] : tensor<64x1xf32>
  %d = qn.sub %ai, %x : tensor<64x64xf32>, tensor<64x64xf32>
  %d2 = qn.sub %ai, %x : tensor<64x64xf32>, tensor<64x64xf32>
  %unused = qn.exp %d : tensor<64x64xf32>
  return %d, %d2 : tensor<64x64xf32>, tensor<64x64xf32>
}

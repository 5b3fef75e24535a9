// RUN: qn-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: qn-opt %s --split-input-file --verify-diagnostics --mlir-print-op-generic \
// RUN:   | qn-opt --split-input-file | FileCheck %s

// Tests that qn.transfer round-trips for tensors and stored weights.
// CHECK-LABEL: func.func @transfer
// CHECK: qn.transfer %{{.*}} to "cuda" : tensor<?x2048xf32>
// CHECK: qn.transfer %{{.*}} to "cpu" {qn.backend = "cpu"} : !qn.qweight<q8_0, 4x32>
func.func @transfer(%h: tensor<?x2048xf32>, %w: !qn.qweight<q8_0, 4x32>) -> tensor<?x2048xf32> {
  %0 = qn.transfer %h to "cuda" : tensor<?x2048xf32>
  %1 = qn.transfer %w to "cpu" {qn.backend = "cpu"} : !qn.qweight<q8_0, 4x32>
  return %0 : tensor<?x2048xf32>
}

// -----

func.func @bad_backend(%h: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'qn.transfer' op attribute 'to' failed to satisfy constraint: string attribute backend name "cpu" or "cuda"}}
  %0 = qn.transfer %h to "gpu" : tensor<4xf32>
  return %0 : tensor<4xf32>
}

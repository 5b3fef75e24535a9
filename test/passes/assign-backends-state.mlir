// RUN: qn-opt %s --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda unsupported=cuda:gated_delta_net}))' \
// RUN:   | FileCheck %s
// RUN: qn-opt %s --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda}))' \
// RUN:   2>&1 | FileCheck %s --check-prefix=GPU

// Tests a multi-result op updating resident state. With the delta net
// unsupported on CUDA it runs on the host with its inputs; the state (on
// CUDA) is copied to it (a resident copy, counted twice: read and written
// back: the state goes home to the device afterwards); its output goes up
// once for the projection, whose weight is on CUDA.
// CHECK-LABEL: func.func @delta
// CHECK:       %[[S:.*]] = qn.transfer %arg5 to "cpu" {qn.backend = "cpu"} : tensor<4x64x64xf32>
// CHECK:       %[[O:.*]], %[[NS:.*]] = qn.gated_delta_net %arg0, %arg1, %arg2, %arg3, %arg4, %[[S]] {qn.backend = "cpu"}
// CHECK-NEXT:  %[[NSG:.*]] = qn.transfer %[[NS]] to "cuda"
// CHECK-NEXT:  qn.transfer %[[O]] to "cuda"
// CHECK:       qn.matmul {{.*}}, %arg6 {qn.backend = "cuda"}
// CHECK:       %[[Y:.*]] = qn.transfer %{{.*}} to "cpu"
// CHECK-NEXT:  return %[[Y]], %[[NSG]]
// GPU:         remark: qn-assign-backends: 6 splits
// GPU:         qn.gated_delta_net {{.*}}qn.backend = "cuda"
// expected-remark @below {{qn-assign-backends: 2 splits, 540672 bytes (greedy: 2 splits, 540672 bytes); 2 transfers inserted; 2 resident copies, 131072 bytes (2 transfer ops)}}
func.func @delta(%q: tensor<?x2x64xf32>, %k: tensor<?x2x64xf32>, %v: tensor<?x4x64xf32>,
                 %g: tensor<?x4xf32>, %b: tensor<?x4xf32>,
                 %s: tensor<4x64x64xf32> {qn.state = "blk.0.ssm_state"},
                 %w: tensor<8x256xf32> {qn.weight = "blk.0.ssm_out.weight"})
    -> (tensor<?x8xf32>, tensor<4x64x64xf32> {qn.state = "blk.0.ssm_state"}) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x4x64xf32>, tensor<?x4xf32>, tensor<?x4xf32>,
         tensor<4x64x64xf32>) -> (tensor<?x4x64xf32>, tensor<4x64x64xf32>)
  %flat = qn.reshape %o : tensor<?x4x64xf32> -> tensor<?x256xf32>
  %y = qn.matmul %flat, %w : tensor<?x256xf32>, tensor<8x256xf32>
  return %y, %s1 : tensor<?x8xf32>, tensor<4x64x64xf32>
}

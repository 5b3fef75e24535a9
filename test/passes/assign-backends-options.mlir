// RUN: qn-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda n-cpu-moe=1 override-tensor=^big=cpu}))' \
// RUN:   | FileCheck %s
// First match wins: an explicit rule before --n-cpu-moe keeps the experts on CUDA.
// RUN: qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda n-cpu-moe=1 override-tensor=exps=cuda}))' \
// RUN:   2>/dev/null | FileCheck %s --check-prefix=OT

// Tests that bytes break ties: crossing after the reduction (8 B) beats
// crossing before it (512 B), with the same number of splits; the greedy
// walk ships the 512 B value.
// CHECK-LABEL: func.func @cross_small
// CHECK:       qn.matmul %arg0, %arg1 {qn.backend = "cpu"}
// CHECK-NEXT:  %[[R:.*]] = qn.reduce sum {{.*}}qn.backend = "cpu"
// CHECK-NEXT:  %[[RG:.*]] = qn.transfer %[[R]] to "cuda" {qn.backend = "cuda"} : tensor<2x1xf32>
// CHECK-NEXT:  qn.matmul %[[RG]], %arg2 {qn.backend = "cuda"}
// expected-remark @below {{qn-assign-backends: 2 splits, 16 bytes (greedy: 2 splits, 520 bytes)}}
func.func @cross_small(%x: tensor<2x8xf32>,
                       %w: tensor<64x8xf32> {qn.weight = "big.weight"},
                       %v: tensor<1x1xf32> {qn.weight = "small.weight"})
    -> tensor<2x1xf32> {
  %y = qn.matmul %x, %w : tensor<2x8xf32>, tensor<64x8xf32>
  %r = qn.reduce sum %y along 1 keep_dim : tensor<2x64xf32>
  %z = qn.matmul %r, %v : tensor<2x1xf32>, tensor<1x1xf32>
  return %z : tensor<2x1xf32>
}

// -----

// Tests --n-cpu-moe on a model-level MoE: the experts of layer 0 stay on the
// host, so qn.moe runs there (most of its weight bytes) and reads a copy of
// the router; the norm runs on CUDA with its weight.
// CHECK-LABEL: func.func @moe_layer
// CHECK:       %[[ROUTER:.*]] = qn.transfer %arg2 to "cpu" {qn.backend = "cpu"} : tensor<4x32xf32>
// CHECK:       %[[HG:.*]] = qn.transfer %arg0 to "cuda"
// CHECK:       %[[F:.*]] = qn.rms_norm %[[HG]], %arg1 {qn.backend = "cuda"}
// CHECK-NEXT:  %[[FC:.*]] = qn.transfer %[[F]] to "cpu"
// CHECK-NEXT:  %[[Y:.*]] = qn.moe %[[FC]], %[[ROUTER]], %arg3, %arg4, %arg5 top_k 2 {qn.backend = "cpu"}
// CHECK:       qn.add %arg0, %[[Y]] {qn.backend = "cpu"}
// OT-LABEL:    func.func @moe_layer
// OT:          qn.moe {{.*}}qn.backend = "cuda"
// expected-remark @below {{qn-assign-backends: 2 splits, 131072 bytes (greedy: 2 splits, 131072 bytes); 2 transfers inserted; 1 resident copies, 512 bytes}}
func.func @moe_layer(%h: tensor<?x32xf32>,
    %nw: tensor<32xf32> {qn.weight = "blk.0.post_attention_norm.weight"},
    %router: tensor<4x32xf32> {qn.weight = "blk.0.ffn_gate_inp.weight"},
    %gate: !qn.qweight<q8_0, 4x16x32> {qn.weight = "blk.0.ffn_gate_exps.weight"},
    %up: !qn.qweight<q8_0, 4x16x32> {qn.weight = "blk.0.ffn_up_exps.weight"},
    %down: tensor<4x32x16xf32> {qn.weight = "blk.0.ffn_down_exps.weight"}) -> tensor<?x32xf32> {
  %f = qn.rms_norm %h, %nw : tensor<?x32xf32>, tensor<32xf32>
  %y = qn.moe %f, %router, %gate, %up, %down top_k 2
      : (tensor<?x32xf32>, tensor<4x32xf32>, !qn.qweight<q8_0, 4x16x32>, !qn.qweight<q8_0, 4x16x32>,
         tensor<4x32x16xf32>) -> tensor<?x32xf32>
  %o = qn.add %h, %y : tensor<?x32xf32>, tensor<?x32xf32>
  return %o : tensor<?x32xf32>
}

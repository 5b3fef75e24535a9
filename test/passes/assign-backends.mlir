// RUN: qn-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cuda}))' | FileCheck %s
// RUN: qn-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(qn-assign-backends{device=cpu}))' \
// RUN:   2>/dev/null | FileCheck %s --check-prefix=CPU

// Tests the head of a model on CUDA: the embedding stays on the host with its
// table, the hidden state goes up once, the logits come down once.
// CHECK-LABEL: func.func @embed_head
// CHECK:       %[[H:.*]] = qn.embed %{{.*}}[%{{.*}}] {qn.backend = "cpu"}
// CHECK-NEXT:  %[[HG:.*]] = qn.transfer %[[H]] to "cuda" {qn.backend = "cuda"} : tensor<?x8xf32>
// CHECK-NEXT:  %[[N:.*]] = qn.rms_norm %[[HG]], %{{.*}} {qn.backend = "cuda"}
// CHECK-NEXT:  %[[Y:.*]] = qn.matmul %[[N]], %{{.*}} {qn.backend = "cuda"}
// CHECK-NEXT:  %[[YC:.*]] = qn.transfer %[[Y]] to "cpu" {qn.backend = "cpu"} : tensor<?x16xf32>
// CHECK-NEXT:  return %[[YC]]
// CPU-LABEL:   func.func @embed_head
// CPU-NOT:     qn.transfer
// CPU-NOT:     "cuda"
// CPU:         return
// expected-remark @below {{qn-assign-backends: 2 splits, 49152 bytes (greedy: 2 splits, 49152 bytes); 2 transfers inserted}}
func.func @embed_head(%ids: tensor<?xi32>,
                      %table: tensor<64x8xf32> {qn.weight = "token_embd.weight"},
                      %norm: tensor<8xf32> {qn.weight = "output_norm.weight"},
                      %out: !qn.qweight<f16, 16x8> {qn.weight = "output.weight"})
    -> tensor<?x16xf32> {
  %h = qn.embed %table[%ids] : tensor<64x8xf32>, tensor<?xi32>
  %n = qn.rms_norm %h, %norm : tensor<?x8xf32>, tensor<8xf32>
  %y = qn.matmul %n, %out : tensor<?x8xf32>, !qn.qweight<f16, 16x8>
  return %y : tensor<?x16xf32>
}

// -----

// Tests that a host value read by two CUDA ops is copied once, and that the
// free add joins them on CUDA (2 splits: %x up, %c down; 128 B each).
// CHECK-LABEL: func.func @shared_input
// CHECK:       %[[X:.*]] = qn.transfer %arg0 to "cuda" {qn.backend = "cuda"} : tensor<4x8xf32>
// CHECK-NOT:   qn.transfer %arg0
// CHECK:       %[[A:.*]] = qn.matmul %[[X]], %arg1 {qn.backend = "cuda"}
// CHECK-NEXT:  %[[B:.*]] = qn.matmul %[[X]], %arg2 {qn.backend = "cuda"}
// CHECK-NEXT:  %[[C:.*]] = qn.add %[[A]], %[[B]] {qn.backend = "cuda"}
// CHECK-NEXT:  %[[CC:.*]] = qn.transfer %[[C]] to "cpu"
// CHECK-NEXT:  return %[[CC]]
// CPU-LABEL:   func.func @shared_input
// CPU-NOT:     qn.transfer
// CPU:         return
// expected-remark @below {{qn-assign-backends: 2 splits, 256 bytes (greedy: 2 splits, 256 bytes); 2 transfers inserted}}
func.func @shared_input(%x: tensor<4x8xf32>,
                        %w1: tensor<8x8xf32> {qn.weight = "a.weight"},
                        %w2: tensor<8x8xf32> {qn.weight = "b.weight"}) -> tensor<4x8xf32> {
  %a = qn.matmul %x, %w1 : tensor<4x8xf32>, tensor<8x8xf32>
  %b = qn.matmul %x, %w2 : tensor<4x8xf32>, tensor<8x8xf32>
  %c = qn.add %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
  return %c : tensor<4x8xf32>
}

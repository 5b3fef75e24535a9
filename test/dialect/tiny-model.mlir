// RUN: qn-opt %src/docs/examples/qwen3next-tiny.mlir --verify-roundtrip | FileCheck %s

// Tests that a whole tiny Qwen3-Next forward pass (docs/examples) verifies and
// round-trips, with state and caches threaded from arguments to results.
// CHECK-LABEL: func.func @prefill
// CHECK: qn.embed
// CHECK: qn.conv1d_causal
// CHECK: qn.gated_delta_net
// CHECK: qn.moe
// CHECK: qn.gated_attention
// CHECK: qn.moe
// CHECK: %[[LOGITS:.*]] = qn.matmul %{{.*}}, %{{.*}} : tensor<?x64xf32>, !qn.qweight<q8_0, 256x64>
// CHECK: return %[[LOGITS]]

// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline | FileCheck %s --check-prefix=AUTO
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=1 | FileCheck %s --check-prefix=M1
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=2 | FileCheck %s --check-prefix=M2
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=0 | FileCheck %s --check-prefix=M0

// Tests the delta net of a prefill with a dynamic token count, through
// qn-cpu-codegen-pipeline: the whole choice as a function of T is on the
// dispatch, as qn-select-delta-path made it (`auto`: the CPU cost table's
// "recurrent below 3, else fused"; mode 1: below 2; mode 2: fused, no
// threshold). Mode 0's chunked form in primitives becomes one loop dispatch
// (named after the delta net, its operands the tensors it reads, the token
// count recomputed inside) beside the recurrent dispatch for T < 2.

// AUTO-LABEL: func.func @prefill
// AUTO: qn.dispatch.embed
// AUTO-NOT: scf.if
// AUTO: qn.dispatch.gated_delta_net {{.*}} on cpu impl fused recurrent_below 3 {qn.name = "attn_output-0", {{.*}}state_clamp

// M1-LABEL: func.func @prefill
// M1-NOT: scf.if
// M1: qn.dispatch.gated_delta_net {{.*}} on cpu impl fused recurrent_below 2 {

// M2-LABEL: func.func @prefill
// M2-NOT: scf.if
// M2: qn.dispatch.gated_delta_net {{.*}} on cpu impl fused {

// M0-LABEL: func.func @prefill
// M0: %[[T:.*]] = tensor.dim
// M0: scf.if
// M0-NEXT: qn.dispatch.gated_delta_net {{.*}} on cpu impl recurrent {qn.name = "attn_output-0"
// M0-NEXT: scf.yield
// M0-NEXT: } else {
// M0-NEXT: %{{.*}}:2 = qn.dispatch.loop(%{{.*}}) on cpu kernel "prefill.attn_output-0" {{.*}}qn.name = "attn_output-0"{{.*}}}
// M0: qn.cumsum
// M0: scf.for
// M0: qn.batch_matmul
// M0: qn.dispatch.yield
// M0: scf.yield
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x128xf32> {qn.weight = "token_embd.weight"},
                   %s: tensor<2x64x64xf32> {qn.state = "delta_state-0"})
    -> (tensor<?x2x64xf32> {qn.output = "logits"},
        tensor<2x64x64xf32> {qn.state = "delta_state-0"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x128xf32>, tensor<?xi32>
  %q = qn.reshape %h {qn.name = "q"} : tensor<?x128xf32> -> tensor<?x2x64xf32>
  %g = qn.slice %h [0, 0] [-1, 2] [1, 1] {qn.name = "gate"} : tensor<?x128xf32>
  %o, %s1 = qn.gated_delta_net %q, %q, %q, %g, %g, %s {qn.name = "attn_output-0", state_clamp = 1.0e6 : f32}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x2x64xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x64x64xf32>)
      -> (tensor<?x2x64xf32>, tensor<2x64x64xf32>)
  return %o, %s1 : tensor<?x2x64xf32>, tensor<2x64x64xf32>
}

// -----

// Tests decode (one token): a fixed choice (recurrent on the CPU, mode 2
// fused), no threshold.
// AUTO-LABEL: func.func @decode
// AUTO-NOT: scf.if
// AUTO: qn.dispatch.gated_delta_net {{.*}} on cpu impl recurrent {qn.name = "attn_output-0"{{.*}}}
// M1-LABEL: func.func @decode
// M1: qn.dispatch.gated_delta_net {{.*}} impl recurrent {
// M2-LABEL: func.func @decode
// M2: qn.dispatch.gated_delta_net {{.*}} impl fused {
// M0-LABEL: func.func @decode
// M0: qn.dispatch.gated_delta_net {{.*}} impl recurrent {
func.func @decode(%tok: tensor<1xi32> {qn.input = "tokens"},
                  %emb: tensor<16x128xf32> {qn.weight = "token_embd.weight"},
                  %s: tensor<2x64x64xf32> {qn.state = "delta_state-0"})
    -> (tensor<1x2x64xf32> {qn.output = "logits"},
        tensor<2x64x64xf32> {qn.state = "delta_state-0"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x128xf32>, tensor<1xi32>
  %q = qn.reshape %h {qn.name = "q"} : tensor<1x128xf32> -> tensor<1x2x64xf32>
  %g = qn.slice %h [0, 0] [1, 2] [1, 1] {qn.name = "gate"} : tensor<1x128xf32>
  %o, %s1 = qn.gated_delta_net %q, %q, %q, %g, %g, %s {qn.name = "attn_output-0"}
      : (tensor<1x2x64xf32>, tensor<1x2x64xf32>, tensor<1x2x64xf32>,
         tensor<1x2xf32>, tensor<1x2xf32>, tensor<2x64x64xf32>)
      -> (tensor<1x2x64xf32>, tensor<2x64x64xf32>)
  return %o, %s1 : tensor<1x2x64xf32>, tensor<2x64x64xf32>
}

// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline | FileCheck %s --check-prefix=AUTO
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=1 | FileCheck %s --check-prefix=M1
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=2 | FileCheck %s --check-prefix=M2
// RUN: qn-opt %s --split-input-file --qn-cpu-codegen-pipeline=delta-mode=0 --verify-diagnostics > /dev/null

// Tests the delta net of a prefill with a dynamic token count, through
// qn-cpu-codegen-pipeline: the guard of qn-select-delta-path is one
// gated_delta_net dispatch on its scf.if. `auto` is the runtime's cost
// model; mode 1 is "recurrent below N, else fused"; mode 2 needs no guard.
// The strided gate slice is copied once for both readers (g and beta).
// Mode 0's chunked form in primitives has no dispatch: an error on the
// first primitive, which has the delta net's location.

// AUTO-LABEL: func.func @prefill
// AUTO: qn.embed {{.*}}qn.dispatch = "embed"
// AUTO: qn.slice {{.*}}{qn.backend = "cpu", qn.dispatch = "view", qn.name = "gate", qn.offset = 0 : i64, qn.slot = array<i64: 0>, qn.strides = array<i64: 128, 1>}
// AUTO: scf.if
// AUTO: qn.gated_delta_net {{.*}} impl recurrent
// AUTO: } else {
// AUTO: qn.gated_delta_net {{.*}} impl fused
// AUTO: } {qn.backend = "cpu", qn.copies = ["gate.copy"], qn.delta_impl = "cost-model", qn.dispatch = "gated_delta_net", qn.slot = array<i64: 2, -1>}

// M1-LABEL: func.func @prefill
// M1: arith.constant {{.*}}2 : index
// M1: scf.if
// M1: } {qn.backend = "cpu", qn.copies = ["gate.copy"], qn.delta_impl = "fused", qn.dispatch = "gated_delta_net", qn.recurrent_below = 2 : i64, qn.slot = array<i64: 2, -1>}

// M2-LABEL: func.func @prefill
// M2-NOT: scf.if
// M2: qn.gated_delta_net {{.*}}impl fused {qn.backend = "cpu", qn.copies = ["gate.copy"], qn.delta_impl = "fused", qn.dispatch = "gated_delta_net", qn.name = "attn_output-0", qn.slot = array<i64: 2, -1>}
// expected-remark@below {{qn-assign-backends: 0 splits}}
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x128xf32> {qn.weight = "token_embd.weight"},
                   %s: tensor<2x64x64xf32> {qn.state = "delta_state-0"})
    -> (tensor<?x2x64xf32> {qn.output = "logits"},
        tensor<2x64x64xf32> {qn.state = "delta_state-0"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x128xf32>, tensor<?xi32>
  %q = qn.reshape %h {qn.name = "q"} : tensor<?x128xf32> -> tensor<?x2x64xf32>
  %g = qn.slice %h [0, 0] [-1, 2] [1, 1] {qn.name = "gate"} : tensor<?x128xf32>
  // expected-error@below {{cannot build the plan of @prefill: op 'qn.scale' (no qn.name): the chunked delta path of 'attn_output-0' in primitive ops (delta mode 0) has no compiled CPU path yet; use delta mode 1, 2 or auto}}
  %o, %s1 = qn.gated_delta_net %q, %q, %q, %g, %g, %s {qn.name = "attn_output-0"}
      : (tensor<?x2x64xf32>, tensor<?x2x64xf32>, tensor<?x2x64xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x64x64xf32>)
      -> (tensor<?x2x64xf32>, tensor<2x64x64xf32>)
  return %o, %s1 : tensor<?x2x64xf32>, tensor<2x64x64xf32>
}

// -----

// Tests decode (one token): a fixed choice on the net itself (recurrent
// on the CPU, mode 2 fused). A [1, 2] slice of one row is contiguous: no
// copy.
// AUTO-LABEL: func.func @decode
// AUTO-NOT: scf.if
// AUTO: qn.gated_delta_net {{.*}}{qn.backend = "cpu", qn.delta_impl = "recurrent", qn.dispatch = "gated_delta_net", qn.name = "attn_output-0", qn.slot = array<i64: 1, -1>}
// M1-LABEL: func.func @decode
// M1: qn.delta_impl = "recurrent"
// M2-LABEL: func.func @decode
// M2: qn.delta_impl = "fused"
// expected-remark@below {{qn-assign-backends: 0 splits}}
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

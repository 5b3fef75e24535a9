// RUN: qn-opt %s --split-input-file --qn-form-dispatches --verify-diagnostics > /dev/null

// Tests that an op the plan cannot express is an error on that op, with
// PlanBuilder's message, and that the pass fails.

func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  // expected-error@below {{cannot build the plan of @prefill: op 'qn.transfer' (no qn.name): a transfer between backends; the plan runs on the CPU only (place every op on the cpu)}}
  %c = qn.transfer %h to "cuda" : tensor<?x24xf32>
  return %c : tensor<?x24xf32>
}

// -----

func.func @decode(%tok: tensor<1xi32> {qn.input = "tokens"},
                  %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<1x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<1xi32>
  // expected-error@below {{cannot build the plan of @decode: op 'qn.cumsum' 'sums': has no CPU dispatch}}
  %c = qn.cumsum %h along 1 {qn.name = "sums"} : tensor<1x24xf32>
  return %c : tensor<1x24xf32>
}

// -----

// An error about the entry itself (an argument the plan cannot bind) is
// reported on the function.
// expected-error@below {{cannot build the plan of @prefill: argument #1 has no qn.input, qn.weight or qn.state}}
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %x: tensor<?x24xf32>)
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  return %x : tensor<?x24xf32>
}

// -----

// Values over the tokens (T) and over the output rows (R) do not mix: the
// error is on the elementwise chain's root.
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %rows: tensor<?xi32> {qn.input = "output_rows"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %r = qn.embed %emb[%rows] {qn.name = "r"} : tensor<16x24xf32>, tensor<?xi32>
  // expected-error@below {{cannot build the plan of @prefill: op 'qn.add' 'mixed': mixes values over the ubatch's tokens and over the output rows}}
  %m = qn.add %h, %r {qn.name = "mixed"} : tensor<?x24xf32>, tensor<?x24xf32>
  return %m : tensor<?x24xf32>
}

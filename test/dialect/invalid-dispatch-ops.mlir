// RUN: qn-opt %s --split-input-file --verify-diagnostics

// Tests that a weight format must be the operand's.
func.func @format_mismatch(%x: tensor<?x256xf32>, %w: !qn.qweight<q4_k, 32x256>) {
  // expected-error@+1 {{attribute 'weights': format #0 is q8_0 but the operand is '!qn.qweight<q4_k, 32x256>'}}
  %y = qn.dispatch.matmul %x, %w on cpu weights(q8_0:rows)
      : (tensor<?x256xf32>, !qn.qweight<q4_k, 32x256>) -> tensor<?x32xf32>
  return
}

// -----

// Tests that every weight operand has a format.
func.func @format_count(%x: tensor<?x256xf32>, %w: tensor<32x256xf32>) {
  // expected-error@+1 {{has 1 weight operands but 'weights' lists 2 formats and 2 layouts}}
  %y = qn.dispatch.matmul %x, %w on cpu weights(f32:rows, f32:rows)
      : (tensor<?x256xf32>, tensor<32x256xf32>) -> tensor<?x32xf32>
  return
}

// -----

// Tests that an unknown format is a parse error naming it.
func.func @format_unknown(%x: tensor<?x256xf32>, %w: tensor<32x256xf32>) {
  // expected-error@+1 {{unknown weight format 'q9_9'}}
  %y = qn.dispatch.matmul %x, %w on cpu weights(q9_9:rows)
      : (tensor<?x256xf32>, tensor<32x256xf32>) -> tensor<?x32xf32>
  return
}

// -----

// Tests that an algorithm must have a kernel on its backend.
func.func @impl_backend(%q: tensor<?x1x4xf32>, %v: tensor<?x2x4xf32>,
                        %g: tensor<?x2xf32>, %s: tensor<2x4x4xf32>) {
  // expected-error@+1 {{attribute 'impl': chunked has no cuda kernel}}
  %o, %s1 = qn.dispatch.gated_delta_net %q, %q, %v, %g, %g, %s on cuda
      impl chunked
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

// Tests that the recurrent threshold needs another algorithm above it.
func.func @below_recurrent(%q: tensor<?x1x4xf32>, %v: tensor<?x2x4xf32>,
                           %g: tensor<?x2xf32>, %s: tensor<2x4x4xf32>) {
  // expected-error@+1 {{attribute 'recurrent_below' with impl recurrent chooses nothing}}
  %o, %s1 = qn.dispatch.gated_delta_net %q, %q, %v, %g, %g, %s on cpu
      impl recurrent recurrent_below 3
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

// Tests that flash attention has no CPU kernel.
func.func @flash_cpu(%qg: tensor<?x32xf32>, %k: tensor<?x8xf32>,
                     %nrm: tensor<8xf32>, %pos: tensor<?xi32>,
                     %kc: tensor<?x1x8xf16>) {
  // expected-error@+1 {{attribute 'impl': flash has no cpu kernel}}
  %a, %kc1, %vc1 = qn.dispatch.gated_attention %qg, %k, %k, %nrm, %nrm, %pos,
      %kc, %kc on cpu impl flash heads(2, 1) head_dim 8 rope(4, 1.0e7)
      epsilon 1.0e-06
      : (tensor<?x32xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>,
         tensor<8xf32>, tensor<?xi32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
      -> (tensor<?x16xf32>, tensor<?x1x8xf16>, tensor<?x1x8xf16>)
  return
}

// -----

// Tests that a transfer goes between two backends.
func.func @transfer_same(%x: tensor<?x8xf32>) {
  // expected-error@+1 {{a transfer from cpu to the same backend}}
  %y = qn.dispatch.transfer %x from cpu to cpu
      : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

// Tests that an elementwise dispatch holds only elementwise ops.
func.func @chain_not_elementwise(%a: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %r = qn.dispatch.elementwise (%a) on cpu kernel "k"
      : (tensor<?x2xf32>) -> tensor<?x2xf32> {
  ^bb0(%x: tensor<?x2xf32>):
    // expected-error@+1 {{is not elementwise: it cannot be part of a fused elementwise dispatch}}
    %s = qn.cumsum %x along 1 : tensor<?x2xf32>
    qn.dispatch.yield %s : tensor<?x2xf32>
  }
  return %r : tensor<?x2xf32>
}

// -----

// Tests that the body yields the result.
func.func @chain_yield(%a: tensor<?x2xf32>) -> tensor<?x2xf32> {
  // expected-error@+1 {{the body must yield one value of the result's type}}
  %r = qn.dispatch.elementwise (%a) on cpu kernel "k"
      : (tensor<?x2xf32>) -> tensor<?x2xf32> {
  ^bb0(%x: tensor<?x2xf32>):
    %s = qn.exp %x : tensor<?x2xf32>
    qn.dispatch.yield %s, %s : tensor<?x2xf32>, tensor<?x2xf32>
  }
  return %r : tensor<?x2xf32>
}

// -----

// Tests that a fused residual has the result's type.
func.func @residual_type(%x: tensor<?x256xf32>, %w: tensor<32x256xf32>,
                         %r: tensor<?x16xf32>) {
  // expected-error@+1 {{residual of type 'tensor<?x16xf32>' is not the result's type 'tensor<?x32xf32>'}}
  %y = qn.dispatch.matmul %x, %w residual(%r) on cpu weights(f32:rows)
      : (tensor<?x256xf32>, tensor<32x256xf32>, tensor<?x16xf32>) -> tensor<?x32xf32>
  return
}

// RUN: qn-opt %s --split-input-file --qn-form-dispatches --verify-diagnostics
// RUN: not qn-opt %s --split-input-file --qn-form-dispatches="backend=tpu" 2>&1 | FileCheck %s --check-prefix=BACKEND

// BACKEND: qn-form-dispatches: unknown backend 'tpu' (expected cpu or cuda)

// Tests that a delta net needs its algorithm chosen first.
func.func @no_impl(%q: tensor<?x1x4xf32>, %v: tensor<?x2x4xf32>,
                   %g: tensor<?x2xf32>, %s: tensor<2x4x4xf32>) {
  // expected-error@+1 {{has no algorithm ('impl'): run qn-select-delta-path first}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

// Tests that the delta-net kernels take no other scale.
func.func @scale(%q: tensor<?x1x4xf32>, %v: tensor<?x2x4xf32>,
                 %g: tensor<?x2xf32>, %s: tensor<2x4x4xf32>) {
  // expected-error@+1 {{attribute 'scale': the delta-net kernels use 1/sqrt(dk) only}}
  %o, %s1 = qn.gated_delta_net %q, %q, %v, %g, %g, %s impl fused {scale = 0.5 : f32}
      : (tensor<?x1x4xf32>, tensor<?x1x4xf32>, tensor<?x2x4xf32>,
         tensor<?x2xf32>, tensor<?x2xf32>, tensor<2x4x4xf32>)
      -> (tensor<?x2x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

// Tests that the MoE kernel does not clamp the weight sum.
func.func @min_weight_sum(%x: tensor<?x256xf32>, %r: tensor<4x256xf32>,
                          %g: tensor<4x256x256xf32>) {
  // expected-error@+1 {{attribute 'min_weight_sum': the MoE kernel does not clamp the weight sum}}
  %m = qn.moe %x, %r, %g, %g, %g top_k 2 {min_weight_sum = 6.0e-5 : f32}
      : (tensor<?x256xf32>, tensor<4x256xf32>, tensor<4x256x256xf32>,
         tensor<4x256x256xf32>, tensor<4x256x256xf32>) -> tensor<?x256xf32>
  return
}

// -----

// Tests that a backend attribute must name a backend.
func.func @bad_backend(%x: tensor<?x8xf32>) {
  // expected-error@+1 {{has qn.backend = "tpu", which is not a backend (cpu, cuda)}}
  %a = qn.l2_norm %x {qn.backend = "tpu"} : tensor<?x8xf32>
  return
}

// -----

// Tests that a transfer to the producer's own backend is refused.
func.func @same_backend(%x: tensor<?x8xf32>) {
  %a = qn.l2_norm %x {qn.backend = "cpu"} : tensor<?x8xf32>
  // expected-error@+1 {{a transfer from cpu to the same backend}}
  %t = qn.transfer %a to "cpu" : tensor<?x8xf32>
  return
}

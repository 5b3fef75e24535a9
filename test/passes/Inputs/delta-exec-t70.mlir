// Input of select-delta-path-exec.test: 70 tokens, 1 key heads, 2 value heads, dk=4, dv=3.
func.func @delta(%q: tensor<70x1x4xf32>, %k: tensor<70x1x4xf32>,
                 %v: tensor<70x2x3xf32>, %g: tensor<70x2xf32>,
                 %b: tensor<70x2xf32>, %s: tensor<2x4x3xf32>)
    -> (tensor<70x2x3xf32>, tensor<2x4x3xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<70x1x4xf32>, tensor<70x1x4xf32>,
         tensor<70x2x3xf32>, tensor<70x2xf32>,
         tensor<70x2xf32>, tensor<2x4x3xf32>)
      -> (tensor<70x2x3xf32>, tensor<2x4x3xf32>)
  return %o, %s1 : tensor<70x2x3xf32>, tensor<2x4x3xf32>
}

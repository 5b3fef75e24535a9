// Input of select-delta-path-exec.test: 2 tokens, 2 key heads, 2 value heads, dk=5, dv=4.
func.func @delta(%q: tensor<2x2x5xf32>, %k: tensor<2x2x5xf32>,
                 %v: tensor<2x2x4xf32>, %g: tensor<2x2xf32>,
                 %b: tensor<2x2xf32>, %s: tensor<2x5x4xf32>)
    -> (tensor<2x2x4xf32>, tensor<2x5x4xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<2x2x5xf32>, tensor<2x2x5xf32>,
         tensor<2x2x4xf32>, tensor<2x2xf32>,
         tensor<2x2xf32>, tensor<2x5x4xf32>)
      -> (tensor<2x2x4xf32>, tensor<2x5x4xf32>)
  return %o, %s1 : tensor<2x2x4xf32>, tensor<2x5x4xf32>
}

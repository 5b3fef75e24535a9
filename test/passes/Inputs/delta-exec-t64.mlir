// Input of select-delta-path-exec.test: 64 tokens, 1 key heads, 3 value heads, dk=3, dv=5.
func.func @delta(%q: tensor<64x1x3xf32>, %k: tensor<64x1x3xf32>,
                 %v: tensor<64x3x5xf32>, %g: tensor<64x3xf32>,
                 %b: tensor<64x3xf32>, %s: tensor<3x3x5xf32>)
    -> (tensor<64x3x5xf32>, tensor<3x3x5xf32>) {
  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s
      : (tensor<64x1x3xf32>, tensor<64x1x3xf32>,
         tensor<64x3x5xf32>, tensor<64x3xf32>,
         tensor<64x3xf32>, tensor<3x3x5xf32>)
      -> (tensor<64x3x5xf32>, tensor<3x3x5xf32>)
  return %o, %s1 : tensor<64x3x5xf32>, tensor<3x3x5xf32>
}

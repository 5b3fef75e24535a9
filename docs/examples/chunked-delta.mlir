// The decay part of one chunk step of the chunked gated delta rule (spec 4.1,
// 4.2), written the way the ggml baseline builds it: the outer difference
// D[i][j] = G[i] - G[j] and the key decay G_last - G come from explicit
// repeats. `qn-opt --qn-fuse-repeat-broadcast` turns every repeat below into
// broadcasting, so no 64x64 operand of D is materialized.
//
// Shapes: 4 value heads x 2 chunks of C = 64 tokens.
//
//   qn-opt docs/examples/chunked-delta.mlir --qn-fuse-repeat-broadcast

func.func @chunk_decay(%g: tensor<4x2x64xf32>)
    -> (tensor<4x2x64x64xf32>, tensor<4x2x64xf32>) {
  // G_i: inclusive cumsum of the log-decays inside each chunk.
  %G = qn.cumsum %g along 2 : tensor<4x2x64xf32>

  // gcs_i[i][j] = G[i] and gcs_j[i][j] = G[j], both repeated to 64x64.
  %col = qn.reshape %G : tensor<4x2x64xf32> -> tensor<4x2x64x1xf32>
  %gcs_i = qn.repeat %col, [1, 1, 1, 64] : tensor<4x2x64x1xf32>
  %row = qn.reshape %G : tensor<4x2x64xf32> -> tensor<4x2x1x64xf32>
  %gcs_j = qn.repeat %row, [1, 1, 64, 1] : tensor<4x2x1x64xf32>
  // D[i][j] = G[i] - G[j] (row = later token).
  %d = qn.sub %gcs_i, %gcs_j : tensor<4x2x64x64xf32>, tensor<4x2x64x64xf32>

  // Gamma = exp(D) on and below the diagonal, masked before and after exp
  // (above the diagonal D can be large and exp would overflow).
  %dm = qn.tri lower_diag %d : tensor<4x2x64x64xf32>
  %e = qn.exp %dm : tensor<4x2x64x64xf32>
  %gamma = qn.tri lower_diag %e : tensor<4x2x64x64xf32>

  // Key decay exponent G_last - G, with G_last repeated over the chunk.
  %last = qn.slice %G [0, 0, 63] [4, 2, 1] [1, 1, 1] : tensor<4x2x64xf32>
  %last_r = qn.repeat %last, [1, 1, 64] : tensor<4x2x1xf32>
  %kdecay = qn.sub %last_r, %G : tensor<4x2x64xf32>, tensor<4x2x64xf32>
  return %gamma, %kdecay : tensor<4x2x64x64xf32>, tensor<4x2x64xf32>
}

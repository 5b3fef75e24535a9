//===- Conv.h - causal depthwise conv1d with a carried window ---*- C++ -*-===//
//
// The short convolution of the Gated DeltaNet layer (spec §3.2 step 4,
// ggml_ssm_conv). Tap Kc-1 multiplies the current token, tap 0 the oldest.
// The window of the previous Kc-1 inputs is carried between calls.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_CONV_H
#define QN_RUNTIME_OPS_CONV_H

#include <cstdint>

namespace qn::runtime {

/// u: inputs [T x C]; w: kernel, ggml {Kc, C} (w[c*Kc + i]); state: the
/// previous Kc-1 inputs per channel, ggml {Kc-1, C} (state[c*(Kc-1) + s],
/// s = 0 oldest), replaced by the last Kc-1 inputs on return; y: [T x C]
/// conv outputs (no activation).
void causalConv1d(const float *u, int64_t T, int64_t C, int64_t Kc,
                  const float *w, float *state, float *y);

/// The same result, token-major: `wT` is the kernel transposed to [Kc x C]
/// (wT[i*C + c] = w[c*Kc + i]) so the inner loop runs over contiguous
/// channels and vectorises. `window` is scratch for (Kc-1) * C floats.
void causalConv1dTokenMajor(const float *u, int64_t T, int64_t C, int64_t Kc,
                            const float *wT, float *state, float *window,
                            float *y);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_CONV_H

//===- Conv.cpp - causal depthwise conv1d --------------------------------===//

#include "runtime/ops/Conv.h"

namespace qn::runtime {

void causalConv1d(const float *u, int64_t T, int64_t C, int64_t Kc,
                  const float *w, float *state, float *y) {
  const int64_t nState = Kc - 1;
  for (int64_t c = 0; c < C; ++c) {
    float *s = state + c * nState;
    const float *wc = w + c * Kc;
    // Element j of the channel's window [state | inputs] (j < nState + T).
    auto window = [&](int64_t j) {
      return j < nState ? s[j] : u[(j - nState) * C + c];
    };
    for (int64_t t = 0; t < T; ++t) {
      float acc = 0.0f;
      for (int64_t i = 0; i < Kc; ++i)
        acc += window(t + i) * wc[i];
      y[t * C + c] = acc;
    }
    // Keep the last nState window entries; increasing i only reads entries
    // at or after i, so the shift can be done in place.
    for (int64_t i = 0; i < nState; ++i)
      s[i] = window(T + i);
  }
}

} // namespace qn::runtime

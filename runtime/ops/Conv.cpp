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

void causalConv1dTokenMajor(const float *u, int64_t T, int64_t C, int64_t Kc,
                            const float *wT, float *state, float *window,
                            float *y) {
  const int64_t nState = Kc - 1;
  // The carried inputs, token-major: window[s*C + c] = state[c*nState + s].
  for (int64_t c = 0; c < C; ++c)
    for (int64_t s = 0; s < nState; ++s)
      window[s * C + c] = state[c * nState + s];
  // Input row j of the sequence [carried | u] (j < nState + T).
  auto row = [&](int64_t j) {
    return j < nState ? window + j * C : u + (j - nState) * C;
  };
  for (int64_t t = 0; t < T; ++t) {
    float *yt = y + t * C;
    const float *x0 = row(t);
    const float *w0 = wT;
    for (int64_t c = 0; c < C; ++c)
      yt[c] = x0[c] * w0[c];
    for (int64_t i = 1; i < Kc; ++i) {
      const float *xi = row(t + i);
      const float *wi = wT + i * C;
      for (int64_t c = 0; c < C; ++c)
        yt[c] += xi[c] * wi[c];
    }
  }
  // New state: the last nState rows of [carried | u]. Carried rows are read
  // from the `window` copy, so `state` can be overwritten in place.
  for (int64_t s = 0; s < nState; ++s) {
    const float *src = row(T + s);
    for (int64_t c = 0; c < C; ++c)
      state[c * nState + s] = src[c];
  }
}

} // namespace qn::runtime

//===- Router.cpp - MoE expert selection ---------------------------------===//

#include "runtime/ops/Router.h"

#include <cmath>

namespace qn::runtime {

void softmax(const float *x, int64_t n, float *out) {
  float maxV = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    maxV = x[i] > maxV ? x[i] : maxV;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = std::exp(x[i] - maxV);
    sum += out[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i)
    out[i] *= inv;
}

void routeTopK(const float *logits, int64_t E, int64_t k, float *probs,
               int32_t *ids, float *weights) {
  softmax(logits, E, probs);
  // Selection by repeated scan: k and E are small (10 of 512 at most in the
  // released models) and this keeps the tie rule obvious.
  float sum = 0.0f;
  for (int64_t s = 0; s < k; ++s) {
    int32_t best = -1;
    for (int64_t e = 0; e < E; ++e) {
      bool taken = false;
      for (int64_t p = 0; p < s; ++p)
        taken |= ids[p] == e;
      if (!taken && (best < 0 || probs[e] > probs[best]))
        best = static_cast<int32_t>(e);
    }
    ids[s] = best;
    weights[s] = probs[best];
    sum += probs[best];
  }
  for (int64_t s = 0; s < k; ++s)
    weights[s] /= sum;
}

} // namespace qn::runtime

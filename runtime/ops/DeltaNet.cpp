//===- DeltaNet.cpp - the gated delta rule, recurrent form ---------------===//
//
// Computed in one pass over the old state, as the peer's fused kernel does:
// with p = M_old^T k, r = M_old^T q,
//   delta = beta v - beta alpha p,
//   out   = s alpha r + s (k.q) delta      (= M_new^T (s q)),
//   M_new = alpha M_old + k delta^T.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNet.h"

#include "runtime/ops/Vec.h"

#include <cmath>

namespace qn::runtime {

QN_VEC_CLONES
void gatedDeltaStep(float *M, const float *q, const float *k, const float *v,
                    float g, float beta, int64_t dk, int64_t dv, float *out,
                    float *scratch) {
  const float alpha = std::exp(g);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dk));
  const float kq = dot(k, q, dk);
  // out temporarily holds r = M^T q; delta is built in place of p below.
  for (int64_t i = 0; i < dv; ++i)
    out[i] = 0.0f;
  // p and r accumulate row by row of M (rows are k-indices).
  float *p = scratch;
  for (int64_t i = 0; i < dv; ++i)
    p[i] = 0.0f;
  for (int64_t j = 0; j < dk; ++j) {
    const float *row = M + j * dv;
    for (int64_t i = 0; i < dv; ++i) {
      p[i] += row[i] * k[j];
      out[i] += row[i] * q[j];
    }
  }
  for (int64_t i = 0; i < dv; ++i) {
    const float delta = beta * (v[i] - alpha * p[i]);
    out[i] = scale * (alpha * out[i] + kq * delta);
    p[i] = delta;
  }
  for (int64_t j = 0; j < dk; ++j) {
    float *row = M + j * dv;
    for (int64_t i = 0; i < dv; ++i)
      row[i] = alpha * row[i] + k[j] * p[i];
  }
}

} // namespace qn::runtime

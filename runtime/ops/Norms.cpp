//===- Norms.cpp - RMS and L2 normalisation ------------------------------===//

#include "runtime/ops/Norms.h"

#include <algorithm>
#include <cmath>

namespace qn::runtime {

static double sumOfSquares(const float *x, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

void rmsNorm(const float *x, const float *w, int64_t n, float eps, float *out) {
  const float mean = static_cast<float>(sumOfSquares(x, n) / n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i)
    out[i] = w ? w[i] * (x[i] * scale) : x[i] * scale;
}

void rmsNormRows(const float *x, const float *w, int64_t rows, int64_t n,
                 float eps, float *out) {
  for (int64_t r = 0; r < rows; ++r)
    rmsNorm(x + r * n, w, n, eps, out + r * n);
}

void l2Norm(const float *x, int64_t n, float eps, float *out) {
  const float norm = static_cast<float>(std::sqrt(sumOfSquares(x, n)));
  const float scale = 1.0f / std::max(norm, eps);
  for (int64_t i = 0; i < n; ++i)
    out[i] = x[i] * scale;
}

} // namespace qn::runtime

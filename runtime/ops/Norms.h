//===- Norms.h - RMS and L2 normalisation -----------------------*- C++ -*-===//
//
// Both accumulate the sum of squares in double, as ggml's CPU kernels do
// (ggml_float), so long rows lose no precision before the F32 scale.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_NORMS_H
#define QN_RUNTIME_OPS_NORMS_H

#include <cstdint>

namespace qn::runtime {

/// out[i] = w[i] * x[i] / sqrt(mean(x^2) + eps). `w` may be null (no
/// weight). `out` may equal `x`.
void rmsNorm(const float *x, const float *w, int64_t n, float eps, float *out);

/// Applies rmsNorm to `rows` consecutive vectors of length n sharing `w`.
void rmsNormRows(const float *x, const float *w, int64_t rows, int64_t n,
                 float eps, float *out);

/// out = x / max(||x||_2, eps) (ggml_l2_norm; differs from HF's
/// x * rsqrt(sum x^2 + eps) only for near-zero vectors). `out` may equal `x`.
void l2Norm(const float *x, int64_t n, float eps, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_NORMS_H

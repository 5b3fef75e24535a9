//===- matmul_avx2.cpp - AVX2/FMA/F16C matmul kernels ---------------------===//
//
// Everything after the target pragma is compiled for AVX2 + FMA + F16C and
// only reached when the CPU reports those features (see matmul_dispatch.cpp).
// It lives in its own namespace so nothing compiled here is shared with the
// generic build of the same inline code.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "runtime/ThreadPool.h"
#include "runtime/kernels/MatmulIsa.h"
#include "runtime/kernels/QuantBlocks.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace qn::runtime::kernels_avx2 {

using DequantFn = void (*)(const uint8_t *src, int64_t n, float *dst);

#include "runtime/kernels/DequantAvx2.inc"
#include "runtime/kernels/FusedDotAvx2.inc"
#include "runtime/kernels/FusedQ8Avx2.inc"

static FusedRowFn fusedRowFor(gguf::GGMLType type, int64_t nTokens) {
  return avx2FusedRow(type, nTokens);
}

static DequantFn dequantizerFor(gguf::GGMLType type) {
  return avx2Dequantizer(type);
}

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 3 tokens x 4 rows: 12 accumulators + 4 weight vectors + 1 activation fill
// the 16 ymm registers.
constexpr int TokenTile = 3;

template <int T, int R>
static void tileKernel(const float *W, int64_t ws, const float *X, int64_t xs,
                       int64_t K, float *Y, int64_t ys, bool accumulate) {
  __m256 acc[T][R];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r)
      acc[t][r] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r)
      wv[r] = _mm256_loadu_ps(W + r * ws + k);
    for (int t = 0; t < T; ++t) {
      __m256 xv = _mm256_loadu_ps(X + t * xs + k);
      for (int r = 0; r < R; ++r)
        acc[t][r] = _mm256_fmadd_ps(wv[r], xv, acc[t][r]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      float s = hsum(acc[t][r]);
      for (int64_t kk = k; kk < K; ++kk)
        s += W[r * ws + kk] * X[t * xs + kk];
      float &out = Y[t * ys + r];
      out = accumulate ? out + s : s;
    }
}

#include "runtime/kernels/MatmulDriver.inc"

} // namespace qn::runtime::kernels_avx2

void qn::runtime::detail::matmulAvx2(const WeightView &w, const float *x,
                                     int64_t nTokens, float *y,
                                     ThreadPool *pool, MatmulActivations act,
                                     bool accumulate) {
  kernels_avx2::matmulImpl(w, x, nTokens, y, pool, act, accumulate);
}

#pragma GCC pop_options

//===- matmul_avx512.cpp - AVX-512 matmul kernels -------------------------===//
//
// 16-wide tiles for CPUs with AVX-512F (the dequantizers are the AVX2 ones:
// they are not the bottleneck once a tile is reused across tokens). Compiled
// for AVX-512 only after the target pragma and reached only when the CPU
// reports the features (matmul_dispatch.cpp).
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
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

namespace qn::runtime::kernels_avx512 {

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

// Not _mm512_reduce_add_ps or _mm512_castps512_ps256: in g++ 12 both read
// an "undefined" vector that trips -Wuninitialized.
static inline float hsum(__m512 v) {
  __m256 lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  __m256 hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  __m256 s8 = _mm256_add_ps(lo, hi);
  __m128 s =
      _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 4 tokens x 4 rows: 16 accumulators of the 32 zmm registers.
constexpr int TokenTile = 4;

template <int T, int R>
static void tileKernel(const float *W, int64_t ws, const float *X, int64_t xs,
                       int64_t K, float *Y, int64_t ys, bool accumulate) {
  __m512 acc[T][R];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r)
      acc[t][r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r)
      wv[r] = _mm512_loadu_ps(W + r * ws + k);
    for (int t = 0; t < T; ++t) {
      __m512 xv = _mm512_loadu_ps(X + t * xs + k);
      for (int r = 0; r < R; ++r)
        acc[t][r] = _mm512_fmadd_ps(wv[r], xv, acc[t][r]);
    }
  }
  if (k < K) {
    // Columns left over (F32/F16/BF16 rows of any length): masked loads read
    // nothing past the row.
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
    __m512 wv[R];
    for (int r = 0; r < R; ++r)
      wv[r] = _mm512_maskz_loadu_ps(m, W + r * ws + k);
    for (int t = 0; t < T; ++t) {
      __m512 xv = _mm512_maskz_loadu_ps(m, X + t * xs + k);
      for (int r = 0; r < R; ++r)
        acc[t][r] = _mm512_fmadd_ps(wv[r], xv, acc[t][r]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      float s = hsum(acc[t][r]);
      float &out = Y[t * ys + r];
      out = accumulate ? out + s : s;
    }
}

// The int8 prefill GEMM: AVX-512 VNNI where present, else the AVX2 one.
static bool gemmQ8(const WeightView &w, const float *x, int64_t nTokens,
                   float *y, ThreadPool *pool, bool accumulate) {
  return matmulQ8Gemm(MatmulIsa::Avx512, w, x, nTokens, y, pool, accumulate);
}

#include "runtime/kernels/MatmulDriver.inc"

} // namespace qn::runtime::kernels_avx512

void qn::runtime::detail::matmulAvx512(const WeightView &w, const float *x,
                                       int64_t nTokens, float *y,
                                       ThreadPool *pool, MatmulActivations act,
                                       bool accumulate) {
  kernels_avx512::matmulImpl(w, x, nTokens, y, pool, act, accumulate);
}

#pragma GCC pop_options

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
#include <type_traits>

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

// The int8 prefill GEMM (GemmQ8.inc) with 8 lanes and no VNNI: maddubs +
// madd. maddubs saturates pairs at int16, which codes <= 63 (every format
// but Q8_0) never reach; Q8_0 uses the sign trick (|w| x sign(x, w)).
constexpr int GemmLanes = 8;
constexpr bool GemmSignedQ8 = true;

struct GemmOps {
  using VI = __m256i;
  using VF = __m256;
  static VI loadI(const void *p) {
    return _mm256_loadu_si256(static_cast<const __m256i *>(p));
  }
  static VI bcast32(const void *p) {
    int32_t v;
    std::memcpy(&v, p, sizeof(v));
    return _mm256_set1_epi32(v);
  }
  static VI setI(int32_t v) { return _mm256_set1_epi32(v); }
  static VI zeroI() { return _mm256_setzero_si256(); }
  static VI dot(VI acc, VI u, VI s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s),
                                                   _mm256_set1_epi16(1)));
  }
  static VI absI8(VI v) { return _mm256_sign_epi8(v, v); }
  static VI dotSigned(VI acc, VI absW, VI w, VI x) {
    return dot(acc, absW, _mm256_sign_epi8(x, w));
  }
  static VF zeroF() { return _mm256_setzero_ps(); }
  static VF loadF(const float *p) { return _mm256_loadu_ps(p); }
  static VF bcastF(float v) { return _mm256_set1_ps(v); }
  static VF cvt(VI v) { return _mm256_cvtepi32_ps(v); }
  static VF mul(VF a, VF b) { return _mm256_mul_ps(a, b); }
  static VF fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
  static VF fnma(VF a, VF b, VF c) { return _mm256_fnmadd_ps(a, b, c); }
  static void storeRows(float *y, VF v, int n, bool accumulate) {
    if (n == 8) {
      if (accumulate)
        v = _mm256_add_ps(_mm256_loadu_ps(y), v);
      _mm256_storeu_ps(y, v);
      return;
    }
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (int i = 0; i < n; ++i)
      y[i] = accumulate ? y[i] + tmp[i] : tmp[i];
  }
  /// 8 rows of `steps` dwords to `steps` vectors of one dword per row:
  /// 8 x 8 dword transposes (steps a multiple of 8).
  static void interleave(const uint8_t *src, int64_t srcStride, int64_t steps,
                         uint8_t *dst, int64_t dstStride) {
    for (int64_t j0 = 0; j0 < steps; j0 += 8) {
      __m256i a[8], b[8], c[8];
      for (int i = 0; i < 8; ++i)
        a[i] = loadI(src + i * srcStride + 4 * j0);
      for (int i = 0; i < 8; i += 2) {
        b[i] = _mm256_unpacklo_epi32(a[i], a[i + 1]);
        b[i + 1] = _mm256_unpackhi_epi32(a[i], a[i + 1]);
      }
      // c[4q + m], 128-bit lane l: rows 4q..4q+3 at dword 4l + m.
      for (int qd = 0; qd < 2; ++qd) {
        const __m256i *bq = b + 4 * qd;
        c[4 * qd + 0] = _mm256_unpacklo_epi64(bq[0], bq[2]);
        c[4 * qd + 1] = _mm256_unpackhi_epi64(bq[0], bq[2]);
        c[4 * qd + 2] = _mm256_unpacklo_epi64(bq[1], bq[3]);
        c[4 * qd + 3] = _mm256_unpackhi_epi64(bq[1], bq[3]);
      }
      for (int m = 0; m < 4; ++m) {
        _mm256_storeu_si256(
            reinterpret_cast<__m256i *>(dst + (j0 + m) * dstStride),
            _mm256_permute2x128_si256(c[m], c[4 + m], 0x20));
        _mm256_storeu_si256(
            reinterpret_cast<__m256i *>(dst + (j0 + 4 + m) * dstStride),
            _mm256_permute2x128_si256(c[m], c[4 + m], 0x31));
      }
    }
  }
};

#include "runtime/kernels/GemmQ8.inc"

static bool gemmQ8(const WeightView &w, const float *x, int64_t nTokens,
                   float *y, ThreadPool *pool, bool accumulate) {
  return gemmQ8Impl(w, x, nTokens, y, pool, accumulate);
}

#include "runtime/kernels/MatmulDriver.inc"

} // namespace qn::runtime::kernels_avx2

bool qn::runtime::detail::gemmQ8Avx2(const WeightView &w, const float *x,
                                     int64_t nTokens, float *y,
                                     ThreadPool *pool, bool accumulate) {
  return kernels_avx2::gemmQ8Impl(w, x, nTokens, y, pool, accumulate);
}

void qn::runtime::detail::matmulAvx2(const WeightView &w, const float *x,
                                     int64_t nTokens, float *y,
                                     ThreadPool *pool, MatmulActivations act,
                                     bool accumulate) {
  kernels_avx2::matmulImpl(w, x, nTokens, y, pool, act, accumulate);
}

#pragma GCC pop_options

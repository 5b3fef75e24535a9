//===- matmul_avx512vnni.cpp - int8 prefill GEMM with AVX-512 VNNI --------===//
//
// GemmQ8.inc with 16-lane vectors and vpdpbusd (u8 x s8 -> s32, four
// products per lane). Its own translation unit so that VNNI code is only
// emitted here and only reached when the CPU reports avx512vnni
// (matmul_dispatch.cpp); the AVX-512 variant without VNNI uses the AVX2
// GEMM.
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
#pragma GCC target(                                                            \
    "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")

namespace qn::runtime::kernels_avx512vnni {

using DequantFn = void (*)(const uint8_t *src, int64_t n, float *dst);

// Only the block helpers and the activation quantizer of these are used.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "runtime/kernels/DequantAvx2.inc"
#include "runtime/kernels/FusedDotAvx2.inc"
#include "runtime/kernels/FusedQ8Avx2.inc"
#pragma GCC diagnostic pop

constexpr int GemmLanes = 16;
constexpr bool GemmSignedQ8 = false; // vpdpbusd does not saturate

struct GemmOps {
  using VI = __m512i;
  using VF = __m512;
  static constexpr __mmask16 All = 0xFFFF;
  static constexpr __mmask8 All8 = 0xFF;
  static VI loadI(const void *p) { return _mm512_loadu_si512(p); }
  static VI bcast32(const void *p) {
    int32_t v;
    std::memcpy(&v, p, sizeof(v));
    return _mm512_set1_epi32(v);
  }
  static VI setI(int32_t v) { return _mm512_set1_epi32(v); }
  static VI zeroI() { return _mm512_setzero_si512(); }
  static VI dot(VI acc, VI u, VI s) { return _mm512_dpbusd_epi32(acc, u, s); }
  // The sign trick is not needed here (GemmSignedQ8 is false); these keep
  // the micro-kernel's discarded branch well-formed.
  static VI absI8(VI v) { return _mm512_abs_epi8(v); }
  static VI dotSigned(VI acc, VI absW, VI w, VI x) {
    const VI zero = _mm512_setzero_si512();
    VI s = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), zero, x);
    s = _mm512_maskz_mov_epi8(~_mm512_cmpeq_epi8_mask(w, zero), s);
    return _mm512_dpbusd_epi32(acc, absW, s);
  }
  static VF zeroF() { return _mm512_setzero_ps(); }
  static VF loadF(const float *p) { return _mm512_loadu_ps(p); }
  static VF bcastF(float v) { return _mm512_set1_ps(v); }
  // maskz forms: in g++ 12 the unmasked ones read an "undefined" vector that
  // trips -Wmaybe-uninitialized.
  static VF cvt(VI v) { return _mm512_maskz_cvtepi32_ps(All, v); }
  static VF mul(VF a, VF b) { return _mm512_mul_ps(a, b); }
  static VF fma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
  static VF fnma(VF a, VF b, VF c) { return _mm512_fnmadd_ps(a, b, c); }
  /// y[0..n) (+)= v[0..n): masked, nothing past n is touched.
  static void storeRows(float *y, VF v, int n, bool accumulate) {
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    if (accumulate)
      v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y), v);
    _mm512_mask_storeu_ps(y, m, v);
  }
  /// 16 rows of `steps` dwords (row i at src + i * srcStride) to `steps`
  /// vectors of one dword per row (vector j at dst + j * dstStride):
  /// 16 x 16 dword transposes. steps is a multiple of 16.
  static void interleave(const uint8_t *src, int64_t srcStride, int64_t steps,
                         uint8_t *dst, int64_t dstStride) {
    for (int64_t j0 = 0; j0 < steps; j0 += 16) {
      __m512i a[16], b[16], c[16];
      for (int i = 0; i < 16; ++i)
        a[i] = _mm512_loadu_si512(src + i * srcStride + 4 * j0);
      for (int i = 0; i < 16; i += 2) {
        b[i] = _mm512_maskz_unpacklo_epi32(All, a[i], a[i + 1]);
        b[i + 1] = _mm512_maskz_unpackhi_epi32(All, a[i], a[i + 1]);
      }
      // c[4q + m], 128-bit lane l: rows 4q..4q+3 at dword 4l + m.
      for (int qd = 0; qd < 4; ++qd) {
        const __m512i *bq = b + 4 * qd;
        c[4 * qd + 0] = _mm512_maskz_unpacklo_epi64(All8, bq[0], bq[2]);
        c[4 * qd + 1] = _mm512_maskz_unpackhi_epi64(All8, bq[0], bq[2]);
        c[4 * qd + 2] = _mm512_maskz_unpacklo_epi64(All8, bq[1], bq[3]);
        c[4 * qd + 3] = _mm512_maskz_unpackhi_epi64(All8, bq[1], bq[3]);
      }
      for (int m = 0; m < 4; ++m) {
        __m512i dLo = _mm512_maskz_shuffle_i32x4(All, c[m], c[4 + m], 0x44);
        __m512i dHi = _mm512_maskz_shuffle_i32x4(All, c[m], c[4 + m], 0xEE);
        __m512i eLo =
            _mm512_maskz_shuffle_i32x4(All, c[8 + m], c[12 + m], 0x44);
        __m512i eHi =
            _mm512_maskz_shuffle_i32x4(All, c[8 + m], c[12 + m], 0xEE);
        const __m512i out[4] = {
            _mm512_maskz_shuffle_i32x4(All, dLo, eLo, 0x88),
            _mm512_maskz_shuffle_i32x4(All, dLo, eLo, 0xDD),
            _mm512_maskz_shuffle_i32x4(All, dHi, eHi, 0x88),
            _mm512_maskz_shuffle_i32x4(All, dHi, eHi, 0xDD)};
        for (int l = 0; l < 4; ++l)
          _mm512_storeu_si512(dst + (j0 + 4 * l + m) * dstStride, out[l]);
      }
    }
  }
};

#include "runtime/kernels/GemmQ8.inc"

} // namespace qn::runtime::kernels_avx512vnni

bool qn::runtime::detail::gemmQ8Avx512Vnni(const WeightView &w, const float *x,
                                           int64_t nTokens, float *y,
                                           ThreadPool *pool, bool accumulate) {
  return kernels_avx512vnni::gemmQ8Impl(w, x, nTokens, y, pool, accumulate);
}

#pragma GCC pop_options

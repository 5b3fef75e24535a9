//===- HotLoopsAvx2.cpp - AVX2+FMA build of HotLoops.inc -----------------===//
//
// Only reached when cpuHasAvx2Fma(). Standard headers come before the target
// pragma so their inline functions keep the baseline ISA.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/HotLoops.h"

#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#define QN_HOT_LOOPS_AVX2 1
#endif

namespace qn::runtime {
namespace hot_avx2 {
#ifdef QN_HOT_LOOPS_AVX2
#include "runtime/ops/HotLoops.inc"
#else
// Not x86-64: never selected (cpuHasAvx2Fma() is false); forward to the
// baseline so the symbols exist.
void attendGroup(const float *q, int64_t G, const float *K, const float *V,
                 int64_t rowStride, int64_t nKeys, int64_t Dh, float *scores,
                 float *out) {
  hot_generic::attendGroup(q, G, K, V, rowStride, nKeys, Dh, scores, out);
}
void gatedDeltaStep(float *M, const float *q, const float *k, const float *v,
                    float g, float beta, int64_t dk, int64_t dv, float *out,
                    float *scratch) {
  hot_generic::gatedDeltaStep(M, q, k, v, g, beta, dk, dv, out, scratch);
}
#endif
} // namespace hot_avx2
} // namespace qn::runtime

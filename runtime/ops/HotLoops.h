//===- HotLoops.h - ISA variants of the runtime's inner loops ---*- C++ -*-===//
//
// The few non-matmul loops that matter for speed (attention over the cache,
// the delta-rule step) are compiled twice from one source (HotLoops.inc):
// plain x86-64/portable and AVX2+FMA. The public ops (Attention.h,
// DeltaNet.h) pick the variant once per process from the CPU's features;
// QN_OPS_ISA=generic forces the plain one. Tests run both explicitly.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_HOTLOOPS_H
#define QN_RUNTIME_OPS_HOTLOOPS_H

#include <cstdint>

namespace qn::runtime {

#define QN_HOT_LOOP_DECLS                                                      \
  void attendGroup(const float *q, int64_t G, const float *K, const float *V,  \
                   int64_t rowStride, int64_t nKeys, int64_t Dh,               \
                   float *scores, float *out);                                 \
  void gatedDeltaStep(float *M, const float *q, const float *k,                \
                      const float *v, float g, float beta, int64_t dk,         \
                      int64_t dv, float *out, float *scratch);

namespace hot_generic {
QN_HOT_LOOP_DECLS
} // namespace hot_generic

namespace hot_avx2 {
QN_HOT_LOOP_DECLS
} // namespace hot_avx2

#undef QN_HOT_LOOP_DECLS

/// True when the AVX2 variants run on this CPU and are not disabled by
/// QN_OPS_ISA=generic.
bool useAvx2HotLoops();

/// True when this CPU can run the AVX2 variants at all.
bool cpuHasAvx2Fma();

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_HOTLOOPS_H

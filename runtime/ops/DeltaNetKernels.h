//===- DeltaNetKernels.h - ISA variants of the delta-rule kernels -*- C++
//-*-===//
//
// The chunked and fused kernels are compiled twice from DeltaNetKernels.inc
// (plain x86-64/portable and AVX2+FMA), like HotLoops.h; DeltaNetChunked.h
// and DeltaNetFused.h pick the variant (useAvx2HotLoops(), QN_OPS_ISA) and
// own the per-thread scratch. Tests run both variants explicitly.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETKERNELS_H
#define QN_RUNTIME_OPS_DELTANETKERNELS_H

#include "runtime/ops/DeltaNetHead.h"

#include <cstdint>

namespace qn::runtime {

/// Which compiled variant runs: the CPU's best (Auto, QN_OPS_ISA=generic
/// forces the baseline), or one explicitly (tests).
enum class DeltaIsa { Auto, Generic, Avx2 };

/// True when `isa` resolves to the AVX2 build.
bool deltaUseAvx2(DeltaIsa isa);

/// Chunk size C of the chunked form (spec §4.1, ggml's 64).
constexpr int64_t kDeltaChunk = 64;
/// Widest column block of the fused kernel (floats per state row copy).
constexpr int64_t kDeltaFusedMaxBlock = 16;

/// Floats of scratch chunkedHead needs.
constexpr int64_t deltaChunkedScratch(int64_t dk, int64_t dv) {
  return kDeltaChunk * (3 * dk + 2 * dv) + 2 * kDeltaChunk * kDeltaChunk +
         3 * kDeltaChunk;
}

#define QN_DELTA_KERNEL_DECLS                                                  \
  /* The chunked form; `scratch` holds deltaChunkedScratch(dk, dv). */         \
  void chunkedHead(const DeltaHeadArgs &a, float *scratch);                    \
  /* The fused kernel; kq[t] = k_t.q_t, `block` holds                          \
     dk * kDeltaFusedMaxBlock floats. */                                       \
  void fusedHead(const DeltaHeadArgs &a, const float *kq, float *block);       \
  int64_t fusedBlockWidth();

namespace delta_generic {
QN_DELTA_KERNEL_DECLS
} // namespace delta_generic

namespace delta_avx2 {
QN_DELTA_KERNEL_DECLS
} // namespace delta_avx2

#undef QN_DELTA_KERNEL_DECLS

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETKERNELS_H

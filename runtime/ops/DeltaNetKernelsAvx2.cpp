//===- DeltaNetKernelsAvx2.cpp - AVX2+FMA build of DeltaNetKernels.inc ---===//
//
// Only reached when cpuHasAvx2Fma(). Standard headers come before the target
// pragma so their inline functions keep the baseline ISA.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetKernels.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#define QN_DELTA_KERNELS_AVX2 1
#endif

namespace qn::runtime {
namespace delta_avx2 {
#ifdef QN_DELTA_KERNELS_AVX2
#include "runtime/ops/DeltaNetKernels.inc"
#else
// Not x86-64: never selected; forward to the baseline so the symbols exist.
void chunkedHead(const DeltaHeadArgs &a, float *scratch) {
  delta_generic::chunkedHead(a, scratch);
}
void fusedHead(const DeltaHeadArgs &a, const float *kq, float *block) {
  delta_generic::fusedHead(a, kq, block);
}
int64_t fusedBlockWidth() { return delta_generic::fusedBlockWidth(); }
#endif
} // namespace delta_avx2
} // namespace qn::runtime

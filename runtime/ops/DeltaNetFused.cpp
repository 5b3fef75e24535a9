//===- DeltaNetFused.cpp - single-pass gated delta rule: dispatch --------===//
//
// Owns the per-thread scratch (the state column block, the k.q products)
// and picks the ISA build of DeltaNetKernels.inc.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetFused.h"

#include <vector>

namespace qn::runtime {
namespace {

float dotf(const float *a, const float *b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l)
      acc[l] += a[i + l] * b[i + l];
  float s = 0.0f;
  for (int l = 0; l < 8; ++l)
    s += acc[l];
  for (; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

} // namespace

void deltaHeadFused(const DeltaHeadArgs &a, DeltaIsa isa) {
  if (a.T <= 0)
    return;
  thread_local std::vector<float> block, kq;
  if (block.size() < static_cast<size_t>(a.dk * kDeltaFusedMaxBlock))
    block.resize(static_cast<size_t>(a.dk * kDeltaFusedMaxBlock));
  if (kq.size() < static_cast<size_t>(a.T))
    kq.resize(static_cast<size_t>(a.T));
  for (int64_t t = 0; t < a.T; ++t)
    kq[t] = dotf(a.k + t * a.qkStride, a.q + t * a.qkStride, a.dk);
  if (deltaUseAvx2(isa))
    delta_avx2::fusedHead(a, kq.data(), block.data());
  else
    delta_generic::fusedHead(a, kq.data(), block.data());
}

} // namespace qn::runtime

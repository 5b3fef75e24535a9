//===- DeltaNetChunked.cpp - the chunked gated delta rule: dispatch ------===//
//
// Spec §4.1, one value head, chunk by chunk (C = 64, state M running across
// chunks). Within a chunk of n real rows (i, j < n; the zero rows that pad
// the last chunk to C contribute nothing, so the loops stop at n):
//
//   G_i = sum_{m<=i} g_m,  Gamma_ij = exp(G_i - G_j) for j <= i only (the
//   difference is never formed above the diagonal: masked before exp),
//   L_ij = beta_i (k_i.k_j) Gamma_ij (j < i),  A_ij = (s q_i.k_j) Gamma_ij
//   (j <= i);  U = (I+L)^-1 diag(beta) V and W = (I+L)^-1 diag(beta e^G) K
//   by forward substitution (the unit lower-triangular solve);
//   V~ = U - W M;  O = diag(e^G) (sQ) M + A V~;
//   M <- e^{G_last} M + (diag(e^{G_last - G}) K)^T V~.
//
// The arithmetic is in DeltaNetKernels.inc; this file owns the per-thread
// scratch and picks the ISA build.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetChunked.h"

#include "runtime/ops/HotLoops.h"

#include <vector>

namespace qn::runtime {

bool deltaUseAvx2(DeltaIsa isa) {
  switch (isa) {
  case DeltaIsa::Auto:
    return useAvx2HotLoops();
  case DeltaIsa::Generic:
    return false;
  case DeltaIsa::Avx2:
    return cpuHasAvx2Fma();
  }
  return false;
}

void deltaHeadChunked(const DeltaHeadArgs &a, DeltaIsa isa) {
  if (a.T <= 0)
    return;
  // Per-thread scratch, grown once per thread.
  thread_local std::vector<float> buf;
  const size_t need = static_cast<size_t>(deltaChunkedScratch(a.dk, a.dv));
  if (buf.size() < need)
    buf.resize(need);
  if (deltaUseAvx2(isa))
    delta_avx2::chunkedHead(a, buf.data());
  else
    delta_generic::chunkedHead(a, buf.data());
}

} // namespace qn::runtime

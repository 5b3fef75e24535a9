//===- DeltaNet.cpp - the gated delta rule, recurrent form ---------------===//
//
// The body lives in HotLoops.inc (one pass over the old state, as the
// peer's fused kernel); this picks its ISA variant.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNet.h"

#include "runtime/ops/HotLoops.h"

namespace qn::runtime {

void gatedDeltaStep(float *M, const float *q, const float *k, const float *v,
                    float g, float beta, int64_t dk, int64_t dv, float *out,
                    float *scratch) {
  if (useAvx2HotLoops())
    hot_avx2::gatedDeltaStep(M, q, k, v, g, beta, dk, dv, out, scratch);
  else
    hot_generic::gatedDeltaStep(M, q, k, v, g, beta, dk, dv, out, scratch);
}

} // namespace qn::runtime

//===- DeltaNetFused.h - single-pass gated delta rule for prefill -*- C++
//-*-===//
//
// The recurrence of spec §3.2 step 8 (like ik's ggml_delta_net), one head
// over all T tokens in one call, with ONE sweep over the state per token
// instead of two: the sweep that writes M_t = alpha M_{t-1} + k delta^T also
// accumulates M_t^T k_{t+1} and M_t^T q_{t+1}, the two products the next
// token starts from. The value columns of the state are independent, so the
// kernel walks them in blocks of 16 (AVX2; 8 baseline) and runs all T tokens
// over one block before the next: the block (8 KiB at dk = 128) stays in L1
// for the whole ubatch and the per-column vectors stay in registers while
// q, k and v stream by. Body: DeltaNetKernels.inc.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETFUSED_H
#define QN_RUNTIME_OPS_DELTANETFUSED_H

#include "runtime/ops/DeltaNetHead.h"
#include "runtime/ops/DeltaNetKernels.h"

namespace qn::runtime {

/// The fused kernel over a.T tokens (any T >= 1).
void deltaHeadFused(const DeltaHeadArgs &a, DeltaIsa isa = DeltaIsa::Auto);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETFUSED_H

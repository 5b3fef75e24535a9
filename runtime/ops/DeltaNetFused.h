//===- DeltaNetFused.h - single-pass gated delta rule for prefill -*- C++
//-*-===//
//
// The recurrence of spec §3.2 step 8 (like ik's ggml_delta_net), but one
// head over all T tokens in one call with the state in a thread-local
// buffer, and ONE sweep over the state per token instead of two: the sweep
// that writes M_t = alpha M_{t-1} + k delta^T also accumulates M_t^T k_{t+1}
// and M_t^T q_{t+1}, the two products the next token starts from.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETFUSED_H
#define QN_RUNTIME_OPS_DELTANETFUSED_H

#include "runtime/ops/DeltaNetHead.h"

namespace qn::runtime {

/// The fused kernel over a.T tokens (any T >= 1).
void deltaHeadFused(const DeltaHeadArgs &a);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETFUSED_H

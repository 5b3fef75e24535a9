//===- DeltaNet.h - the gated delta rule, recurrent form --------*- C++ -*-===//
//
// One token of spec §3.2 step 8 for one value head. The state M is dk x dv,
// row-major (element (k-index j, v-index i) at j*dv + i): the same memory as
// the peer's slot and HF's [H, dk, dv], so saved states are comparable.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANET_H
#define QN_RUNTIME_OPS_DELTANET_H

#include <cstdint>

namespace qn::runtime {

/// M <- exp(g) M;  delta = beta (v - M^T k);  M <- M + k delta^T;
/// out = M^T (q / sqrt(dk)).  q and k are L2-normalised (q unscaled), g is
/// the log-decay (<= 0), beta the write strength (after the sigmoid).
/// `scratch` holds dv floats.
void gatedDeltaStep(float *M, const float *q, const float *k, const float *v,
                    float g, float beta, int64_t dk, int64_t dv, float *out,
                    float *scratch);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANET_H

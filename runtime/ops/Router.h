//===- Router.h - MoE expert selection --------------------------*- C++ -*-===//

#ifndef QN_RUNTIME_OPS_ROUTER_H
#define QN_RUNTIME_OPS_ROUTER_H

#include <cstdint>

namespace qn::runtime {

/// Spec §3.4 steps 1-3 for one token: probs = softmax(logits) (E values,
/// written to `probs`), the k most probable experts in descending order
/// (ties: lower id first) into `ids`, and their probabilities renormalised
/// to sum 1 into `weights`.
void routeTopK(const float *logits, int64_t E, int64_t k, float *probs,
               int32_t *ids, float *weights);

/// softmax over n values (max-subtracted, sum in double); `out` may equal
/// `x`.
void softmax(const float *x, int64_t n, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ROUTER_H

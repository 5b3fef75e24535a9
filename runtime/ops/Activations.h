//===- Activations.h - scalar activation functions --------------*- C++ -*-===//
//
// The scalar functions of the forward pass, written as ggml's CPU backend
// writes them (F32, libm expf/logf) so results track the peer closely.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_ACTIVATIONS_H
#define QN_RUNTIME_OPS_ACTIVATIONS_H

#include <cmath>

namespace qn::runtime {

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

/// ggml's softplus: identity above 20 (as torch's default threshold), where
/// log(1 + exp(x)) == x in F32 anyway and exp could overflow.
inline float softplus(float x) {
  return x > 20.0f ? x : std::log(1.0f + std::exp(x));
}

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ACTIVATIONS_H

//===- Rope.h - partial NEOX rotary position embedding ----------*- C++ -*-===//

#ifndef QN_RUNTIME_OPS_ROPE_H
#define QN_RUNTIME_OPS_ROPE_H

#include <cstdint>

namespace qn::runtime {

/// Rotates, in place, the first nRot dims of each of nHeads vectors of
/// headDim floats, NEOX style: pairs (i, i + nRot/2) by angle
/// pos * base^(-2i/nRot). Dims nRot..headDim-1 pass through. The angle is
/// built by repeated float multiplication, exactly like ggml's table, so it
/// differs from a direct pow in the last bits the same way the peer does.
void ropeNeox(float *x, int64_t nHeads, int64_t headDim, int64_t nRot,
              int64_t pos, float base);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ROPE_H

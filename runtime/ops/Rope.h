//===- Rope.h - partial NEOX rotary position embedding ----------*- C++ -*-===//

#ifndef QN_RUNTIME_OPS_ROPE_H
#define QN_RUNTIME_OPS_ROPE_H

#include <array>
#include <cstdint>

namespace qn::runtime {

/// Rotates, in place, the first nRot dims of each of nHeads vectors of
/// headDim floats, NEOX style: pairs (i, i + nRot/2) by angle
/// pos * base^(-2i/nRot). Dims nRot..headDim-1 pass through. The angle is
/// built by repeated float multiplication, exactly like ggml's table, so it
/// differs from a direct pow in the last bits the same way the peer does.
/// With `sections` (IMRoPE, qwen35 spec §3.3) for text positions
/// (p, p, p, 0), pairs on the e axis keep angle 0 and are left as they are.
void ropeNeox(float *x, int64_t nHeads, int64_t headDim, int64_t nRot,
              int64_t pos, float base,
              const std::array<int64_t, 4> *sections = nullptr);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ROPE_H

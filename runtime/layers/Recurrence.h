//===- Recurrence.h - the per-sequence steps of Gated DeltaNet --*- C++ -*-===//
//
// The two steps of spec §3.2 that carry state from one ubatch to the next,
// run per sequence group on that group's rows and state: the causal conv
// with its window, and the gated delta rule over the value heads. Shared by
// the direct engine (linearAttention) and the plan executor
// (DispatchKind::Conv1dCausal, DispatchKind::GatedDeltaNet).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_RECURRENCE_H
#define QN_RUNTIME_LAYERS_RECURRENCE_H

#include "runtime/layers/Sequence.h"
#include "runtime/ops/DeltaNetHead.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>

namespace qn::runtime {

class ThreadPool;

/// Causal conv (no activation) of u [T x C] into y [T x C], each group with
/// the conv window of `layer` in its slot. `wT`: the kernel as [Kc x C];
/// `window`: scratch of (Kc-1) * C floats.
void causalConvGroups(const float *u, int64_t C, int64_t Kc, const float *wT,
                      llvm::ArrayRef<SeqGroup> groups, int64_t layer,
                      float *window, float *y);

/// The operands of the delta rule over T rows, as element strides so views
/// need no copy: row t, head h of q starts at q + t*qRow + h*qHead (dk
/// contiguous floats), the same for k (same strides as q), v (dv floats)
/// and out (dv floats); g and beta of row t, value head h are at
/// t*gRow + h*gHead (same strides for both).
struct DeltaNetOperands {
  int64_t Hk = 0, Hv = 0, dk = 0, dv = 0;
  /// Value head h reads q/k head h mod Hk (qwen35 files) instead of
  /// h / (Hv/Hk) (qwen3next).
  bool tiled = false;
  const float *q = nullptr, *k = nullptr;
  int64_t qRow = 0, qHead = 0;
  const float *v = nullptr;
  int64_t vRow = 0, vHead = 0;
  const float *g = nullptr, *beta = nullptr;
  int64_t gRow = 0, gHead = 0;
  float *out = nullptr;
  int64_t outRow = 0, outHead = 0;
};

/// Which algorithm runs the heads of a group (all compute the same
/// function; docs/delta-path.md).
struct DeltaChoice {
  /// The algorithm the IR fixed; none: `mode` picks one per group from its
  /// token count.
  std::optional<DeltaImpl> impl;
  /// With `impl`: groups of fewer tokens run the recurrent form.
  int64_t recurrentBelow = 0;
  DeltaMode mode = DeltaMode::Auto;

  DeltaImpl pick(int64_t count, int64_t dk, int64_t dv) const;
};

/// Runs every value head of every group (heads spread over `pool`) against
/// the delta state of `layer` in the group's slot. Value head h reads q/k
/// head h / (Hv/Hk), or h mod Hk with `tiled`.
void deltaNetGroups(const DeltaNetOperands &o, llvm::ArrayRef<SeqGroup> groups,
                    int64_t layer, const DeltaChoice &choice, ThreadPool *pool);

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_RECURRENCE_H

//===- Layers.h - the blocks of the direct forward pass ---------*- C++ -*-===//
//
// Internal to the runtime: the hand-written layer loop of Context::forward,
// the reference twin of the compiled plan (runtime/plan/Executor). Each
// block reads the normed input `x` [T x D] of the ubatch's rows and writes
// its output [T x D] (the residual add is the caller's). The steps the plan
// executor runs too live in GatedAttention.h, Recurrence.h and MoE.h; all
// scratch comes from the Workspace, sized once per context.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_LAYERS_H
#define QN_RUNTIME_LAYERS_LAYERS_H

#include "runtime/Dump.h"
#include "runtime/Model.h"
#include "runtime/layers/MoE.h"
#include "runtime/layers/Sequence.h"
#include "runtime/layers/Workspace.h"
#include "runtime/ops/Attention.h"
#include "runtime/ops/DeltaNetHead.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>

namespace qn::runtime {

class ThreadPool;

struct LayerContext {
  const Model &model;
  const LayerWeights &w;
  int64_t layer;
  /// The sequences of the ubatch; matmuls run over all their rows at once,
  /// the recurrent state and the KV cache are per group.
  llvm::ArrayRef<SeqGroup> groups;
  Workspace &ws;
  ThreadPool *pool;
  const Dumper &dump;
  KVType kvType;
  /// Which delta-rule algorithm runs (ContextParams::deltaMode).
  DeltaMode deltaMode = DeltaMode::Auto;
};

/// Gated DeltaNet mixer (spec §3.2) over the T rows of the ubatch, advancing
/// each group's conv window and delta state.
void linearAttention(LayerContext &c, const float *x, int64_t T, float *out);

/// Gated full attention (spec §3.3). `pos[t]` is row t's position; its K/V
/// are stored at row pos[t] of its group's cache and it attends to rows
/// 0..pos[t] of that cache.
void fullAttention(LayerContext &c, const float *x, const int32_t *pos,
                   int64_t T, float *out);

/// The MoE weights of a layer, multiplied with getMatmulActivations() (the
/// direct engine's setting).
inline MoEWeights moeWeights(const LayerWeights &w) {
  MoEWeights m;
  m.router = w.ffnRouter;
  m.gateExps = w.ffnGateExps;
  m.upExps = w.ffnUpExps;
  m.downExps = w.ffnDownExps;
  m.hasShared = w.hasSharedExpert;
  m.gateShexp = w.ffnGateShexp;
  m.upShexp = w.ffnUpShexp;
  m.downShexp = w.ffnDownShexp;
  m.gateInpShexp = w.ffnGateInpShexp.data();
  m.activations = getMatmulActivations();
  return m;
}

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_LAYERS_H

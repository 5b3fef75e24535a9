//===- Layers.h - the blocks of the Qwen3-Next forward pass -----*- C++ -*-===//
//
// Internal to the runtime. Each block works on the T tokens of one sequence
// within a ubatch, reads the normed input `x` [T x D] and writes its output
// [T x D] (the residual add is the caller's). All scratch comes from the
// Workspace, sized once per context, so a step allocates nothing.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_LAYERS_H
#define QN_RUNTIME_LAYERS_LAYERS_H

#include "runtime/Dump.h"
#include "runtime/Model.h"
#include "runtime/ops/Attention.h"
#include "runtime/ops/DeltaNetHead.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace qn::runtime {

class ThreadPool;

/// The carried state of one sequence slot (spec §5).
struct SequenceSlot {
  /// Positions 0..length-1 have been evaluated.
  int64_t length = 0;
  /// Per layer (empty for full-attention layers): conv window ggml
  /// {Kc-1, Cc} and delta state Hv x [dk x dv], both F32.
  std::vector<std::vector<float>> conv, delta;
  /// Per layer (empty for linear layers): nCtx rows of Hkv*Dh cache
  /// elements for K (roped, normed) and V.
  std::vector<std::vector<uint8_t>> keys, values;

  /// Clears the recurrent state and forgets every position.
  void reset();
};

/// Scratch for one ubatch of at most `maxTokens` tokens.
struct Workspace {
  int64_t maxTokens = 0;
  std::vector<float> proj, u, z, y, baRaw, g, beta, o, deltaScratch, convWindow;
  std::vector<float> q, k, v, gate, att, attScratch, kf, vf;
  int64_t nThreads = 1;
  std::vector<float> routerLogits, probs, weights, xe, eg, eu, ed, routed,
      shared;
  std::vector<int32_t> ids, expertTokens, expertSlots;

  /// `nThreads`: threads that may run attention heads at once (each gets
  /// its own row of score scratch).
  void allocate(const gguf::Qwen3NextHParams &hp, int64_t maxTokens,
                int64_t nCtx, int64_t nThreads);
};

/// The tokens of one sequence inside a ubatch: activation rows
/// [begin, begin + count), in position order. A ubatch holds at most one
/// group per sequence.
struct SeqGroup {
  SequenceSlot *slot = nullptr;
  int64_t begin = 0;
  int64_t count = 0;
};

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

/// Routed + shared expert FFN (spec §3.4).
void moeFFN(LayerContext &c, const float *x, int64_t T, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_LAYERS_H

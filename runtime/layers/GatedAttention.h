//===- GatedAttention.h - gated attention after the projections -*- C++ -*-===//
//
// Spec §3.3 steps 2-7, shared by the direct engine (fullAttention) and the
// plan executor (DispatchKind::GatedAttention): split query and gate, RMS
// norm q and k per head, partial NEOX rope, store K/V at their positions in
// each group's cache, attend causally, multiply by sigmoid(gate).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_GATEDATTENTION_H
#define QN_RUNTIME_LAYERS_GATEDATTENTION_H

#include "runtime/Dump.h"
#include "runtime/layers/Sequence.h"
#include "runtime/ops/Attention.h"

#include "llvm/ADT/ArrayRef.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace qn::runtime {

class ThreadPool;

struct AttentionDims {
  int64_t nHead = 0, nHeadKV = 0, headDim = 0, ropeDims = 0;
  float ropeBase = 0, eps = 0;
  /// IMRoPE sections (qwen35); absent: NEOX on every pair.
  std::optional<std::array<int64_t, 4>> ropeSections;
};

/// Scratch of gatedAttention for up to `maxTokens` rows and `nCtx` keys.
struct AttentionScratch {
  std::vector<float> q, k, gate;
  /// Per thread: the scores of one (token, KV head) item.
  std::vector<float> scores;
  /// The cache rows a group sees, as F32.
  std::vector<float> kf, vf;
  int64_t nThreads = 1;

  /// For calls of up to `maxTokens` rows of `qDim` query and `kvDim` key
  /// values, `group` query heads per KV head, `nCtx` cache rows;
  /// `nThreads`: threads that may run attention items at once.
  void allocate(int64_t qDim, int64_t kvDim, int64_t group, int64_t maxTokens,
                int64_t nCtx, int64_t nThreads);
};

/// The operands of one call over T rows (all row-major, contiguous).
struct AttentionArgs {
  /// [T x 2*Hq*Dh]: per head, Dh query values then Dh gate values.
  const float *qAux = nullptr;
  /// [T x Hkv*Dh] each: k before its norm and rope, v.
  const float *k = nullptr, *v = nullptr;
  /// [Dh] each: RMS norm weights shared by the heads.
  const float *qNorm = nullptr, *kNorm = nullptr;
  /// [T]: each row's position in its sequence.
  const int32_t *pos = nullptr;
  int64_t T = 0;
  /// [T x Hq*Dh]: the gated attention output.
  float *out = nullptr;
};

/// Runs the steps over `groups` (rows of one sequence each, positions
/// increasing), storing K/V into row pos[t] of the group's cache of `layer`
/// and reading rows 0..pos[t] back. Dumps use the peer's names with `layer`.
void gatedAttention(const AttentionDims &d, const AttentionArgs &a,
                    llvm::ArrayRef<SeqGroup> groups, int64_t layer,
                    KVType kvType, AttentionScratch &s, ThreadPool *pool,
                    const Dumper &dump);

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_GATEDATTENTION_H

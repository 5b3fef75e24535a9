//===- Workspace.h - the direct engine's scratch ----------------*- C++ -*-===//
//
// Internal to the runtime. Everything the layer loop of Context::forward
// writes between the residual stream's reads, sized once per context for
// the largest ubatch, so a step allocates nothing.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_WORKSPACE_H
#define QN_RUNTIME_LAYERS_WORKSPACE_H

#include "gguf/Qwen3Next.h"
#include "runtime/layers/GatedAttention.h"
#include "runtime/layers/MoE.h"

#include <cstdint>
#include <vector>

namespace qn::runtime {

/// The attention sizes of a model.
AttentionDims attentionDims(const gguf::Qwen3NextHParams &hp);
/// The MoE sizes of a model.
MoEDims moeDims(const gguf::Qwen3NextHParams &hp);

/// Scratch for one ubatch of at most `maxTokens` tokens.
struct Workspace {
  int64_t maxTokens = 0;
  // Gated DeltaNet.
  std::vector<float> proj, u, z, y, baRaw, g, beta, o, convWindow;
  // Full attention: the projections and the gated output.
  std::vector<float> kcur, vcur, att;
  AttentionScratch attention;
  MoEScratch moe;

  /// `nThreads`: threads that may run attention items at once.
  void allocate(const gguf::Qwen3NextHParams &hp, int64_t maxTokens,
                int64_t nCtx, int64_t nThreads);
};

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_WORKSPACE_H

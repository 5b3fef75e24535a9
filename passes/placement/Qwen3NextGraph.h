//===- Qwen3NextGraph.h - the Qwen3-Next op graph for placement -*- C++ -*-===//
//
// Builds the dataflow graph of one forward pass (a ubatch of T tokens) from
// hyper-parameters alone, at the granularity of ggml's Qwen3-Next graph
// (spec §3, §8.1): one node per matmul, norm, activation, routing step, etc.
// Weights carry their GGUF names, so --override-tensor regexes and
// --n-cpu-moe apply exactly as to a real file.
//
//===----------------------------------------------------------------------===//
#ifndef QN_PASSES_PLACEMENT_QWEN3NEXTGRAPH_H
#define QN_PASSES_PLACEMENT_QWEN3NEXTGRAPH_H

#include "passes/placement/Graph.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace qn::placement {

/// The hyper-parameters the graph depends on (names as in spec §1).
struct ModelShape {
  int64_t nLayer = 0;         // L
  int64_t nEmbd = 0;          // D
  int64_t nVocab = 0;         // V
  int64_t nHead = 0;          // Hq
  int64_t nHeadKV = 0;        // Hkv
  int64_t headDim = 0;        // Dh
  int64_t convKernel = 0;     // Kc
  int64_t ssmInner = 0;       // Cv = Hv * dv
  int64_t ssmState = 0;       // dk
  int64_t ssmHeadsV = 0;      // Hv (ssm.time_step_rank)
  int64_t ssmGroups = 0;      // Hk (ssm.group_count)
  int64_t nExpert = 0;        // E
  int64_t nExpertUsed = 0;    // k
  int64_t expertFF = 0;       // F
  int64_t sharedExpertFF = 0; // Fs (0: no shared expert)
  /// Per layer: true = Gated DeltaNet, false = full attention. Empty means
  /// the default interval of 4 (full attention at (i+1) % 4 == 0).
  std::vector<bool> isRecurrent;
  /// Linear layers use the legacy fused `blk.N.ssm_in` instead of
  /// `attn_qkv` + `attn_gate` (spec §2.3): different weight names.
  bool legacySsmIn = false;
  /// No output.weight: the head reads token_embd.weight.
  bool tiedOutput = false;
  /// Sizes of weights in bytes by GGUF name, when known (from a file);
  /// others are estimated as F16.
  llvm::StringMap<uint64_t> weightBytes;

  /// Qwen3-Next-80B-A3B (spec §7).
  static ModelShape qwen3Next80BA3B();
  /// Checks that every dimension is positive and consistent.
  llvm::Error validate() const;
  bool recurrent(int64_t layer) const {
    return isRecurrent.empty() ? (layer + 1) % 4 != 0 : isRecurrent[layer];
  }
};

/// The forward graph for a ubatch of `nTokens` tokens whose first position
/// is `nPast` (KV length nPast + nTokens). Activations are F32; the KV cache
/// F16. The last node copies the last token's logits to the host.
llvm::Expected<Graph> buildQwen3NextGraph(const ModelShape &shape,
                                          int64_t nTokens, int64_t nPast = 0);

} // namespace qn::placement

#endif // QN_PASSES_PLACEMENT_QWEN3NEXTGRAPH_H

//===- MoE.h - routed and shared experts (spec §3.4) ------------*- C++ -*-===//
//
// Shared by the direct engine (moeFFN with a layer's weights) and the plan
// executor (DispatchKind::MoE with weights bound by name).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_MOE_H
#define QN_RUNTIME_LAYERS_MOE_H

#include "runtime/Dump.h"
#include "runtime/kernels/Matmul.h"

#include <cstdint>
#include <vector>

namespace qn::runtime {

/// The weights of one MoE block. Stacked expert tensors are views of
/// `rows` x `cols` per expert (see expertView in Model.h); `router` has one
/// row per expert.
struct MoEWeights {
  WeightView router, gateExps, upExps, downExps;
  bool hasShared = false;
  WeightView gateShexp, upShexp, downShexp;
  /// [D] F32: the shared expert's gate vector.
  const float *gateInpShexp = nullptr;
  /// What every matmul of the block multiplies with (the dispatch's
  /// `activations`; the direct engine's getMatmulActivations()).
  MatmulActivations activations = MatmulActivations::F32;
};

/// The sizes of a block: D hidden, E experts of width F, top K, shared
/// expert width Fs (0 without one); Fd: the dense FFN width of qwen35
/// models (0 for MoE models), which run denseFFN on the same scratch.
struct MoEDims {
  int64_t D = 0, E = 0, F = 0, K = 0, Fs = 0, Fd = 0;
};

/// Scratch of moeFFN for up to `maxTokens` rows.
struct MoEScratch {
  std::vector<float> routerLogits, probs, weights, xe, eg, eu, ed, routed,
      shared;
  std::vector<int32_t> ids, expertTokens, expertSlots;

  void allocate(const MoEDims &d, int64_t maxTokens);
};

/// out [T x D] = the routed experts' weighted sum plus the gated shared
/// expert for x [T x D]. Each expert's weights are read once per call.
/// Dumps use the peer's names with `layer`.
void moeFFN(const MoEWeights &w, int64_t topK, const float *x, int64_t T,
            MoEScratch &s, ThreadPool *pool, const Dumper &dump, int64_t layer,
            float *out);

/// out [T x D] = W_down (silu(W_gate x) * (W_up x)): the dense FFN of
/// qwen35 models (qwen35 spec §3.1), on the MoE scratch, multiplied with
/// getMatmulActivations() (the direct engine's; the compiled engine runs
/// the dense FFN as three matmul dispatches).
void denseFFN(const WeightView &gate, const WeightView &up,
              const WeightView &down, const float *x, int64_t T, MoEScratch &s,
              ThreadPool *pool, const Dumper &dump, int64_t layer, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_MOE_H

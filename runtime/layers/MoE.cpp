//===- MoE.cpp - routed and shared experts (spec §3.4) -------------------===//
//
// Tokens are grouped by expert so each expert's weights are read once per
// ubatch and multiplied with all of its tokens in one matmul call.
//
//===----------------------------------------------------------------------===//

#include "runtime/layers/Layers.h"

#include "runtime/ops/Activations.h"
#include "runtime/ops/Router.h"

#include <algorithm>
#include <cstring>

namespace qn::runtime {

/// out[n x D] = W_down (silu(W_gate x) * (W_up x)) for n rows of x.
static void swiglu(const WeightView &gateW, const WeightView &upW,
                   const WeightView &downW, const float *x, int64_t n,
                   Workspace &ws, ThreadPool *pool, float *out) {
  const int64_t ff = gateW.rows;
  matmul(gateW, x, n, ws.eg.data(), pool);
  matmul(upW, x, n, ws.eu.data(), pool);
  for (int64_t i = 0; i < n * ff; ++i)
    ws.eg[i] = silu(ws.eg[i]) * ws.eu[i];
  matmul(downW, ws.eg.data(), n, out, pool);
}

void moeFFN(LayerContext &c, const float *x, int64_t T, float *out) {
  const gguf::Qwen3NextHParams &hp = c.model.hparams();
  const LayerWeights &w = c.w;
  Workspace &ws = c.ws;
  const int64_t il = c.layer;
  const int64_t D = hp.nEmbd, E = hp.nExpert, K = hp.nExpertUsed;

  // 1. Router: softmax, top-k, renormalised weights.
  matmul(w.ffnRouter, x, T, ws.routerLogits.data(), c.pool);
  c.dump("ffn_moe_logits-" + llvm::Twine(il), ws.routerLogits.data(), T * E);
  for (int64_t t = 0; t < T; ++t)
    routeTopK(ws.routerLogits.data() + t * E, E, K, ws.probs.data() + t * E,
              ws.ids.data() + t * K, ws.weights.data() + t * K);
  c.dump("ffn_moe_probs-" + llvm::Twine(il), ws.probs.data(), T * E);
  c.dump("ffn_moe_weights_norm-" + llvm::Twine(il), ws.weights.data(), T * K);

  // 2. Routed experts, one expert at a time over the tokens that chose it.
  float *routed = ws.routed.data();
  std::fill(routed, routed + T * D, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t s = 0; s < K; ++s)
        if (ws.ids[t * K + s] == e) {
          ws.expertTokens[n] = static_cast<int32_t>(t);
          ws.expertSlots[n] = static_cast<int32_t>(s);
          std::memcpy(ws.xe.data() + n * D, x + t * D, sizeof(float) * D);
          ++n;
        }
    if (n == 0)
      continue;
    swiglu(expertView(w.ffnGateExps, e), expertView(w.ffnUpExps, e),
           expertView(w.ffnDownExps, e), ws.xe.data(), n, ws, c.pool,
           ws.ed.data());
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = ws.expertTokens[i];
      const float weight = ws.weights[t * K + ws.expertSlots[i]];
      for (int64_t d = 0; d < D; ++d)
        routed[t * D + d] += weight * ws.ed[i * D + d];
    }
  }
  c.dump("routed_out-" + llvm::Twine(il), routed, T * D);

  // 3. Shared expert, gated by sigmoid(gate_inp_shexp . x).
  std::memcpy(out, routed, sizeof(float) * T * D);
  if (!w.hasSharedExpert)
    return;
  float *shared = ws.shared.data();
  swiglu(w.ffnGateShexp, w.ffnUpShexp, w.ffnDownShexp, x, T, ws, c.pool,
         shared);
  c.dump("ffn_shexp_out-" + llvm::Twine(il), shared, T * D);
  for (int64_t t = 0; t < T; ++t) {
    float dot = 0.0f;
    for (int64_t d = 0; d < D; ++d)
      dot += w.ffnGateInpShexp[d] * x[t * D + d];
    const float sg = sigmoid(dot);
    for (int64_t d = 0; d < D; ++d) {
      shared[t * D + d] *= sg;
      out[t * D + d] += shared[t * D + d];
    }
  }
  c.dump("ffn_shexp_gated-" + llvm::Twine(il), shared, T * D);
}

} // namespace qn::runtime

//===- MoE.cpp - routed and shared experts (spec §3.4) -------------------===//
//
// Tokens are grouped by expert so each expert's weights are read once per
// ubatch and multiplied with all of its tokens in one matmul call.
//
//===----------------------------------------------------------------------===//

#include "runtime/layers/MoE.h"

#include "runtime/Model.h"
#include "runtime/ops/Activations.h"
#include "runtime/ops/Router.h"

#include <algorithm>
#include <cstring>

namespace qn::runtime {

void MoEScratch::allocate(const MoEDims &d, int64_t T) {
  const int64_t ff = std::max({d.F, d.Fs, d.Fd});
  auto size = [](std::vector<float> &v, int64_t n) {
    v.assign(static_cast<size_t>(std::max<int64_t>(n, 1)), 0.0f);
  };
  size(routerLogits, T * d.E);
  size(probs, T * d.E);
  size(weights, T * d.K);
  size(xe, T * d.D);
  size(eg, T * ff);
  size(eu, T * ff);
  size(ed, T * d.D);
  size(routed, T * d.D);
  size(shared, T * d.D);
  ids.assign(static_cast<size_t>(std::max<int64_t>(T * d.K, 1)), 0);
  expertTokens.assign(static_cast<size_t>(std::max<int64_t>(T, 1)), 0);
  expertSlots.assign(static_cast<size_t>(std::max<int64_t>(T, 1)), 0);
}

/// out[n x D] = W_down (silu(W_gate x) * (W_up x)) for n rows of x.
static void swiglu(const WeightView &gateW, const WeightView &upW,
                   const WeightView &downW, const float *x, int64_t n,
                   MoEScratch &s, ThreadPool *pool, MatmulActivations act,
                   float *out) {
  const int64_t ff = gateW.rows;
  matmul(gateW, x, n, s.eg.data(), pool, act);
  matmul(upW, x, n, s.eu.data(), pool, act);
  for (int64_t i = 0; i < n * ff; ++i)
    s.eg[i] = silu(s.eg[i]) * s.eu[i];
  matmul(downW, s.eg.data(), n, out, pool, act);
}

void denseFFN(const WeightView &gate, const WeightView &up,
              const WeightView &down, const float *x, int64_t T, MoEScratch &s,
              ThreadPool *pool, const Dumper &dump, int64_t il, float *out) {
  swiglu(gate, up, down, x, T, s, pool, getMatmulActivations(), out);
  dump("ffn_out-" + llvm::Twine(il), out, T * down.rows);
}

void moeFFN(const MoEWeights &w, int64_t K, const float *x, int64_t T,
            MoEScratch &s, ThreadPool *pool, const Dumper &dump, int64_t il,
            float *out) {
  const int64_t D = w.router.cols, E = w.router.rows;

  // 1. Router: softmax, top-k, renormalised weights.
  matmul(w.router, x, T, s.routerLogits.data(), pool, w.activations);
  dump("ffn_moe_logits-" + llvm::Twine(il), s.routerLogits.data(), T * E);
  for (int64_t t = 0; t < T; ++t)
    routeTopK(s.routerLogits.data() + t * E, E, K, s.probs.data() + t * E,
              s.ids.data() + t * K, s.weights.data() + t * K);
  dump("ffn_moe_probs-" + llvm::Twine(il), s.probs.data(), T * E);
  dump("ffn_moe_weights_norm-" + llvm::Twine(il), s.weights.data(), T * K);

  // 2. Routed experts, one expert at a time over the tokens that chose it.
  float *routed = s.routed.data();
  std::fill(routed, routed + T * D, 0.0f);
  for (int64_t e = 0; e < E; ++e) {
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t k = 0; k < K; ++k)
        if (s.ids[t * K + k] == e) {
          s.expertTokens[n] = static_cast<int32_t>(t);
          s.expertSlots[n] = static_cast<int32_t>(k);
          std::memcpy(s.xe.data() + n * D, x + t * D, sizeof(float) * D);
          ++n;
        }
    if (n == 0)
      continue;
    swiglu(expertView(w.gateExps, e), expertView(w.upExps, e),
           expertView(w.downExps, e), s.xe.data(), n, s, pool, w.activations,
           s.ed.data());
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = s.expertTokens[i];
      const float weight = s.weights[t * K + s.expertSlots[i]];
      for (int64_t d = 0; d < D; ++d)
        routed[t * D + d] += weight * s.ed[i * D + d];
    }
  }
  dump("routed_out-" + llvm::Twine(il), routed, T * D);

  // 3. Shared expert, gated by sigmoid(gate_inp_shexp . x).
  std::memcpy(out, routed, sizeof(float) * T * D);
  if (!w.hasShared)
    return;
  float *shared = s.shared.data();
  swiglu(w.gateShexp, w.upShexp, w.downShexp, x, T, s, pool, w.activations,
         shared);
  dump("ffn_shexp_out-" + llvm::Twine(il), shared, T * D);
  for (int64_t t = 0; t < T; ++t) {
    float dot = 0.0f;
    for (int64_t d = 0; d < D; ++d)
      dot += w.gateInpShexp[d] * x[t * D + d];
    const float sg = sigmoid(dot);
    for (int64_t d = 0; d < D; ++d) {
      shared[t * D + d] *= sg;
      out[t * D + d] += shared[t * D + d];
    }
  }
  dump("ffn_shexp_gated-" + llvm::Twine(il), shared, T * D);
}

} // namespace qn::runtime

//===- LinearAttention.cpp - the Gated DeltaNet mixer (spec §3.2) --------===//

#include "runtime/layers/Layers.h"

#include "runtime/layers/Recurrence.h"
#include "runtime/ops/Activations.h"
#include "runtime/ops/Norms.h"

namespace qn::runtime {

void linearAttention(LayerContext &c, const float *x, int64_t T, float *out) {
  const gguf::Qwen3NextHParams &hp = c.model.hparams();
  const LayerWeights &w = c.w;
  Workspace &ws = c.ws;
  const int64_t il = c.layer;
  const int64_t Hk = hp.ssmGroupCount, Hv = hp.ssmTimeStepRank;
  const int64_t dk = hp.ssmState, dv = hp.headVDim();
  const int64_t Ck = hp.keyDim(), Cv = hp.ssmInner, Cc = hp.convChannels();
  const float eps = static_cast<float>(hp.rmsEps);
  float *u = ws.u.data(), *z = ws.z.data(), *y = ws.y.data();

  // 1. Input projections: u = [q | k | v] in conv-channel order, z = gate.
  if (w.ssmIn.data) {
    // Legacy ssm_in is grouped by key head (§2.3): multiply, then gather
    // rows into the split layout's order.
    const int64_t nRows = w.ssmIn.rows;
    matmul(w.ssmIn, x, T, ws.proj.data(), c.pool);
    c.dump("linear_attn_mixed_qkvz-" + llvm::Twine(il), ws.proj.data(),
           T * nRows);
    const std::vector<int64_t> &order = c.model.qkvzRowOrder();
    for (int64_t t = 0; t < T; ++t) {
      const float *p = ws.proj.data() + t * nRows;
      for (int64_t r = 0; r < Cc; ++r)
        u[t * Cc + r] = p[order[r]];
      for (int64_t r = 0; r < Cv; ++r)
        z[t * Cv + r] = p[order[Cc + r]];
    }
  } else {
    matmul(w.attnQKV, x, T, u, c.pool);
    matmul(w.attnGate, x, T, z, c.pool);
  }
  c.dump("qkv_mixed-" + llvm::Twine(il), u, T * Cc);
  c.dump("z-" + llvm::Twine(il), z, T * Cv);

  // 2. Write strength beta = sigmoid(b), log-decay g = A softplus(a + dt).
  // qwen3next packs b and a per key group in ssm_ba; qwen35 files have two
  // plain projections, read here as [b (Hv) | a (Hv)] per row.
  const std::vector<int64_t> *baOrder = &c.model.baRowOrder();
  if (w.ssmBeta.data) {
    matmul(w.ssmBeta, x, T, ws.baRaw.data(), c.pool);
    matmul(w.ssmAlpha, x, T, ws.baRaw.data() + T * Hv, c.pool);
  } else {
    matmul(w.ssmBA, x, T, ws.baRaw.data(), c.pool);
    c.dump("linear_attn_mixed_ba-" + llvm::Twine(il), ws.baRaw.data(),
           T * 2 * Hv);
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hv; ++h) {
      const float b = w.ssmBeta.data ? ws.baRaw[t * Hv + h]
                                     : ws.baRaw[t * 2 * Hv + (*baOrder)[h]];
      const float a = w.ssmBeta.data
                          ? ws.baRaw[T * Hv + t * Hv + h]
                          : ws.baRaw[t * 2 * Hv + (*baOrder)[Hv + h]];
      ws.beta[t * Hv + h] = sigmoid(b);
      ws.g[t * Hv + h] = w.ssmA[h] * softplus(a + w.ssmDt[h]);
    }
  c.dump("g_in-" + llvm::Twine(il), ws.g.data(), T * Hv);

  // 3. Causal conv over the channels with the carried window, then SiLU.
  causalConvGroups(u, Cc, hp.convKernel, w.ssmConv1dT.data(), c.groups, il,
                   ws.convWindow.data(), y);
  for (int64_t i = 0; i < T * Cc; ++i)
    y[i] = silu(y[i]);
  c.dump("conv_output_silu-" + llvm::Twine(il), y, T * Cc);
  const SequenceSlot &first = *c.groups.front().slot; // dumps: one sequence
  c.dump("new_conv_states_cont-" + llvm::Twine(il), first.conv[il].data(),
         static_cast<int64_t>(first.conv[il].size()));

  // 4. L2-normalise every q and k head in place.
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < 2 * Hk; ++j) {
      float *head = y + t * Cc + j * dk;
      l2Norm(head, dk, eps, head);
    }
  c.dump.strided("q_fused-" + llvm::Twine(il), y, T, Ck, Cc);
  c.dump.strided("k_fused-" + llvm::Twine(il), y + Ck, T, Ck, Cc);

  // 5. The delta rule, one value head at a time (heads are independent);
  // v-head h reads q/k head h / (Hv/Hk) or, tiled, h mod Hk. The algorithm
  // (recurrent, chunked or fused: the same function) comes from the delta mode
  // and T.
  DeltaNetOperands d;
  d.Hk = Hk, d.Hv = Hv, d.dk = dk, d.dv = dv;
  d.tiled = hp.vHeadOrder == gguf::VHeadOrder::Tiled;
  d.q = y, d.k = y + Ck, d.qRow = Cc, d.qHead = dk;
  d.v = y + 2 * Ck, d.vRow = Cc, d.vHead = dv;
  d.g = ws.g.data(), d.beta = ws.beta.data(), d.gRow = Hv, d.gHead = 1;
  d.out = ws.o.data(), d.outRow = Cv, d.outHead = dv;
  DeltaChoice choice;
  choice.mode = c.deltaMode;
  deltaNetGroups(d, c.groups, il, choice, c.pool);
  c.dump("attn_output-" + llvm::Twine(il), ws.o.data(), T * Cv);
  c.dump("new_state-" + llvm::Twine(il), first.delta[il].data(),
         static_cast<int64_t>(first.delta[il].size()));

  // 6. Gated RMSNorm per head (ssm_norm shared by heads, not shifted).
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hv; ++h) {
      float *oh = ws.o.data() + t * Cv + h * dv;
      const float *zh = z + t * Cv + h * dv;
      rmsNorm(oh, w.ssmNorm.data(), dv, eps, oh);
      for (int64_t d = 0; d < dv; ++d)
        oh[d] *= silu(zh[d]);
    }
  c.dump("attn_out_norm-" + llvm::Twine(il), ws.o.data(), T * Cv);

  // 7. Output projection.
  matmul(w.ssmOut, ws.o.data(), T, out, c.pool);
  c.dump("linear_attn_out-" + llvm::Twine(il), out, T * hp.nEmbd);
}

} // namespace qn::runtime

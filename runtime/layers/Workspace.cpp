//===- Workspace.cpp - per-context scratch and per-sequence state --------===//

#include "runtime/layers/Layers.h"

#include <algorithm>

namespace qn::runtime {

void SequenceSlot::reset() {
  length = 0;
  for (auto &c : conv)
    std::fill(c.begin(), c.end(), 0.0f);
  for (auto &d : delta)
    std::fill(d.begin(), d.end(), 0.0f);
}

void Workspace::allocate(const gguf::Qwen3NextHParams &hp, int64_t T,
                         int64_t nCtx, int64_t threads) {
  maxTokens = T;
  nThreads = std::max<int64_t>(threads, 1);
  const int64_t Ck = hp.keyDim(), Cv = hp.ssmInner, Cc = hp.convChannels();
  const int64_t Hv = hp.ssmTimeStepRank, dv = hp.headVDim();
  const int64_t qDim = hp.nHead * hp.headDim, kvDim = hp.nHeadKV * hp.headDim;
  const int64_t ff = std::max(hp.expertFF, hp.sharedExpertFF);
  auto size = [](std::vector<float> &v, int64_t n) {
    v.assign(static_cast<size_t>(std::max<int64_t>(n, 1)), 0.0f);
  };
  size(proj, T * std::max(2 * Ck + 2 * Cv, 2 * qDim));
  size(u, T * Cc);
  size(z, T * Cv);
  size(y, T * Cc);
  size(baRaw, T * 2 * Hv);
  size(g, T * Hv);
  size(beta, T * Hv);
  size(o, T * Cv);
  size(deltaScratch, Hv * dv);
  size(convWindow, (hp.convKernel - 1) * Cc);
  size(q, T * qDim);
  size(k, T * kvDim);
  size(v, T * kvDim);
  size(gate, T * qDim);
  size(att, T * qDim);
  // Scores of one (token, KV head) item: its Hq/Hkv heads x nCtx keys.
  size(attScratch, nThreads * (hp.nHead / hp.nHeadKV) * nCtx);
  size(kf, nCtx * kvDim);
  size(vf, nCtx * kvDim);
  size(routerLogits, T * hp.nExpert);
  size(probs, T * hp.nExpert);
  size(weights, T * hp.nExpertUsed);
  size(xe, T * hp.nEmbd);
  size(eg, T * ff);
  size(eu, T * ff);
  size(ed, T * hp.nEmbd);
  size(routed, T * hp.nEmbd);
  size(shared, T * hp.nEmbd);
  ids.assign(static_cast<size_t>(std::max<int64_t>(T * hp.nExpertUsed, 1)), 0);
  expertTokens.assign(static_cast<size_t>(T), 0);
  expertSlots.assign(static_cast<size_t>(T), 0);
}

} // namespace qn::runtime

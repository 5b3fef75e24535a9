//===- Workspace.cpp - the direct engine's scratch -----------------------===//

#include "runtime/layers/Workspace.h"

#include <algorithm>

namespace qn::runtime {

AttentionDims attentionDims(const gguf::Qwen3NextHParams &hp) {
  AttentionDims d;
  d.nHead = hp.nHead;
  d.nHeadKV = hp.nHeadKV;
  d.headDim = hp.headDim;
  d.ropeDims = hp.ropeDims;
  d.ropeBase = static_cast<float>(hp.ropeBase);
  d.eps = static_cast<float>(hp.rmsEps);
  if (hp.hasRopeSections)
    d.ropeSections = hp.ropeSections;
  return d;
}

MoEDims moeDims(const gguf::Qwen3NextHParams &hp) {
  MoEDims d;
  d.D = hp.nEmbd;
  d.E = hp.nExpert;
  d.F = hp.expertFF;
  d.K = hp.nExpertUsed;
  d.Fs = hp.sharedExpertFF;
  d.Fd = hp.denseFF;
  return d;
}

void Workspace::allocate(const gguf::Qwen3NextHParams &hp, int64_t T,
                         int64_t nCtx, int64_t threads) {
  maxTokens = T;
  const int64_t Ck = hp.keyDim(), Cv = hp.ssmInner, Cc = hp.convChannels();
  const int64_t Hv = hp.ssmTimeStepRank;
  const int64_t qDim = hp.nHead * hp.headDim, kvDim = hp.nHeadKV * hp.headDim;
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
  size(convWindow, (hp.convKernel - 1) * Cc);
  size(kcur, T * kvDim);
  size(vcur, T * kvDim);
  size(att, T * qDim);
  attention.allocate(qDim, kvDim, hp.nHead / hp.nHeadKV, T, nCtx, threads);
  moe.allocate(moeDims(hp), T);
}

} // namespace qn::runtime

//===- Recurrence.cpp - the per-sequence steps of Gated DeltaNet ---------===//

#include "runtime/layers/Recurrence.h"

#include "runtime/ThreadPool.h"
#include "runtime/ops/Conv.h"

namespace qn::runtime {

void causalConvGroups(const float *u, int64_t C, int64_t Kc, const float *wT,
                      llvm::ArrayRef<SeqGroup> groups, int64_t layer,
                      float *window, float *y) {
  for (const SeqGroup &g : groups)
    causalConv1dTokenMajor(u + g.begin * C, g.count, C, Kc, wT,
                           g.slot->conv[layer].data(), window, y + g.begin * C);
}

DeltaImpl DeltaChoice::pick(int64_t count, int64_t dk, int64_t dv) const {
  if (!impl)
    return chooseDeltaImpl(mode, count, dk, dv);
  return count < recurrentBelow ? DeltaImpl::Recurrent : *impl;
}

void deltaNetGroups(const DeltaNetOperands &o, llvm::ArrayRef<SeqGroup> groups,
                    int64_t layer, const DeltaChoice &choice,
                    ThreadPool *pool) {
  // Heads are independent: one work item per value head, all groups.
  const int64_t r = o.Hv / o.Hk;
  auto runHeads = [&](int64_t h0, int64_t h1) {
    for (const SeqGroup &sg : groups) {
      const DeltaImpl impl = choice.pick(sg.count, o.dk, o.dv);
      for (int64_t h = h0; h < h1; ++h) {
        const int64_t kh = o.tiled ? h % o.Hk : h / r;
        DeltaHeadArgs a;
        a.T = sg.count, a.dk = o.dk, a.dv = o.dv;
        a.q = o.q + sg.begin * o.qRow + kh * o.qHead;
        a.k = o.k + sg.begin * o.qRow + kh * o.qHead;
        a.qkStride = o.qRow;
        a.v = o.v + sg.begin * o.vRow + h * o.vHead, a.vStride = o.vRow;
        a.g = o.g + sg.begin * o.gRow + h * o.gHead;
        a.beta = o.beta + sg.begin * o.gRow + h * o.gHead;
        a.gStride = o.gRow;
        a.M = sg.slot->delta[layer].data() + h * o.dk * o.dv;
        a.out = o.out + sg.begin * o.outRow + h * o.outHead;
        a.outStride = o.outRow;
        runDeltaHead(impl, a);
      }
    }
  };
  if (pool)
    pool->parallelFor(o.Hv, runHeads);
  else
    runHeads(0, o.Hv);
}

} // namespace qn::runtime

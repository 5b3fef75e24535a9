//===- GatedAttention.cpp - gated attention after the projections --------===//

#include "runtime/layers/GatedAttention.h"

#include "runtime/ThreadPool.h"
#include "runtime/ops/Activations.h"
#include "runtime/ops/Norms.h"
#include "runtime/ops/Rope.h"

#include <algorithm>

namespace qn::runtime {

void AttentionScratch::allocate(int64_t qDim, int64_t kvDim, int64_t group,
                                int64_t T, int64_t nCtx, int64_t threads) {
  nThreads = std::max<int64_t>(threads, 1);
  auto size = [](std::vector<float> &v, int64_t n) {
    v.assign(static_cast<size_t>(std::max<int64_t>(n, 1)), 0.0f);
  };
  size(q, T * qDim);
  size(k, T * kvDim);
  size(gate, T * qDim);
  // Scores of one (token, KV head) item: its Hq/Hkv heads x nCtx keys.
  size(scores, nThreads * group * nCtx);
  size(kf, nCtx * kvDim);
  size(vf, nCtx * kvDim);
}

void gatedAttention(const AttentionDims &d, const AttentionArgs &a,
                    llvm::ArrayRef<SeqGroup> groups, int64_t il, KVType kvType,
                    AttentionScratch &s, ThreadPool *pool, const Dumper &dump) {
  const int64_t Hq = d.nHead, Hkv = d.nHeadKV, Dh = d.headDim, T = a.T;
  const int64_t qDim = Hq * Dh, kvDim = Hkv * Dh;
  float *q = s.q.data(), *k = s.k.data(), *gate = s.gate.data();
  float *att = a.out;

  // 1. attn_q interleaves query and gate per head: rows [h*2Dh, h*2Dh+Dh)
  // are query head h, the next Dh its gate.
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t j = 0; j < Dh; ++j) {
        const float *p = a.qAux + t * 2 * qDim + h * 2 * Dh;
        q[t * qDim + h * Dh + j] = p[j];
        gate[t * qDim + h * Dh + j] = p[Dh + j];
      }

  // 2. Per-head RMSNorm (weights shared by heads), then partial NEOX RoPE.
  rmsNormRows(q, a.qNorm, T * Hq, Dh, d.eps, q);
  rmsNormRows(a.k, a.kNorm, T * Hkv, Dh, d.eps, k);
  dump("Qcur_normed-" + llvm::Twine(il), q, T * qDim);
  dump("Kcur_normed-" + llvm::Twine(il), k, T * kvDim);
  const int32_t *pos = a.pos;
  for (int64_t t = 0; t < T; ++t) {
    const std::array<int64_t, 4> *sections =
        d.ropeSections ? &*d.ropeSections : nullptr;
    ropeNeox(q + t * qDim, Hq, Dh, d.ropeDims, pos[t], d.ropeBase, sections);
    ropeNeox(k + t * kvDim, Hkv, Dh, d.ropeDims, pos[t], d.ropeBase, sections);
  }
  dump("Qcur_roped-" + llvm::Twine(il), q, T * qDim);
  dump("Kcur_roped-" + llvm::Twine(il), k, T * kvDim);

  // 3. Per sequence: store K/V at their positions, then attend causally.
  // All rows of a group are stored first: a token sees the earlier tokens
  // of its own ubatch.
  const size_t rowBytes = kvElementBytes(kvType) * kvDim;
  const int64_t group = Hq / Hkv;
  const int64_t scratchStride =
      static_cast<int64_t>(s.scores.size()) / s.nThreads;
  for (const SeqGroup &sg : groups) {
    uint8_t *K = sg.slot->keys[il].data(), *V = sg.slot->values[il].data();
    const int64_t t0 = sg.begin, t1 = sg.begin + sg.count;
    for (int64_t t = t0; t < t1; ++t) {
      storeKV(k + t * kvDim, kvDim, kvType, K + pos[t] * rowBytes);
      storeKV(a.v + t * kvDim, kvDim, kvType, V + pos[t] * rowBytes);
    }
    // Keys/values of every position the group's tokens can see, as F32
    // (converted once per layer call, not once per query head).
    const int64_t nKeys = pos[t1 - 1] + 1; // positions increase in a group
    const float *Kf = reinterpret_cast<const float *>(K);
    const float *Vf = reinterpret_cast<const float *>(V);
    if (kvType == KVType::F16) {
      convertF16ToF32(reinterpret_cast<const uint16_t *>(K), s.kf.data(),
                      nKeys * kvDim);
      convertF16ToF32(reinterpret_cast<const uint16_t *>(V), s.vf.data(),
                      nKeys * kvDim);
      Kf = s.kf.data();
      Vf = s.vf.data();
    }
    // One work item per (token, KV head): its Hq/Hkv query heads together.
    const int64_t items = sg.count * Hkv;
    auto work = [&](unsigned tid, unsigned nth) {
      float *scores = s.scores.data() + tid * scratchStride;
      for (int64_t item = tid; item < items; item += nth) {
        const int64_t t = t0 + item / Hkv, g = item % Hkv;
        attendGroup(q + t * qDim + g * group * Dh, group, Kf + g * Dh,
                    Vf + g * Dh, kvDim, pos[t] + 1, Dh, scores,
                    att + t * qDim + g * group * Dh);
      }
    };
    if (pool && pool->numThreads() <= static_cast<unsigned>(s.nThreads))
      pool->runOnAll(work);
    else
      work(0, 1);
  }
  dump("kqv_out-" + llvm::Twine(il), att, T * qDim);

  // 4. Sigmoid output gate.
  for (int64_t i = 0; i < T * qDim; ++i) {
    gate[i] = sigmoid(gate[i]);
    att[i] *= gate[i];
  }
  dump("gate-" + llvm::Twine(il), gate, T * qDim);
  dump("qkv_gated-" + llvm::Twine(il), att, T * qDim);
}

} // namespace qn::runtime

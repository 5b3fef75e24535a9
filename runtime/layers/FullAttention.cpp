//===- FullAttention.cpp - gated full attention (spec §3.3) --------------===//

#include "runtime/layers/Layers.h"

#include "runtime/ThreadPool.h"

#include "runtime/ops/Activations.h"
#include "runtime/ops/Attention.h"
#include "runtime/ops/Norms.h"
#include "runtime/ops/Rope.h"

namespace qn::runtime {

void fullAttention(LayerContext &c, const float *x, const int32_t *pos,
                   int64_t T, float *out) {
  const gguf::Qwen3NextHParams &hp = c.model.hparams();
  const LayerWeights &w = c.w;
  Workspace &ws = c.ws;
  const int64_t il = c.layer;
  const int64_t Hq = hp.nHead, Hkv = hp.nHeadKV, Dh = hp.headDim;
  const int64_t qDim = Hq * Dh, kvDim = Hkv * Dh;
  const float eps = static_cast<float>(hp.rmsEps);
  float *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data();
  float *gate = ws.gate.data(), *att = ws.att.data();

  // 1. Projections. attn_q interleaves query and gate per head:
  // rows [h*2Dh, h*2Dh+Dh) are query head h, the next Dh its gate.
  matmul(w.attnQ, x, T, ws.proj.data(), c.pool);
  matmul(w.attnK, x, T, k, c.pool);
  matmul(w.attnV, x, T, v, c.pool);
  c.dump("Qaux-" + llvm::Twine(il), ws.proj.data(), T * 2 * qDim);
  c.dump("Kcur-" + llvm::Twine(il), k, T * kvDim);
  c.dump("Vcur-" + llvm::Twine(il), v, T * kvDim);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t d = 0; d < Dh; ++d) {
        const float *p = ws.proj.data() + t * 2 * qDim + h * 2 * Dh;
        q[t * qDim + h * Dh + d] = p[d];
        gate[t * qDim + h * Dh + d] = p[Dh + d];
      }

  // 2. Per-head RMSNorm (weights shared by heads), then partial NEOX RoPE.
  rmsNormRows(q, w.attnQNorm.data(), T * Hq, Dh, eps, q);
  rmsNormRows(k, w.attnKNorm.data(), T * Hkv, Dh, eps, k);
  c.dump("Qcur_normed-" + llvm::Twine(il), q, T * qDim);
  c.dump("Kcur_normed-" + llvm::Twine(il), k, T * kvDim);
  const float base = static_cast<float>(hp.ropeBase);
  for (int64_t t = 0; t < T; ++t) {
    ropeNeox(q + t * qDim, Hq, Dh, hp.ropeDims, pos[t], base);
    ropeNeox(k + t * kvDim, Hkv, Dh, hp.ropeDims, pos[t], base);
  }
  c.dump("Qcur_roped-" + llvm::Twine(il), q, T * qDim);
  c.dump("Kcur_roped-" + llvm::Twine(il), k, T * kvDim);

  // 3. Per sequence: store K/V at their positions, then attend causally.
  // All rows of a group are stored first: a token sees the earlier tokens
  // of its own ubatch.
  const size_t rowBytes = kvElementBytes(c.kvType) * kvDim;
  const int64_t group = Hq / Hkv;
  const int64_t scratchStride = ws.attScratch.size() / ws.nThreads;
  for (const SeqGroup &sg : c.groups) {
    uint8_t *K = sg.slot->keys[il].data(), *V = sg.slot->values[il].data();
    const int64_t t0 = sg.begin, t1 = sg.begin + sg.count;
    for (int64_t t = t0; t < t1; ++t) {
      storeKV(k + t * kvDim, kvDim, c.kvType, K + pos[t] * rowBytes);
      storeKV(v + t * kvDim, kvDim, c.kvType, V + pos[t] * rowBytes);
    }
    // Keys/values of every position the group's tokens can see, as F32
    // (converted once per layer call, not once per query head).
    const int64_t nKeys = pos[t1 - 1] + 1; // positions increase in a group
    const float *Kf = reinterpret_cast<const float *>(K);
    const float *Vf = reinterpret_cast<const float *>(V);
    if (c.kvType == KVType::F16) {
      convertF16ToF32(reinterpret_cast<const uint16_t *>(K), ws.kf.data(),
                      nKeys * kvDim);
      convertF16ToF32(reinterpret_cast<const uint16_t *>(V), ws.vf.data(),
                      nKeys * kvDim);
      Kf = ws.kf.data();
      Vf = ws.vf.data();
    }
    // One work item per (token, KV head): its Hq/Hkv query heads together.
    const int64_t items = sg.count * Hkv;
    auto work = [&](unsigned tid, unsigned nth) {
      float *scores = ws.attScratch.data() + tid * scratchStride;
      for (int64_t item = tid; item < items; item += nth) {
        const int64_t t = t0 + item / Hkv, g = item % Hkv;
        attendGroup(q + t * qDim + g * group * Dh, group, Kf + g * Dh,
                    Vf + g * Dh, kvDim, pos[t] + 1, Dh, scores,
                    att + t * qDim + g * group * Dh);
      }
    };
    if (c.pool && c.pool->numThreads() <= static_cast<unsigned>(ws.nThreads))
      c.pool->runOnAll(work);
    else
      work(0, 1);
  }
  c.dump("kqv_out-" + llvm::Twine(il), att, T * qDim);

  // 4. Sigmoid output gate, output projection.
  for (int64_t i = 0; i < T * qDim; ++i) {
    gate[i] = sigmoid(gate[i]);
    att[i] *= gate[i];
  }
  c.dump("gate-" + llvm::Twine(il), gate, T * qDim);
  c.dump("qkv_gated-" + llvm::Twine(il), att, T * qDim);
  matmul(w.attnOutput, att, T, out, c.pool);
  c.dump("attn_out-" + llvm::Twine(il), out, T * hp.nEmbd);
}

} // namespace qn::runtime

//===- FullAttention.cpp - gated full attention (spec §3.3) --------------===//

#include "runtime/layers/Layers.h"

#include "runtime/layers/GatedAttention.h"

namespace qn::runtime {

void fullAttention(LayerContext &c, const float *x, const int32_t *pos,
                   int64_t T, float *out) {
  const gguf::Qwen3NextHParams &hp = c.model.hparams();
  const LayerWeights &w = c.w;
  Workspace &ws = c.ws;
  const int64_t il = c.layer;
  const int64_t qDim = hp.nHead * hp.headDim, kvDim = hp.nHeadKV * hp.headDim;

  // 1. Projections (attn_q: query and gate interleaved per head).
  matmul(w.attnQ, x, T, ws.proj.data(), c.pool);
  matmul(w.attnK, x, T, ws.kcur.data(), c.pool);
  matmul(w.attnV, x, T, ws.vcur.data(), c.pool);
  c.dump("Qaux-" + llvm::Twine(il), ws.proj.data(), T * 2 * qDim);
  c.dump("Kcur-" + llvm::Twine(il), ws.kcur.data(), T * kvDim);
  c.dump("Vcur-" + llvm::Twine(il), ws.vcur.data(), T * kvDim);

  // 2-7. Norms, rope, cache, attention, gate (shared with the executor).
  AttentionArgs a;
  a.qAux = ws.proj.data();
  a.k = ws.kcur.data();
  a.v = ws.vcur.data();
  a.qNorm = w.attnQNorm.data();
  a.kNorm = w.attnKNorm.data();
  a.pos = pos;
  a.T = T;
  a.out = ws.att.data();
  gatedAttention(attentionDims(hp), a, c.groups, il, c.kvType, ws.attention,
                 c.pool, c.dump);

  // 8. Output projection.
  matmul(w.attnOutput, ws.att.data(), T, out, c.pool);
  c.dump("attn_out-" + llvm::Twine(il), out, T * hp.nEmbd);
}

} // namespace qn::runtime

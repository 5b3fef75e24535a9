//===- LinearAttentionIR.cpp - the Gated DeltaNet layer in qn IR -*- C++
//-*-===//
//
// Spec ../shared/docs/qwen3next-model.md section 3.2, both input layouts:
// attn_qkv + attn_gate (already in conv-channel order) or the legacy ssm_in,
// grouped by key head and gathered here into [q | k | v] and z (section 2.3)
// with views and a concat, as the peer's graph does. Op names follow the
// peer's tensor names (linear_attn_mixed_qkvz-N, conv_output_silu-N, ...).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "dialect/QNOps.h"

using namespace mlir;

namespace qn::frontend::detail {

void EntryBuilder::gatherLegacyQKVZ(Value mixed, Value &qkv, Value &z) {
  const int64_t hk = hp.ssmGroupCount, dk = hp.ssmState;
  const int64_t r = hp.ssmTimeStepRank / hk, dv = hp.headVDim();
  const int64_t ck = hp.keyDim(), cv = hp.ssmInner;
  // Inside key group g: [q_g (dk) | k_g (dk) | v_{g*r..} (r*dv) | z (r*dv)].
  const int64_t group = 2 * dk + 2 * r * dv;
  Value grouped = reshape("qkvz_grouped", mixed, {hk, group});
  Value q = slice("query", grouped, {0, 0}, {hk, dk});
  Value k = slice("key", grouped, {0, dk}, {hk, dk});
  Value v = slice("value", grouped, {0, 2 * dk}, {hk, r * dv});
  Value zg = slice("z_grouped", grouped, {0, 2 * dk + r * dv}, {hk, r * dv});
  Value qFlat = reshape("query_flat", q, {ck});
  Value kFlat = reshape("key_flat", k, {ck});
  // v heads of group g are g*r .. g*r+r-1, so flattening the groups in order
  // yields the heads in order.
  Value vFlat = reshape("value_flat", v, {cv});
  qkv = create<ConcatOp>("qkv_mixed", ValueRange{qFlat, kFlat, vFlat},
                         b.getI64IntegerAttr(1));
  z = reshape("z", zg, {cv});
}

Value EntryBuilder::linearAttention(Value h, const LayerValues &lv,
                                    LayerState &state) {
  const int64_t hk = hp.ssmGroupCount, hv = hp.ssmTimeStepRank;
  const int64_t dk = hp.ssmState, dv = hp.headVDim(), r = hv / hk;
  const int64_t ck = hp.keyDim(), cv = hp.ssmInner;

  Value a = create<RmsNormOp>("attn_norm", h, lv.attnNorm, epsilon());

  // Projections: u = conv input [T, Cc] in conv-channel order, z [T, Cv].
  Value u, z;
  if (lv.ssmIn) {
    Value mixed = create<MatmulOp>("linear_attn_mixed_qkvz", a, lv.ssmIn);
    gatherLegacyQKVZ(mixed, u, z);
  } else {
    u = create<MatmulOp>("qkv_mixed", a, lv.attnQKV);
    z = create<MatmulOp>("z", a, lv.attnGate);
  }

  Value bRaw, aRaw;
  if (lv.ssmBeta) {
    // qwen35*: two plain projections, one row per value head.
    bRaw = create<MatmulOp>("beta_in", a, lv.ssmBeta);
    aRaw = create<MatmulOp>("alpha", a, lv.ssmAlpha);
  } else {
    // ssm_ba is grouped by key head: [b_{g*r..} (r) | a_{g*r..} (r)] per g.
    Value ba = create<MatmulOp>("linear_attn_mixed_ba", a, lv.ssmBA);
    Value baGrouped = reshape("ba_grouped", ba, {hk, 2 * r});
    bRaw = reshape("beta_in", slice("beta_view", baGrouped, {0, 0}, {hk, r}),
                   {hv});
    aRaw =
        reshape("alpha", slice("alpha_view", baGrouped, {0, r}, {hk, r}), {hv});
  }

  // g = ssm_a * softplus(a + dt_bias) (<= 0); beta = sigmoid(b).
  Value biased = create<AddOp>("alpha_biased", aRaw, lv.ssmDt);
  Value softplus = create<SoftplusOp>("a_softplus", biased);
  Value g = create<MulOp>("g_in", softplus, lv.ssmA);
  Value beta = create<SigmoidOp>("beta", bRaw);

  // Causal depthwise conv with the conv state, SiLU, split into heads.
  auto conv =
      create<Conv1dCausalOp>("conv_output_raw", u, lv.ssmConv1d, lv.convState);
  Value act = create<SiluOp>("conv_output_silu", conv.getResult());
  Value q = reshape("q_heads", slice("q_conv", act, {0}, {ck}), {hk, dk});
  Value k = reshape("k_heads", slice("k_conv", act, {ck}, {ck}), {hk, dk});
  Value v = reshape("v_heads", slice("v_conv", act, {2 * ck}, {cv}), {hv, dv});
  Value qNorm = create<L2NormOp>("q_fused", q, epsilon());
  Value kNorm = create<L2NormOp>("k_fused", k, epsilon());

  // The recurrence; value head h reads key head h / r (interleave,
  // qwen3next) or h mod Hk (tile, the v-head order of qwen35 files). The
  // state clamp to +-1e6 after every token is the peer's (ik_llama.cpp,
  // spec 3.2 step 8); it is inert for states of sane magnitude.
  const HeadMapping mapping = hp.vHeadOrder == gguf::VHeadOrder::Tiled
                                  ? HeadMapping::tile
                                  : HeadMapping::interleave;
  auto delta = create<GatedDeltaNetOp>(
      "attn_output", qNorm, kNorm, v, g, beta, lv.deltaState, FloatAttr(),
      mapping, DeltaNetImplAttr(), IntegerAttr(), b.getF32FloatAttr(1.0e6f));

  // Gated output norm per value head, output projection, residual.
  Value normed = create<RmsNormOp>("attn_rms_norm", delta.getResult(),
                                   lv.ssmNorm, epsilon());
  Value zHeads = reshape("z_heads", z, {hv, dv});
  Value zSilu = create<SiluOp>("z_silu", zHeads);
  Value gated = create<MulOp>("attn_out_norm", normed, zSilu);
  Value flat = reshape("final_output", gated, {cv});
  Value out = create<MatmulOp>("linear_attn_out", flat, lv.ssmOut);
  state.first = conv.getNewState();
  state.second = delta.getNewState();
  return create<AddOp>("ssm_output", h, out);
}

} // namespace qn::frontend::detail

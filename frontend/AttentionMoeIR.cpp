//===- AttentionMoeIR.cpp - full attention and MoE in qn IR -----*- C++ -*-===//
//
// Spec ../shared/docs/qwen3next-model.md sections 3.3 (gated full attention:
// q/gate projection, k, v, one qn.gated_attention, output projection) and 3.4
// (post-attention norm, qn.moe with the optional shared expert). Op names
// follow the peer's tensor names (Qaux-N, qkv_gated-N, l_out-N, ...).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "dialect/QNOps.h"

using namespace mlir;

namespace qn::frontend::detail {

Value EntryBuilder::fullAttention(Value h, Value positions,
                                  const LayerValues &lv, LayerState &state) {
  Value a = create<RmsNormOp>("attn_norm", h, lv.attnNorm, epsilon());
  Value qg = create<MatmulOp>("Qaux", a, lv.attnQ);
  Value k = create<MatmulOp>("Kcur", a, lv.attnK);
  Value v = create<MatmulOp>("Vcur", a, lv.attnV);
  auto att = create<GatedAttentionOp>(
      "qkv_gated", qg, k, v, lv.attnQNorm, lv.attnKNorm, positions, lv.kCache,
      lv.vCache, b.getI64IntegerAttr(hp.nHead), b.getI64IntegerAttr(hp.nHeadKV),
      b.getI64IntegerAttr(hp.headDim), b.getI64IntegerAttr(hp.ropeDims),
      b.getF32FloatAttr(static_cast<float>(hp.ropeBase)), epsilon(),
      FloatAttr(),
      hp.hasRopeSections ? b.getDenseI64ArrayAttr(hp.ropeSections)
                         : DenseI64ArrayAttr());
  Value out = create<MatmulOp>("attn_out", att.getResult(), lv.attnOutput);
  state.first = att.getNewKCache();
  state.second = att.getNewVCache();
  return create<AddOp>("attn_residual", h, out);
}

Value EntryBuilder::moeBlock(Value h, const LayerValues &lv) {
  Value f = create<RmsNormOp>("ffn_inp_normed", h, lv.postAttnNorm, epsilon());
  SmallVector<Value, 4> shared;
  if (lv.ffnGateShexp)
    shared = {lv.ffnGateInpShexp, lv.ffnGateShexp, lv.ffnUpShexp,
              lv.ffnDownShexp};
  Value moe = create<MoeOp>("ffn_moe_out", f, lv.ffnGateInp, lv.ffnGateExps,
                            lv.ffnUpExps, lv.ffnDownExps, shared,
                            b.getI64IntegerAttr(hp.nExpertUsed), FloatAttr());
  return create<AddOp>("l_out", h, moe);
}

Value EntryBuilder::denseBlock(Value h, const LayerValues &lv) {
  Value f = create<RmsNormOp>("ffn_inp_normed", h, lv.postAttnNorm, epsilon());
  Value gate = create<MatmulOp>("ffn_gate", f, lv.ffnGate);
  Value up = create<MatmulOp>("ffn_up", f, lv.ffnUp);
  Value act = create<SiluOp>("ffn_gate_silu", gate);
  Value par = create<MulOp>("ffn_gate_par", act, up);
  Value out = create<MatmulOp>("ffn_out", par, lv.ffnDown);
  return create<AddOp>("l_out", h, out);
}

} // namespace qn::frontend::detail

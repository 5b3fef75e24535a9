//===- ModelOps.cpp - model-level op inference and verifiers ----*- C++ -*-===//
//
// qn.embed, qn.rms_norm, qn.matmul, qn.gated_attention, qn.conv1d_causal,
// qn.gated_delta_net, qn.moe. Each checks the shapes of spec section 3.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"

using namespace mlir;
using namespace qn;

static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

// Checks that `type` (tensor or qweight) has the shape `expected`, where
// kDynamic entries of `expected` accept any size. `what` names the operand.
static LogicalResult expectShape(std::optional<Location> loc, StringRef what,
                                 Type type, ArrayRef<int64_t> expected) {
  ArrayRef<int64_t> shape = getShapeOf(type);
  bool ok = shape.size() == expected.size();
  for (size_t i = 0; ok && i < shape.size(); ++i)
    ok = !dimsConflict(shape[i], expected[i]);
  if (ok)
    return success();
  return emitOptionalError(loc, what, " must be ", formatShape(expected),
                           ", got ", formatShape(shape));
}

LogicalResult EmbedOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  ArrayRef<int64_t> table = getShapeOf(adaptor.getTable().getType());
  auto ids = llvm::cast<RankedTensorType>(adaptor.getIds().getType());
  if (table.size() != 2)
    return emitOptionalError(loc, "table must be [V, D], got ",
                             formatShape(table));
  if (ids.getRank() != 1)
    return emitOptionalError(loc, "ids must be rank 1 [T], got ",
                             formatShape(ids.getShape()));
  results.push_back(RankedTensorType::get({ids.getDimSize(0), table[1]},
                                          Float32Type::get(ctx)));
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  auto w = llvm::cast<RankedTensorType>(adaptor.getWeight().getType());
  if (in.getRank() < 1)
    return emitOptionalError(loc, "input must have rank >= 1");
  if (w.getRank() != 1 || dimsConflict(w.getDimSize(0), in.getShape().back()))
    return emitOptionalError(
        loc, "weight must be [", formatShape(in.getShape().back()),
        "] (the last dimension of the input), got ", formatShape(w.getShape()));
  if (w.getElementType() != in.getElementType())
    return emitOptionalError(loc, "weight element type ", w.getElementType(),
                             " differs from input element type ",
                             in.getElementType());
  results.push_back(in);
  return success();
}

// Attributes outside the assembly format are not visible to type inference
// while parsing, so their checks live in verifiers.
LogicalResult RmsNormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0))
    return emitOpError("epsilon must be > 0, got ")
           << getEpsilon().convertToFloat();
  return success();
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> w = getShapeOf(adaptor.getWeight().getType());
  if (in.getRank() < 1)
    return emitOptionalError(loc, "input must have rank >= 1");
  if (w.size() != 2)
    return emitOptionalError(loc, "weight must be [out, in], got ",
                             formatShape(w));
  if (dimsConflict(w[1], in.getShape().back()))
    return emitOptionalError(loc, "weight ", formatShape(w), " expects ", w[1],
                             " input features, the input has ",
                             in.getShape().back());
  SmallVector<int64_t> shape(in.getShape());
  shape.back() = w[0];
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult
GatedAttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                   Adaptor adaptor,
                                   SmallVectorImpl<Type> &results) {
  int64_t hq = static_cast<int64_t>(adaptor.getNumHeads());
  int64_t hkv = static_cast<int64_t>(adaptor.getNumKvHeads());
  int64_t dh = static_cast<int64_t>(adaptor.getHeadDim());
  int64_t rope = static_cast<int64_t>(adaptor.getRopeDims());
  if (hq < 1 || hkv < 1 || dh < 1)
    return emitOptionalError(loc, "num_heads, num_kv_heads and head_dim must "
                                  "be >= 1");
  if (hq % hkv != 0)
    return emitOptionalError(loc, "num_heads ", hq,
                             " is not a multiple of num_kv_heads ", hkv);
  if (rope < 0 || rope > dh || rope % 2 != 0)
    return emitOptionalError(loc, "rope_dims ", rope,
                             " must be even and in [0, head_dim = ", dh, "]");
  if (auto sections = adaptor.getRopeSectionsAttr())
    if (failed(checkRopeSections(loc, sections.asArrayRef())))
      return failure();
  auto qg = llvm::cast<RankedTensorType>(adaptor.getQg().getType());
  if (qg.getRank() != 2)
    return emitOptionalError(loc, "qg must be [T, ", hq * 2 * dh, "], got ",
                             formatShape(qg.getShape()));
  int64_t t = qg.getDimSize(0);
  if (failed(expectShape(loc, "qg", qg, {t, hq * 2 * dh})) ||
      failed(expectShape(loc, "k", adaptor.getK().getType(), {t, hkv * dh})) ||
      failed(expectShape(loc, "v", adaptor.getV().getType(), {t, hkv * dh})) ||
      failed(expectShape(loc, "q_norm", adaptor.getQNorm().getType(), {dh})) ||
      failed(expectShape(loc, "k_norm", adaptor.getKNorm().getType(), {dh})) ||
      failed(
          expectShape(loc, "positions", adaptor.getPositions().getType(), {t})))
    return failure();
  Type kc = adaptor.getKCache().getType(), vc = adaptor.getVCache().getType();
  if (failed(expectShape(loc, "k_cache", kc, {ShapedType::kDynamic, hkv, dh})))
    return failure();
  if (kc != vc)
    return emitOptionalError(loc, "k_cache and v_cache types differ: ", kc,
                             " vs ", vc);
  results.push_back(RankedTensorType::get({t, hq * dh}, qg.getElementType()));
  results.push_back(kc);
  results.push_back(vc);
  return success();
}

LogicalResult Conv1dCausalOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  auto w = llvm::cast<RankedTensorType>(adaptor.getWeight().getType());
  auto s = llvm::cast<RankedTensorType>(adaptor.getState().getType());
  if (in.getRank() != 2)
    return emitOptionalError(loc, "input must be [T, C], got ",
                             formatShape(in.getShape()));
  int64_t c = in.getDimSize(1);
  if (w.getRank() != 2 || dimsConflict(w.getDimSize(0), c))
    return emitOptionalError(loc, "weight must be [C = ", formatShape(c),
                             ", K], got ", formatShape(w.getShape()));
  int64_t k = w.getDimSize(1);
  if (!isDyn(k) && k < 1)
    return emitOptionalError(loc, "the kernel needs at least one tap");
  if (failed(expectShape(loc, "state", s,
                         {c, isDyn(k) ? ShapedType::kDynamic : k - 1})))
    return failure();
  if (w.getElementType() != in.getElementType() ||
      s.getElementType() != in.getElementType())
    return emitOptionalError(loc, "input, weight and state must share one "
                                  "element type");
  results.push_back(in);
  results.push_back(s);
  return success();
}

LogicalResult
GatedDeltaNetOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &results) {
  auto q = llvm::cast<RankedTensorType>(adaptor.getQ().getType());
  auto v = llvm::cast<RankedTensorType>(adaptor.getV().getType());
  auto state = llvm::cast<RankedTensorType>(adaptor.getState().getType());
  if (q.getRank() != 3)
    return emitOptionalError(loc, "q must be [T, Hk, dk], got ",
                             formatShape(q.getShape()));
  if (v.getRank() != 3)
    return emitOptionalError(loc, "v must be [T, Hv, dv], got ",
                             formatShape(v.getShape()));
  int64_t t = q.getDimSize(0), hk = q.getDimSize(1), dk = q.getDimSize(2);
  int64_t hv = v.getDimSize(1), dv = v.getDimSize(2);
  if (failed(expectShape(loc, "k", adaptor.getK().getType(), {t, hk, dk})) ||
      failed(expectShape(loc, "v", v, {t, hv, dv})) ||
      failed(expectShape(loc, "g", adaptor.getG().getType(), {t, hv})) ||
      failed(expectShape(loc, "beta", adaptor.getBeta().getType(), {t, hv})) ||
      failed(expectShape(loc, "state", state, {hv, dk, dv})))
    return failure();
  if (!isDyn(hk) && !isDyn(hv) && hv % hk != 0)
    return emitOptionalError(loc, "value heads (", hv,
                             ") must be a multiple of query/key heads (", hk,
                             ")");
  for (Value operand : {adaptor.getK(), adaptor.getV(), adaptor.getG(),
                        adaptor.getBeta(), adaptor.getState()})
    if (llvm::cast<RankedTensorType>(operand.getType()).getElementType() !=
        q.getElementType())
      return emitOptionalError(loc, "all operands must have element type ",
                               q.getElementType());
  results.push_back(RankedTensorType::get(
      {isDyn(t) ? v.getDimSize(0) : t, hv, dv}, v.getElementType()));
  results.push_back(state);
  return success();
}

LogicalResult GatedDeltaNetOp::verify() {
  if (FloatAttr scale = getScaleAttr();
      scale && !(scale.getValueAsDouble() > 0))
    return emitOpError("scale must be > 0, got ") << scale.getValueAsDouble();
  if (FloatAttr clamp = getStateClampAttr();
      clamp && !(clamp.getValueAsDouble() > 0))
    return emitOpError("state_clamp must be > 0, got ")
           << clamp.getValueAsDouble();
  if (std::optional<uint64_t> below = getRecurrentBelow()) {
    if (!getImpl() || *getImpl() == DeltaNetImpl::recurrent)
      return emitOpError("recurrent_below needs an impl other than "
                         "recurrent above it");
    if (static_cast<int64_t>(*below) < 2)
      return emitOpError("recurrent_below must be >= 2, got ")
             << static_cast<int64_t>(*below);
  }
  return success();
}

LogicalResult MoeOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  if (in.getRank() != 2)
    return emitOptionalError(loc, "input must be [T, D], got ",
                             formatShape(in.getShape()));
  int64_t d = in.getDimSize(1);
  ArrayRef<int64_t> router = getShapeOf(adaptor.getRouter().getType());
  if (router.size() != 2 || dimsConflict(router[1], d))
    return emitOptionalError(loc, "router must be [E, D = ", formatShape(d),
                             "], got ", formatShape(router));
  int64_t e = router[0];
  ArrayRef<int64_t> gate = getShapeOf(adaptor.getGateExps().getType());
  if (gate.size() != 3)
    return emitOptionalError(loc, "gate_exps must be [E, F, D], got ",
                             formatShape(gate));
  int64_t f = gate[1];
  if (failed(expectShape(loc, "gate_exps", adaptor.getGateExps().getType(),
                         {e, f, d})) ||
      failed(expectShape(loc, "up_exps", adaptor.getUpExps().getType(),
                         {e, f, d})) ||
      failed(expectShape(loc, "down_exps", adaptor.getDownExps().getType(),
                         {e, d, f})))
    return failure();
  int64_t k = static_cast<int64_t>(adaptor.getTopK());
  if (k < 1 || (!isDyn(e) && k > e))
    return emitOptionalError(loc, "top_k = ", k, " must be in [1, ", e,
                             "] (the number of experts)");
  ValueRange shared = adaptor.getShared();
  if (!shared.empty()) {
    if (shared.size() != 4)
      return emitOptionalError(loc,
                               "the shared expert needs 4 operands "
                               "(gate_inp, gate, up, down), got ",
                               shared.size());
    ArrayRef<int64_t> sg = getShapeOf(shared[1].getType());
    if (sg.size() != 2)
      return emitOptionalError(loc, "shared gate must be [Fs, D], got ",
                               formatShape(sg));
    int64_t fs = sg[0];
    if (failed(expectShape(loc, "shared gate_inp", shared[0].getType(), {d})) ||
        failed(expectShape(loc, "shared gate", shared[1].getType(), {fs, d})) ||
        failed(expectShape(loc, "shared up", shared[2].getType(), {fs, d})) ||
        failed(expectShape(loc, "shared down", shared[3].getType(), {d, fs})))
      return failure();
  }
  results.push_back(in);
  return success();
}

//===- Qwen3NextIR.cpp - module, entries, arguments, model head -*- C++ -*-===//
//
// Builds @prefill and @decode: binds every GGUF tensor and every state to an
// entry argument, then emits embedding -> layers -> output norm -> logits.
// The per-layer ops live in LinearAttentionIR.cpp and AttentionMoeIR.cpp.
//
//===----------------------------------------------------------------------===//

#include "frontend/Qwen3NextIR.h"
#include "frontend/ModelBuilder.h"

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using llvm::Expected;
using llvm::StringRef;

namespace qn::frontend {
namespace detail {

std::string EntryBuilder::fullName(StringRef name) const {
  if (layer < 0)
    return name.str();
  return llvm::formatv("{0}-{1}", name, layer).str();
}

RankedTensorType EntryBuilder::tokenTensor(llvm::ArrayRef<int64_t> dims) {
  SmallVector<int64_t, 4> shape{numTokens};
  shape.append(dims.begin(), dims.end());
  return RankedTensorType::get(shape, b.getF32Type());
}

Value EntryBuilder::reshape(StringRef name, Value input,
                            llvm::ArrayRef<int64_t> dims) {
  return create<ReshapeOp>(name, tokenTensor(dims), input);
}

Value EntryBuilder::slice(StringRef name, Value input,
                          llvm::ArrayRef<int64_t> offsets,
                          llvm::ArrayRef<int64_t> sizes) {
  SmallVector<int64_t, 4> offs{0}, szs{-1}, strides(offsets.size() + 1, 1);
  offs.append(offsets.begin(), offsets.end());
  szs.append(sizes.begin(), sizes.end());
  return create<SliceOp>(name, input, offs, szs, strides);
}

FloatAttr EntryBuilder::epsilon() {
  return b.getF32FloatAttr(static_cast<float>(hp.rmsEps));
}

} // namespace detail

namespace {

using detail::EntryBuilder;
using detail::LayerState;
using detail::LayerValues;

/// Rejects hyper-parameters that the ops' type inference would refuse, so
/// that building never hits an inference failure (which aborts).
llvm::Error checkHParams(const gguf::Qwen3NextHParams &hp) {
  auto bad = [](const llvm::Twine &what) {
    return llvm::createStringError("cannot build the qn IR: " + what);
  };
  if (!(hp.rmsEps > 0))
    return bad(llvm::formatv("rms epsilon must be > 0, got {0}", hp.rmsEps));
  if (hp.nLayer < 1 || hp.nEmbd < 1 || hp.nVocab < 1)
    return bad("the model needs at least one layer, D >= 1 and V >= 1");
  if (static_cast<int64_t>(hp.isRecurrent.size()) != hp.nLayer)
    return bad("the layer kinds do not cover every layer");
  bool anyLinear = false, anyFull = false;
  for (bool r : hp.isRecurrent)
    (r ? anyLinear : anyFull) = true;
  if (anyLinear) {
    int64_t hk = hp.ssmGroupCount, hv = hp.ssmTimeStepRank;
    if (hk < 1 || hv < 1 || hp.ssmState < 1 || hp.convKernel < 1)
      return bad("ssm.group_count, ssm.time_step_rank, ssm.state_size and "
                 "ssm.conv_kernel must be >= 1");
    if (hv % hk != 0 || hp.ssmInner % hv != 0 || hp.headVDim() < 1)
      return bad(llvm::formatv("linear heads: time_step_rank {0} must be a "
                               "multiple of group_count {1} and divide "
                               "inner_size {2}",
                               hv, hk, hp.ssmInner));
  }
  if (anyFull) {
    if (hp.nHead < 1 || hp.nHeadKV < 1 || hp.headDim < 1)
      return bad("attention head counts and key_length must be >= 1");
    if (hp.nHead % hp.nHeadKV != 0)
      return bad(llvm::formatv("head_count {0} is not a multiple of "
                               "head_count_kv {1}",
                               hp.nHead, hp.nHeadKV));
    if (hp.ropeDims < 0 || hp.ropeDims > hp.headDim || hp.ropeDims % 2 != 0)
      return bad(llvm::formatv("rope.dimension_count {0} must be even and at "
                               "most key_length {1}",
                               hp.ropeDims, hp.headDim));
  }
  if (hp.denseFFN()) {
    if (hp.denseFF < 1)
      return bad("feed_forward_length must be >= 1 for the dense FFN");
  } else if (hp.nExpert < 1 || hp.nExpertUsed < 1 ||
             hp.nExpertUsed > hp.nExpert)
    return bad(llvm::formatv("expert_used_count {0} must be in [1, "
                             "expert_count = {1}]",
                             hp.nExpertUsed, hp.nExpert));
  return llvm::Error::success();
}

/// Arguments of one entry, added to its block as they are bound.
class ArgBinder {
public:
  ArgBinder(MLIRContext &ctx, Block &block) : ctx(ctx), block(block) {}

  Value add(Type type, StringRef attrName, StringRef value) {
    Value arg =
        block.addArgument(type, NameLoc::get(StringAttr::get(&ctx, value)));
    NamedAttrList attrs;
    attrs.append(attrName, StringAttr::get(&ctx, value));
    argAttrs.push_back(attrs.getDictionary(&ctx));
    return arg;
  }

  /// One argument per GGUF tensor (a tied output reuses token_embd's).
  Expected<Value> weight(const gguf::TensorInfo *tensor, bool floatOnly) {
    if (!tensor)
      return Value();
    auto it = weights.find(tensor->name);
    if (it != weights.end())
      return it->second;
    Expected<Type> type = detail::getWeightType(ctx, *tensor, floatOnly);
    if (!type)
      return type.takeError();
    Value v = add(*type, "qn.weight", tensor->name);
    weights[tensor->name] = v;
    return v;
  }

  llvm::ArrayRef<DictionaryAttr> attrs() const { return argAttrs; }

private:
  MLIRContext &ctx;
  Block &block;
  SmallVector<DictionaryAttr> argAttrs;
  llvm::StringMap<Value> weights;
};

/// The tensors the layer's ops need must all be bound (a null operand would
/// crash the builder); describeQwen3Next guarantees this for files it
/// accepts, this guards hand-made descriptions.
llvm::Error checkLayer(const gguf::Qwen3NextLayer &l, bool recurrent,
                       size_t il) {
  const bool dense = l.ffnGate || l.ffnUp || l.ffnDown;
  bool ok =
      l.attnNorm && l.postAttnNorm &&
      (dense ? l.ffnGate && l.ffnUp && l.ffnDown
             : l.ffnGateInp && l.ffnGateExps && l.ffnUpExps && l.ffnDownExps);
  if (recurrent)
    ok = ok && (l.ssmIn || (l.attnQKV && l.attnGate)) &&
         (l.ssmBA || (l.ssmBeta && l.ssmAlpha)) && l.ssmConv1d && l.ssmDt &&
         l.ssmA && l.ssmNorm && l.ssmOut;
  else
    ok = ok && l.attnQ && l.attnK && l.attnV && l.attnOutput && l.attnQNorm &&
         l.attnKNorm;
  int shared = !!l.ffnGateInpShexp + !!l.ffnGateShexp + !!l.ffnUpShexp +
               !!l.ffnDownShexp;
  if (shared != 0 && shared != 4)
    return llvm::createStringError(
        "cannot build the qn IR: layer %zu has %d of the 4 shared-expert "
        "tensors",
        il, shared);
  if (!ok)
    return llvm::createStringError("cannot build the qn IR: layer %zu lacks "
                                   "tensors its %s layer needs",
                                   il, recurrent ? "linear" : "attention");
  return llvm::Error::success();
}

llvm::Error bindLayerWeights(ArgBinder &args, const gguf::Qwen3NextLayer &l,
                             LayerValues &v) {
  struct Binding {
    const gguf::TensorInfo *tensor;
    Value *value;
    bool floatOnly;
  };
  const Binding bindings[] = {
      {l.attnNorm, &v.attnNorm, true},
      {l.attnQ, &v.attnQ, false},
      {l.attnK, &v.attnK, false},
      {l.attnV, &v.attnV, false},
      {l.attnQNorm, &v.attnQNorm, true},
      {l.attnKNorm, &v.attnKNorm, true},
      {l.attnOutput, &v.attnOutput, false},
      {l.ssmIn, &v.ssmIn, false},
      {l.attnQKV, &v.attnQKV, false},
      {l.attnGate, &v.attnGate, false},
      {l.ssmBA, &v.ssmBA, false},
      {l.ssmBeta, &v.ssmBeta, false},
      {l.ssmAlpha, &v.ssmAlpha, false},
      {l.ssmConv1d, &v.ssmConv1d, true},
      {l.ssmDt, &v.ssmDt, true},
      {l.ssmA, &v.ssmA, true},
      {l.ssmNorm, &v.ssmNorm, true},
      {l.ssmOut, &v.ssmOut, false},
      {l.postAttnNorm, &v.postAttnNorm, true},
      {l.ffnGateInp, &v.ffnGateInp, false},
      {l.ffnGateExps, &v.ffnGateExps, false},
      {l.ffnUpExps, &v.ffnUpExps, false},
      {l.ffnDownExps, &v.ffnDownExps, false},
      {l.ffnGateInpShexp, &v.ffnGateInpShexp, false},
      {l.ffnGateShexp, &v.ffnGateShexp, false},
      {l.ffnUpShexp, &v.ffnUpShexp, false},
      {l.ffnDownShexp, &v.ffnDownShexp, false},
      {l.ffnGate, &v.ffnGate, false},
      {l.ffnUp, &v.ffnUp, false},
      {l.ffnDown, &v.ffnDown, false},
  };
  for (const Binding &binding : bindings) {
    Expected<Value> value = args.weight(binding.tensor, binding.floatOnly);
    if (!value)
      return value.takeError();
    *binding.value = *value;
  }
  return llvm::Error::success();
}

/// The state arguments of one layer: its types follow the ops' contracts
/// (conv `[Cc, Kc-1]`, delta `[Hv, dk, dv]`, caches `[?, Hkv, Dh]`).
void bindLayerState(ArgBinder &args, const gguf::Qwen3NextHParams &hp,
                    int64_t il, Type kvElement, LayerValues &v) {
  MLIRContext *ctx = kvElement.getContext();
  Type f32 = Float32Type::get(ctx);
  auto name = [&](StringRef what) {
    return llvm::formatv("{0}-{1}", what, il).str();
  };
  if (hp.isRecurrent[il]) {
    v.convState = args.add(
        RankedTensorType::get({hp.convChannels(), hp.convKernel - 1}, f32),
        "qn.state", name("conv_state"));
    v.deltaState =
        args.add(RankedTensorType::get(
                     {hp.ssmTimeStepRank, hp.ssmState, hp.headVDim()}, f32),
                 "qn.state", name("delta_state"));
    return;
  }
  auto cache = RankedTensorType::get(
      {ShapedType::kDynamic, hp.nHeadKV, hp.headDim}, kvElement);
  v.kCache = args.add(cache, "qn.state", name("k_cache"));
  v.vCache = args.add(cache, "qn.state", name("v_cache"));
}

llvm::Error buildEntry(OpBuilder &b, ModuleOp module,
                       const gguf::Qwen3NextModel &model, StringRef entryName,
                       int64_t numTokens, Type kvElement) {
  MLIRContext &ctx = *b.getContext();
  const gguf::Qwen3NextHParams &hp = model.hp;
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, NameLoc::get(b.getStringAttr(entryName)),
                                   entryName, b.getFunctionType({}, {}));
  Block *block = func.addEntryBlock();
  ArgBinder args(ctx, *block);

  auto ids = RankedTensorType::get({numTokens}, b.getI32Type());
  Value tokens = args.add(ids, "qn.input", "tokens");
  Value positions = args.add(ids, "qn.input", "positions");
  // Prefill computes logits only for the rows the caller asks for (the
  // peer's inp_out_ids): the head is the largest matmul of a ubatch, and a
  // prompt usually wants the last row only. Decode's one row is always
  // wanted.
  Value outputRows;
  if (ShapedType::isDynamic(numTokens))
    outputRows =
        args.add(RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type()),
                 "qn.input", "output_rows");

  if (!model.tokenEmbd || !model.outputNorm || !model.output)
    return llvm::createStringError("cannot build the qn IR: the model lacks "
                                   "token_embd, output_norm or output");
  Expected<Value> tokenEmbd = args.weight(model.tokenEmbd, false);
  if (!tokenEmbd)
    return tokenEmbd.takeError();
  std::vector<LayerValues> layers(model.layers.size());
  for (size_t il = 0; il < layers.size(); ++il) {
    if (llvm::Error err = checkLayer(model.layers[il], hp.isRecurrent[il], il))
      return err;
    if (llvm::Error err = bindLayerWeights(args, model.layers[il], layers[il]))
      return err;
  }
  Expected<Value> outputNorm = args.weight(model.outputNorm, true);
  if (!outputNorm)
    return outputNorm.takeError();
  Expected<Value> output = args.weight(model.output, false);
  if (!output)
    return output.takeError();
  for (size_t il = 0; il < layers.size(); ++il)
    bindLayerState(args, hp, static_cast<int64_t>(il), kvElement, layers[il]);

  b.setInsertionPointToEnd(block);
  EntryBuilder eb(b, model, numTokens);
  Value h = eb.create<EmbedOp>("inp_embd", *tokenEmbd, tokens);
  SmallVector<Value> results{Value()}; // logits first
  SmallVector<DictionaryAttr> resultAttrs{b.getDictionaryAttr(
      b.getNamedAttr("qn.output", b.getStringAttr("logits")))};
  for (size_t il = 0; il < layers.size(); ++il) {
    eb.setLayer(static_cast<int64_t>(il));
    const LayerValues &lv = layers[il];
    LayerState state;
    if (hp.isRecurrent[il])
      h = eb.linearAttention(h, lv, state);
    else
      h = eb.fullAttention(h, positions, lv, state);
    h = lv.ffnGate ? eb.denseBlock(h, lv) : eb.moeBlock(h, lv);
    for (Value s : {state.first, state.second})
      results.push_back(s);
  }
  eb.setLayer(-1);
  // ggml get_rows on the activations: [T, D] -> [R, D].
  if (outputRows)
    h = eb.create<EmbedOp>("result_rows", h, outputRows);
  Value hn = eb.create<RmsNormOp>("result_norm", h, *outputNorm, eb.epsilon());
  results[0] = eb.create<MatmulOp>("result_output", hn, *output);
  func::ReturnOp::create(b, func.getLoc(), results);

  // State results carry the name of the argument they replace.
  llvm::ArrayRef<DictionaryAttr> argAttrs = args.attrs();
  size_t firstState = argAttrs.size() - (results.size() - 1);
  for (size_t i = firstState; i < argAttrs.size(); ++i)
    resultAttrs.push_back(argAttrs[i]);
  func.setFunctionType(b.getFunctionType(block->getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
  return llvm::Error::success();
}

} // namespace

void loadFrontendDialects(MLIRContext &ctx) {
  ctx.loadDialect<QNDialect, func::FuncDialect>();
}

Expected<OwningOpRef<ModuleOp>>
buildQwen3NextModule(MLIRContext &ctx, const gguf::Qwen3NextModel &model,
                     const IRBuildOptions &options) {
  loadFrontendDialects(ctx);
  if (llvm::Error err = checkHParams(model.hp))
    return std::move(err);
  if (model.layers.size() != static_cast<size_t>(model.hp.nLayer))
    return llvm::createStringError("cannot build the qn IR: %zu layers "
                                   "described for block_count %lld",
                                   model.layers.size(),
                                   static_cast<long long>(model.hp.nLayer));

  // Diagnostics from type checks and the verifier become the error message.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    if (!diagnostics.empty())
      diagnostics += "\n";
    diagnostics += llvm::formatv("{0}: {1}", diag.getLocation(), diag.str());
    return success();
  });

  OpBuilder b(&ctx);
  const StringRef arch = gguf::getArchName(model.hp.arch);
  OwningOpRef<ModuleOp> module(
      ModuleOp::create(NameLoc::get(b.getStringAttr(arch))));
  (*module)->setAttr("qn.arch", b.getStringAttr(arch));
  (*module)->setAttr("qn.linear_layout",
                     b.getStringAttr(model.layout == gguf::LinearLayout::Legacy
                                         ? "legacy"
                                         : "split"));
  Type kv = options.kvType == KVCacheType::F16 ? Type(b.getF16Type())
                                               : Type(b.getF32Type());
  if (options.entries != EntrySet::Decode)
    if (llvm::Error err =
            buildEntry(b, *module, model, "prefill", ShapedType::kDynamic, kv))
      return std::move(err);
  if (options.entries != EntrySet::Prefill)
    if (llvm::Error err = buildEntry(b, *module, model, "decode", 1, kv))
      return std::move(err);
  if (failed(verify(*module)))
    return llvm::createStringError("the built qn IR does not verify:\n" +
                                   diagnostics);
  return std::move(module);
}

} // namespace qn::frontend

//===- DispatchOps.cpp - verifiers of the qn.dispatch.* ops ---------------===//
//
// Every attribute a dispatch carries is checked here against its operands
// and its backend, so that a wrong plan is an error naming the op and the
// attribute when the IR is read, never a failure at run time.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qn;

namespace qn {

bool backendHasDeltaImpl(Backend backend, DeltaNetImpl impl) {
  switch (backend) {
  case Backend::cpu: // runtime/ops: all three forms
    return true;
  case Backend::cuda: // the kernels the CUDA back end is to bring
    return impl != DeltaNetImpl::chunked;
  }
  return false;
}

bool backendHasAttentionImpl(Backend backend, AttentionImpl impl) {
  return backend == Backend::cuda || impl == AttentionImpl::plain;
}

std::optional<QuantFormat> weightFormatOf(Type type) {
  if (auto w = llvm::dyn_cast<QWeightType>(type))
    return w.getFormat();
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  if (!t)
    return std::nullopt;
  Type e = t.getElementType();
  if (e.isF32())
    return QuantFormat::f32;
  if (e.isF16())
    return QuantFormat::f16;
  if (e.isBF16())
    return QuantFormat::bf16;
  return std::nullopt;
}

ParseResult parseWeights(OpAsmParser &parser, ArrayAttr &formats,
                         ArrayAttr &layouts) {
  SmallVector<Attribute> f, l;
  MLIRContext *ctx = parser.getContext();
  auto one = [&]() -> ParseResult {
    StringRef format, layout;
    SMLoc at = parser.getCurrentLocation();
    if (parser.parseKeyword(&format) || parser.parseColon() ||
        parser.parseKeyword(&layout))
      return failure();
    std::optional<QuantFormat> qf = symbolizeQuantFormat(format);
    if (!qf)
      return parser.emitError(at) << "unknown weight format '" << format << "'";
    std::optional<WeightLayout> wl = symbolizeWeightLayout(layout);
    if (!wl)
      return parser.emitError(at) << "unknown weight layout '" << layout << "'";
    f.push_back(QuantFormatAttr::get(ctx, *qf));
    l.push_back(WeightLayoutAttr::get(ctx, *wl));
    return success();
  };
  if (parser.parseKeyword("weights") ||
      parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Paren, one))
    return failure();
  formats = ArrayAttr::get(ctx, f);
  layouts = ArrayAttr::get(ctx, l);
  return success();
}

void printWeights(OpAsmPrinter &p, Operation *, ArrayAttr formats,
                  ArrayAttr layouts) {
  p << "weights(";
  for (size_t i = 0; i < formats.size(); ++i) {
    if (i)
      p << ", ";
    p << stringifyQuantFormat(
             llvm::cast<QuantFormatAttr>(formats[i]).getValue())
      << ":";
    if (i < layouts.size())
      p << stringifyWeightLayout(
          llvm::cast<WeightLayoutAttr>(layouts[i]).getValue());
  }
  p << ")";
}

} // namespace qn

namespace {

/// One format and one layout per weight operand, each format the operand's.
LogicalResult verifyWeights(Operation *op, ValueRange weights,
                            ArrayAttr formats, ArrayAttr layouts) {
  if (formats.size() != weights.size() || layouts.size() != weights.size())
    return op->emitOpError("has ")
           << weights.size() << " weight operands but 'weights' lists "
           << formats.size() << " formats and " << layouts.size() << " layouts";
  for (auto [i, w] : llvm::enumerate(weights)) {
    QuantFormat listed = llvm::cast<QuantFormatAttr>(formats[i]).getValue();
    std::optional<QuantFormat> actual = weightFormatOf(w.getType());
    if (!actual)
      return op->emitOpError("weight operand #")
             << i << " has type " << w.getType() << ", which is not a stored "
             << "weight format";
    if (*actual != listed)
      return op->emitOpError("attribute 'weights': format #")
             << i << " is " << stringifyQuantFormat(listed)
             << " but the operand is " << w.getType();
  }
  return success();
}

} // namespace

SmallVector<Value> DispatchEmbedOp::getWeightOperands() { return {getTable()}; }
SmallVector<Value> DispatchMatmulOp::getWeightOperands() {
  return {getWeight()};
}
SmallVector<Value> DispatchMoeOp::getWeightOperands() {
  return SmallVector<Value>(llvm::drop_begin(getOperands()));
}

LogicalResult DispatchEmbedOp::verify() {
  return verifyWeights(*this, getWeightOperands(), getFormats(), getLayouts());
}

LogicalResult DispatchMatmulOp::verify() {
  if (Value r = getResidual(); r && r.getType() != getResult().getType())
    return emitOpError("residual of type ")
           << r.getType() << " is not the result's type "
           << getResult().getType();
  return verifyWeights(*this, getWeightOperands(), getFormats(), getLayouts());
}

LogicalResult DispatchMoeOp::verify() {
  if (!getShared().empty() && getShared().size() != 4)
    return emitOpError("takes all four shared-expert weights or none, got ")
           << getShared().size();
  if (getTopK() < 1)
    return emitOpError("attribute 'top_k' must be >= 1, got ") << getTopK();
  return verifyWeights(*this, getWeightOperands(), getFormats(), getLayouts());
}

LogicalResult DispatchRmsNormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0))
    return emitOpError("attribute 'epsilon' must be > 0");
  return success();
}

LogicalResult DispatchL2NormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0))
    return emitOpError("attribute 'epsilon' must be > 0");
  return success();
}

LogicalResult DispatchConv1dCausalOp::verify() {
  if (getState().getType() != getNewState().getType())
    return emitOpError("new_state must have the state's type");
  return success();
}

LogicalResult DispatchGatedDeltaNetOp::verify() {
  if (!backendHasDeltaImpl(getBackend(), getImpl()))
    return emitOpError("attribute 'impl': ")
           << stringifyDeltaNetImpl(getImpl()) << " has no "
           << stringifyBackend(getBackend()) << " kernel";
  if (auto below = getRecurrentBelow()) {
    if (static_cast<int64_t>(*below) < 2)
      return emitOpError("attribute 'recurrent_below' must be >= 2, got ")
             << static_cast<int64_t>(*below);
    if (getImpl() == DeltaNetImpl::recurrent)
      return emitOpError("attribute 'recurrent_below' with impl recurrent "
                         "chooses nothing");
    if (!backendHasDeltaImpl(getBackend(), DeltaNetImpl::recurrent))
      return emitOpError("attribute 'recurrent_below': the recurrent form "
                         "has no ")
             << stringifyBackend(getBackend()) << " kernel";
  }
  if (auto clamp = getStateClamp(); clamp && !(clamp->convertToFloat() > 0))
    return emitOpError("attribute 'state_clamp' must be > 0");
  if (getState().getType() != getNewState().getType())
    return emitOpError("new_state must have the state's type");
  return success();
}

LogicalResult DispatchGatedAttentionOp::verify() {
  if (!backendHasAttentionImpl(getBackend(), getImpl()))
    return emitOpError("attribute 'impl': ")
           << stringifyAttentionImpl(getImpl()) << " has no "
           << stringifyBackend(getBackend()) << " kernel";
  if (getNumHeads() < 1 || getNumKvHeads() < 1 ||
      getNumHeads() % getNumKvHeads() != 0)
    return emitOpError("attribute 'heads': ")
           << getNumHeads() << " query heads are not a multiple of "
           << getNumKvHeads() << " kv heads";
  const int64_t rope = static_cast<int64_t>(getRopeDims());
  if (rope < 0 || rope > static_cast<int64_t>(getHeadDim()) || rope % 2)
    return emitOpError("attribute 'rope': ")
           << getRopeDims() << " rotary dims for head_dim " << getHeadDim();
  if (auto sections = getRopeSectionsAttr())
    if (failed(checkRopeSections(getLoc(), sections.asArrayRef())))
      return failure();
  return success();
}

LogicalResult DispatchTransferOp::verify() {
  if (getFrom() == getTo())
    return emitOpError("a transfer from ")
           << stringifyBackend(getFrom()) << " to the same backend";
  if (getInput().getType() != getResult().getType())
    return emitOpError("the result must have the input's type");
  return success();
}

LogicalResult DispatchCopyOp::verify() {
  if (getInput().getType() != getResult().getType())
    return emitOpError("the result must have the input's type");
  return success();
}

namespace {

/// A region dispatch's body: one argument per input of the input's type,
/// ending in a qn.dispatch.yield of values of `resultTypes`.
LogicalResult verifyBody(Operation *op, Block &body, ValueRange inputs,
                         TypeRange resultTypes, StringRef yieldRule) {
  if (body.getNumArguments() != inputs.size())
    return op->emitOpError("the body takes ")
           << body.getNumArguments() << " arguments for " << inputs.size()
           << " inputs";
  for (auto [arg, in] : llvm::zip(body.getArguments(), inputs))
    if (arg.getType() != in.getType())
      return op->emitOpError("body argument #")
             << arg.getArgNumber() << " has type " << arg.getType()
             << " but the input has " << in.getType();
  auto yield = body.empty() ? DispatchYieldOp()
                            : llvm::dyn_cast<DispatchYieldOp>(body.back());
  if (!yield || yield.getValues().getTypes() != resultTypes)
    return op->emitOpError(yieldRule);
  return success();
}

} // namespace

LogicalResult DispatchElementwiseOp::verify() {
  Block &body = getBody().front();
  Type result = getResult().getType();
  if (failed(verifyBody(*this, body, getInputs(), TypeRange(result),
                        "the body must yield one value of the result's type")))
    return failure();
  for (Operation &op : body.without_terminator())
    if (!llvm::isa<ScalarElementwiseOpInterface>(op))
      return op.emitOpError("is not elementwise: it cannot be part of a "
                            "fused elementwise dispatch");
  if (getKernel().empty())
    return emitOpError("attribute 'kernel' must name the generated kernel");
  return success();
}

LogicalResult DispatchLoopOp::verify() {
  if (failed(verifyBody(*this, getBody().front(), getInputs(), getResultTypes(),
                        "the body must yield one value per result, of the "
                        "results' types")))
    return failure();
  if (getKernel().empty())
    return emitOpError("attribute 'kernel' must name the generated kernel");
  if (getResults().empty())
    return emitOpError("computes nothing (no results)");
  return success();
}

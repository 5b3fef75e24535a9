//===- PlanBuilder.cpp - dispatch IR entry -> runtime plan ----------------===//
//
// One pass over the entry block in program order: arguments become input,
// weight and state values; each view op a view, each concat one copy per
// piece, each dispatch op one dispatch with its attributes as typed
// parameters. The memory comes from qn-assign-buffers' attributes (views'
// offsets and strides, results' slots): nothing about it is decided here.
// docs/codegen.md describes the result with examples.
//
//===----------------------------------------------------------------------===//

#include "codegen/PlanBuilder.h"

#include "dialect/QNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <climits>
#include <optional>

using namespace mlir;

namespace qn::codegen {
namespace {

namespace plan = qn::runtime::plan;
using plan::DispatchKind;
using plan::ElementType;
using plan::StateKind;
using plan::ValueKind;
using runtime::MatmulActivations;

using plan::rowMajorStrides;

bool isContiguous(const plan::Value &v) {
  return v.kind != ValueKind::View || plan::isRowMajor(v.shape, v.strides);
}

/// The symbolic size of a value's outermost dimension, or 0 when static.
int64_t symbolOf(const plan::Value &v) {
  return !v.shape.empty() && v.shape[0] < 0 ? v.shape[0] : 0;
}

std::string qnName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("qn.name"))
    return name.getValue().str();
  return "";
}

/// The plan's spelling of the IR's enums: one mapping each, here.
runtime::DeltaImpl planDeltaImpl(DeltaNetImpl impl) {
  switch (impl) {
  case DeltaNetImpl::recurrent:
    return runtime::DeltaImpl::Recurrent;
  case DeltaNetImpl::chunked:
    return runtime::DeltaImpl::Chunked;
  case DeltaNetImpl::fused:
    return runtime::DeltaImpl::Fused;
  }
  return runtime::DeltaImpl::Recurrent;
}

plan::Backend planBackend(Backend backend) {
  return backend == Backend::cuda ? plan::Backend::Cuda : plan::Backend::Cpu;
}

plan::WeightLayout planWeightLayout(Attribute layout) {
  switch (llvm::cast<WeightLayoutAttr>(layout).getValue()) {
  case WeightLayout::rows:
    return plan::WeightLayout::Rows;
  }
  return plan::WeightLayout::Rows;
}

MatmulActivations planActivations(Activations act) {
  switch (act) {
  case Activations::f32:
    return MatmulActivations::F32;
  case Activations::q8:
    return MatmulActivations::Q8;
  case Activations::q8prefill:
    return MatmulActivations::Q8Prefill;
  }
  return MatmulActivations::F32;
}

plan::AttentionImpl planAttentionImpl(AttentionImpl impl) {
  return impl == AttentionImpl::flash ? plan::AttentionImpl::Flash
                                      : plan::AttentionImpl::Plain;
}

class PlanBuilder {
public:
  explicit PlanBuilder(func::FuncOp entry) : entry(entry) {}

  llvm::Expected<plan::Program> build();

private:
  llvm::Error error(Operation *op, const llvm::Twine &what);
  llvm::Error bindArguments();
  llvm::Error visit(Operation *op);
  llvm::Error visitReturn(func::ReturnOp ret);
  llvm::Error visitConcat(ConcatOp op);
  llvm::Error visitCopy(DispatchCopyOp op);
  llvm::Error visitElementwise(DispatchElementwiseOp op);
  /// `results`: the values the loop writes (the other branch's, inside a
  /// choice on T); null: scratch, or the state an entry result returns.
  llvm::Error visitLoop(DispatchLoopOp op,
                        const std::vector<int32_t> *results = nullptr);
  llvm::Error visitDeltaGuard(scf::IfOp op);
  llvm::Error visitDispatch(Operation *op);
  /// A view op's result: its input's storage at the op's qn.offset and
  /// qn.strides.
  llvm::Error addViewOf(Operation *op, Value input, Value result);

  llvm::Expected<int32_t> lookup(Operation *op, Value v);
  /// `v`, which a kernel reads as a dense array: qn-assign-buffers has
  /// made it contiguous.
  llvm::Expected<int32_t> contiguous(Operation *op, Value v);
  /// A weight operand (a GGUF tensor bound by qn.weight) read in `layout`.
  llvm::Expected<int32_t> weight(Operation *op, Value v, Attribute layout);
  /// A state operand (an entry argument bound by qn.state).
  llvm::Expected<int32_t> state(Operation *op, Value v);
  llvm::Expected<std::vector<int64_t>> shapeOf(Operation *op, Type type,
                                               int64_t symbol);
  llvm::Expected<ElementType> elementTypeOf(Operation *op, Type type);
  /// The symbol of the results' dynamic outermost dimension: that of the
  /// operands (T or R; caches' context rows do not count).
  llvm::Expected<int64_t> resultSymbol(Operation *op, ValueRange operands);
  /// A new scratch value for `result` (named after `op`) in the slot
  /// qn-assign-buffers gave it (`qn.slots`).
  llvm::Expected<int32_t> scratch(Operation *op, Value result, int64_t symbol,
                                  llvm::StringRef name = {});
  int32_t addValue(plan::Value v);
  int32_t addView(std::string name, const plan::Value &like, int32_t base,
                  int64_t offset, std::vector<int64_t> strides);
  plan::Dispatch &addDispatch(DispatchKind kind, std::string name,
                              std::vector<int32_t> operands,
                              std::vector<int32_t> results);

  func::FuncOp entry;
  plan::Program program;
  llvm::DenseMap<Value, int32_t> ids;
};

const char *const kRunAssignBuffers = " (run qn-assign-buffers)";

llvm::Error PlanBuilder::error(Operation *op, const llvm::Twine &what) {
  std::string where;
  if (op && op != entry.getOperation()) {
    where = ("op '" + op->getName().getStringRef() + "'").str();
    std::string name = qnName(op);
    where += name.empty() ? " (no qn.name)" : " '" + name + "'";
    where += ": ";
  }
  return llvm::createStringError("cannot build the plan of @" +
                                 entry.getSymName() + ": " + where + what);
}

int32_t PlanBuilder::addValue(plan::Value v) {
  program.values.push_back(std::move(v));
  return static_cast<int32_t>(program.values.size() - 1);
}

int32_t PlanBuilder::addView(std::string name, const plan::Value &like,
                             int32_t base, int64_t offset,
                             std::vector<int64_t> strides) {
  plan::Value v;
  v.name = std::move(name);
  v.kind = ValueKind::View;
  v.type = like.type;
  v.shape = like.shape;
  v.base = base;
  v.offset = offset;
  v.strides = std::move(strides);
  return addValue(std::move(v));
}

plan::Dispatch &PlanBuilder::addDispatch(DispatchKind kind, std::string name,
                                         std::vector<int32_t> operands,
                                         std::vector<int32_t> results) {
  plan::Dispatch &d = program.dispatches.emplace_back();
  d.kind = kind;
  d.name = std::move(name);
  d.operands = std::move(operands);
  d.results = std::move(results);
  return d;
}

llvm::Expected<ElementType> PlanBuilder::elementTypeOf(Operation *op,
                                                       Type type) {
  Type element = type;
  if (auto shaped = llvm::dyn_cast<ShapedType>(type))
    element = shaped.getElementType();
  if (element.isF32())
    return ElementType::F32;
  if (element.isF16())
    return ElementType::F16;
  if (element.isInteger(32))
    return ElementType::I32;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return error(op, "element type of " + s +
                       " has no plan type (f32, f16, "
                       "i32)");
}

llvm::Expected<std::vector<int64_t>>
PlanBuilder::shapeOf(Operation *op, Type type, int64_t symbol) {
  llvm::ArrayRef<int64_t> shape;
  if (auto tensor = llvm::dyn_cast<RankedTensorType>(type))
    shape = tensor.getShape();
  else if (auto w = llvm::dyn_cast<QWeightType>(type))
    shape = w.getShape();
  else
    return error(op, "a value that is not a ranked tensor or a weight");
  std::vector<int64_t> out(shape.begin(), shape.end());
  for (size_t d = 0; d < out.size(); ++d) {
    if (!ShapedType::isDynamic(out[d]))
      continue;
    if (d != 0 || symbol == 0) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << type;
      return error(op, (d != 0 ? "only the outermost dimension may be "
                                 "dynamic, got "
                               : "a dynamic outermost dimension that is not "
                                 "the tokens, the output rows or the "
                                 "context, got ") +
                           s);
    }
    out[d] = symbol;
  }
  return out;
}

llvm::Expected<int32_t> PlanBuilder::lookup(Operation *op, Value v) {
  auto it = ids.find(v);
  if (it == ids.end())
    return error(op, "an operand has no value in the plan (its defining op "
                     "was not planned)");
  return it->second;
}

llvm::Expected<int32_t> PlanBuilder::contiguous(Operation *op, Value v) {
  llvm::Expected<int32_t> id = lookup(op, v);
  if (id && !isContiguous(program.values[*id]))
    return error(op, "reads the strided view '" + program.values[*id].name +
                         "' as a dense array" + kRunAssignBuffers);
  return id;
}

llvm::Expected<int32_t> PlanBuilder::weight(Operation *op, Value v,
                                            Attribute layout) {
  llvm::Expected<int32_t> id = lookup(op, v);
  if (id && program.values[*id].kind != ValueKind::Weight)
    return error(op, "the weight operand is not a GGUF tensor (qn.weight)");
  if (id)
    program.values[*id].layout = planWeightLayout(layout);
  return id;
}

llvm::Expected<int32_t> PlanBuilder::state(Operation *op, Value v) {
  llvm::Expected<int32_t> id = lookup(op, v);
  if (id && program.values[*id].kind != ValueKind::State)
    return error(op, "the state operand is not an entry state (qn.state)");
  return id;
}

llvm::Expected<int64_t> PlanBuilder::resultSymbol(Operation *op,
                                                  ValueRange operands) {
  int64_t symbol = 0;
  for (Value v : operands) {
    auto it = ids.find(v);
    if (it == ids.end())
      continue;
    int64_t s = symbolOf(program.values[it->second]);
    if (s != plan::kTokens && s != plan::kOutputRows)
      continue;
    if (symbol != 0 && symbol != s)
      return error(op, "mixes values over the ubatch's tokens and over the "
                       "output rows");
    symbol = s;
  }
  return symbol;
}

llvm::Expected<int32_t> PlanBuilder::scratch(Operation *op, Value result,
                                             int64_t symbol,
                                             llvm::StringRef name) {
  plan::Value v;
  v.name = name.empty() ? qnName(op) : name.str();
  v.kind = ValueKind::Scratch;
  auto slots = op->getAttrOfType<DenseI64ArrayAttr>("qn.slots");
  const unsigned index = llvm::cast<OpResult>(result).getResultNumber();
  if (!slots || slots.size() != static_cast<int64_t>(op->getNumResults()))
    return error(op, llvm::Twine("has no qn.slots for its ") +
                         llvm::Twine(op->getNumResults()) + " results" +
                         kRunAssignBuffers);
  if (slots[index] < 0 || slots[index] >= program.numSlots)
    return error(op, llvm::formatv("result #{0} is scratch but its slot is "
                                   "{1}, not in [0, {2})",
                                   index, slots[index], program.numSlots));
  v.slot = static_cast<int32_t>(slots[index]);
  llvm::Expected<ElementType> type = elementTypeOf(op, result.getType());
  if (!type)
    return type.takeError();
  v.type = *type;
  llvm::Expected<std::vector<int64_t>> shape =
      shapeOf(op, result.getType(), symbol);
  if (!shape)
    return shape.takeError();
  v.shape = std::move(*shape);
  int32_t id = addValue(std::move(v));
  ids[result] = id;
  return id;
}

llvm::Error PlanBuilder::bindArguments() {
  for (BlockArgument arg : entry.getArguments()) {
    unsigned i = arg.getArgNumber();
    plan::Value v;
    int64_t symbol = plan::kTokens;
    if (auto input = entry.getArgAttrOfType<StringAttr>(i, "qn.input")) {
      v.name = input.getValue().str();
      if (v.name == "tokens")
        v.kind = ValueKind::Tokens;
      else if (v.name == "positions")
        v.kind = ValueKind::Positions;
      else if (v.name == "output_rows") {
        v.kind = ValueKind::OutputRows;
        symbol = plan::kOutputRows;
      } else
        return error(nullptr, "unknown input '" + v.name + "'");
    } else if (auto w = entry.getArgAttrOfType<StringAttr>(i, "qn.weight")) {
      v.name = w.getValue().str();
      v.kind = ValueKind::Weight;
      symbol = 0;
    } else if (auto s = entry.getArgAttrOfType<StringAttr>(i, "qn.state")) {
      v.name = s.getValue().str();
      v.kind = ValueKind::State;
      symbol = plan::kContextRows;
      std::pair<llvm::StringRef, llvm::StringRef> split =
          s.getValue().rsplit('-');
      llvm::StringRef what = split.first, layer = split.second;
      static const std::pair<llvm::StringRef, StateKind> kinds[] = {
          {"conv_state", StateKind::ConvWindow},
          {"delta_state", StateKind::DeltaMatrix},
          {"k_cache", StateKind::KeyCache},
          {"v_cache", StateKind::ValueCache}};
      auto kind =
          llvm::find_if(kinds, [&](auto &k) { return k.first == what; });
      if (kind == std::end(kinds) || layer.getAsInteger(10, v.layer))
        return error(nullptr, "unknown state '" + v.name + "'");
      v.state = kind->second;
    } else {
      return error(nullptr, llvm::formatv("argument #{0} has no qn.input, "
                                          "qn.weight or qn.state",
                                          i));
    }
    if (v.kind == ValueKind::Weight) {
      // The block format the kernels are planned for; the executor checks
      // the GGUF tensor is stored in it.
      std::optional<QuantFormat> format = weightFormatOf(arg.getType());
      std::optional<gguf::GGMLType> type =
          format ? gguf::parseTypeName(stringifyQuantFormat(*format))
                 : std::nullopt;
      if (!type)
        return error(nullptr, "weight '" + v.name + "' has no block format");
      v.format = *type;
    }
    if (auto w = llvm::dyn_cast<QWeightType>(arg.getType())) {
      // F16 and F32 storage say so here, block formats read as F32 (what
      // their kernels produce).
      v.type = w.getFormat() == QuantFormat::f16 ? ElementType::F16
                                                 : ElementType::F32;
    } else {
      llvm::Expected<ElementType> type = elementTypeOf(entry, arg.getType());
      if (!type)
        return type.takeError();
      v.type = *type;
    }
    if (v.kind == ValueKind::Weight) {
      auto tensor = llvm::dyn_cast<RankedTensorType>(arg.getType());
      if (tensor && !tensor.hasStaticShape()) {
        std::string s;
        llvm::raw_string_ostream os(s);
        os << tensor;
        return error(nullptr, "a weight's shape must be static, got " + s);
      }
    }
    llvm::Expected<std::vector<int64_t>> shape =
        shapeOf(entry, arg.getType(), symbol);
    if (!shape)
      return shape.takeError();
    v.shape = std::move(*shape);
    if (v.kind == ValueKind::Tokens)
      program.singleToken = v.shape == std::vector<int64_t>{1};
    ids[arg] = addValue(std::move(v));
  }
  return llvm::Error::success();
}

llvm::Error PlanBuilder::addViewOf(Operation *op, Value input, Value result) {
  llvm::Expected<int32_t> src = lookup(op, input);
  if (!src)
    return src.takeError();
  const plan::Value &from = program.values[*src];
  plan::Value like = from;
  llvm::Expected<std::vector<int64_t>> shape =
      shapeOf(op, result.getType(), symbolOf(from));
  if (!shape)
    return shape.takeError();
  like.shape = std::move(*shape);
  auto offset = op->getAttrOfType<IntegerAttr>("qn.offset");
  auto strides = op->getAttrOfType<DenseI64ArrayAttr>("qn.strides");
  if (!offset || !strides)
    return error(op, llvm::Twine("is a view without qn.offset and "
                                 "qn.strides") +
                         kRunAssignBuffers);
  if (strides.size() != static_cast<int64_t>(like.shape.size()))
    return error(op, llvm::formatv("qn.strides has {0} entries for rank {1}",
                                   strides.size(), like.shape.size()));
  // A view's base is the storage, never another view.
  int32_t base = from.kind == ValueKind::View ? from.base : *src;
  ids[result] = addView(qnName(op), like, base, offset.getInt(),
                        std::vector<int64_t>(strides.asArrayRef().begin(),
                                             strides.asArrayRef().end()));
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitCopy(DispatchCopyOp op) {
  llvm::Expected<int32_t> in = lookup(op, op.getInput());
  if (!in)
    return in.takeError();
  llvm::Expected<int32_t> out =
      scratch(op, op.getResult(), symbolOf(program.values[*in]));
  if (!out)
    return out.takeError();
  plan::Dispatch &d =
      addDispatch(DispatchKind::Copy, qnName(op), {*in}, {*out});
  d.backend = planBackend(op.getBackend());
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitConcat(ConcatOp op) {
  llvm::Expected<int64_t> symbol = resultSymbol(op, op.getInputs());
  if (!symbol)
    return symbol.takeError();
  llvm::Expected<int32_t> result = scratch(op, op.getResult(), *symbol);
  if (!result)
    return result.takeError();
  const size_t axis = op.getDim();
  plan::Value whole = program.values[*result];
  if (axis == 0 && symbolOf(whole) != 0)
    return error(op, "a concat along the dynamic outermost dimension");
  std::vector<int64_t> strides = rowMajorStrides(whole.shape);
  int64_t start = 0;
  for (auto [i, piece] : llvm::enumerate(op.getInputs())) {
    llvm::Expected<int32_t> in = lookup(op, piece);
    if (!in)
      return in.takeError();
    plan::Value like = program.values[*in];
    int32_t part = addView(llvm::formatv("{0}.part{1}", whole.name, i).str(),
                           like, *result, start * strides[axis], strides);
    addDispatch(DispatchKind::Copy, program.values[part].name, {*in}, {part});
    start += like.shape[axis];
  }
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitElementwise(DispatchElementwiseOp op) {
  std::vector<int32_t> operands;
  for (Value input : op.getInputs()) {
    llvm::Expected<int32_t> id = contiguous(op, input);
    if (!id)
      return id.takeError();
    operands.push_back(*id);
  }
  llvm::Expected<int64_t> symbol = resultSymbol(op, op.getInputs());
  if (!symbol)
    return symbol.takeError();
  llvm::Expected<int32_t> result = scratch(op, op.getResult(), *symbol);
  if (!result)
    return result.takeError();
  plan::Dispatch &d = addDispatch(DispatchKind::Elementwise, qnName(op),
                                  std::move(operands), {*result});
  d.backend = planBackend(op.getBackend());
  d.params = plan::KernelParams{op.getKernel().str(), nullptr};
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitLoop(DispatchLoopOp op,
                                   const std::vector<int32_t> *forced) {
  std::vector<int32_t> operands;
  for (Value input : op.getInputs()) {
    auto it = ids.find(input);
    if (it != ids.end() &&
        program.values[it->second].kind == ValueKind::State) {
      operands.push_back(it->second); // bound per sequence group
      continue;
    }
    llvm::Expected<int32_t> id = contiguous(op, input);
    if (!id)
      return id.takeError();
    operands.push_back(*id);
  }
  std::vector<int32_t> results;
  if (forced) {
    results = *forced;
  } else {
    llvm::Expected<int64_t> symbol = resultSymbol(op, op.getInputs());
    if (!symbol)
      return symbol.takeError();
    // A result qn-assign-buffers says is written in place is that
    // operand's state.
    auto inPlace = op->getAttrOfType<DenseI64ArrayAttr>("qn.in_place");
    if (!inPlace || inPlace.size() != static_cast<int64_t>(op.getNumResults()))
      return error(op, llvm::Twine("has no qn.in_place for its results") +
                           kRunAssignBuffers);
    for (auto [i, r] : llvm::enumerate(op.getResults())) {
      const int64_t written = inPlace[i];
      if (written >= static_cast<int64_t>(operands.size()) ||
          (written >= 0 &&
           program.values[operands[written]].kind != ValueKind::State))
        return error(op, llvm::formatv("result #{0} is written over operand "
                                       "#{1}, which is not a state",
                                       i, written));
      if (written >= 0) {
        ids[r] = operands[written];
        results.push_back(operands[written]);
        continue;
      }
      llvm::Expected<int32_t> id = scratch(op, r, *symbol);
      if (!id)
        return id.takeError();
      results.push_back(*id);
    }
  }
  plan::Dispatch &d = addDispatch(DispatchKind::Loop, qnName(op),
                                  std::move(operands), std::move(results));
  d.backend = planBackend(op.getBackend());
  d.params = plan::KernelParams{op.getKernel().str(), nullptr};
  return llvm::Error::success();
}

/// qn-select-delta-path leaves an scf.if on T only where one of the forms
/// is the chunked delta rule in primitive ops (delta mode 0);
/// qn-form-dispatches made that form a loop dispatch. Both branches become
/// dispatches that write the same values, each for its token counts.
llvm::Error PlanBuilder::visitDeltaGuard(scf::IfOp op) {
  auto notAGuard = [&](const llvm::Twine &why) {
    return error(op,
                 "an scf.if that is not a choice on the token count: " + why);
  };
  auto cmp = op.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::slt)
    return notAGuard("the condition is not 'T < N'");
  auto dim = cmp.getLhs().getDefiningOp<tensor::DimOp>();
  auto bound = cmp.getRhs().getDefiningOp<arith::ConstantIndexOp>();
  if (!dim || !bound || dim.getConstantIndex() != 0 || bound.value() < 1)
    return notAGuard("the condition is not 'T < N'");
  if (op.getElseRegion().empty())
    return notAGuard("it has no else branch");

  // Each branch: one dispatch whose results it yields.
  auto single = [&](Region &region) -> llvm::Expected<Operation *> {
    Block &block = region.front();
    Operation *yield = block.getTerminator();
    if (block.getOperations().size() != 2)
      return notAGuard("a branch is not one dispatch (run "
                       "qn-form-dispatches)");
    Operation *only = &block.front();
    if (!llvm::equal(yield->getOperands(), only->getResults()))
      return notAGuard("a branch does not yield its dispatch's results");
    return only;
  };
  llvm::Expected<Operation *> thenOp = single(op.getThenRegion());
  if (!thenOp)
    return thenOp.takeError();
  llvm::Expected<Operation *> elseOp = single(op.getElseRegion());
  if (!elseOp)
    return elseOp.takeError();
  const int64_t N = bound.value();
  // The delta net first (it makes the result values), the loop second.
  const bool thenIsNet = llvm::isa<DispatchGatedDeltaNetOp>(*thenOp);
  Operation *net = thenIsNet ? *thenOp : *elseOp;
  Operation *other = thenIsNet ? *elseOp : *thenOp;
  auto loop = llvm::dyn_cast<DispatchLoopOp>(other);
  if (!llvm::isa<DispatchGatedDeltaNetOp>(net) || !loop)
    return notAGuard("expected a delta-net dispatch and a loop dispatch");
  auto range = [&](size_t from, bool isThen) {
    // (Operand copies are before the scf.if: they run for every T.)
    for (size_t i = from; i < program.dispatches.size(); ++i) {
      (isThen ? program.dispatches[i].tokensBelow
              : program.dispatches[i].tokensFrom) = N;
    }
  };
  size_t first = program.dispatches.size();
  if (llvm::Error err = visitDispatch(net))
    return err;
  range(first, thenIsNet);
  std::vector<int32_t> results;
  for (auto [r, netResult] : llvm::zip(op.getResults(), net->getResults())) {
    results.push_back(ids.lookup(netResult));
    ids[r] = ids.lookup(netResult);
  }
  first = program.dispatches.size();
  if (llvm::Error err = visitLoop(loop, &results))
    return err;
  range(first, !thenIsNet);
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitReturn(func::ReturnOp ret) {
  if (ret.getNumOperands() == 0)
    return error(ret, "the entry returns no logits");
  llvm::Expected<int32_t> logits = lookup(ret, ret.getOperand(0));
  if (!logits)
    return logits.takeError();
  if (program.values[*logits].type != ElementType::F32)
    return error(ret, "the logits are not f32");
  program.logits = *logits;
  for (unsigned i = 1; i < ret.getNumOperands(); ++i) {
    auto name = entry.getResultAttrOfType<StringAttr>(i, "qn.state");
    llvm::Expected<int32_t> id = lookup(ret, ret.getOperand(i));
    if (!id)
      return id.takeError();
    const plan::Value &v = program.values[*id];
    if (!name || v.kind != ValueKind::State || v.name != name.getValue())
      return error(ret, llvm::formatv("result #{0} is not the in-place update "
                                      "of its state argument",
                                      i));
  }
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visit(Operation *op) {
  if (auto ret = llvm::dyn_cast<func::ReturnOp>(op))
    return visitReturn(ret);
  if (auto r = llvm::dyn_cast<ReshapeOp>(op))
    return addViewOf(op, r.getInput(), r.getResult());
  if (auto s = llvm::dyn_cast<SliceOp>(op))
    return addViewOf(op, s.getInput(), s.getResult());
  if (auto c = llvm::dyn_cast<ConcatOp>(op))
    return visitConcat(c);
  if (auto c = llvm::dyn_cast<DispatchCopyOp>(op))
    return visitCopy(c);
  if (auto guard = llvm::dyn_cast<scf::IfOp>(op))
    return visitDeltaGuard(guard);
  if (auto e = llvm::dyn_cast<DispatchElementwiseOp>(op))
    return visitElementwise(e);
  if (auto l = llvm::dyn_cast<DispatchLoopOp>(op))
    return visitLoop(l);
  if (op->getName().getStringRef().starts_with("qn.dispatch."))
    return visitDispatch(op);

  // Scalars (constants, dims) need no dispatch.
  bool producesTensors = llvm::any_of(op->getResultTypes(), [](Type t) {
    return llvm::isa<ShapedType, QWeightType>(t);
  });
  if (!producesTensors && op->getNumRegions() == 0)
    return llvm::Error::success();
  return error(op, "is not a dispatch (run qn-form-dispatches) or a view");
}

llvm::Error PlanBuilder::visitDispatch(Operation *op) {
  // Operands in the op's order, activations contiguous.
  std::vector<int32_t> operands;
  auto add = [&](llvm::Expected<int32_t> id) -> llvm::Error {
    if (!id)
      return id.takeError();
    operands.push_back(*id);
    return llvm::Error::success();
  };
  auto finish = [&](DispatchKind kind, Backend backend, ValueRange symbolFrom,
                    std::vector<int32_t> stateResults = {})
      -> llvm::Expected<plan::Dispatch *> {
    llvm::Expected<int64_t> symbol = resultSymbol(op, symbolFrom);
    if (!symbol)
      return symbol.takeError();
    llvm::Expected<int32_t> out = scratch(op, op->getResult(0), *symbol);
    if (!out)
      return out.takeError();
    std::vector<int32_t> results{*out};
    for (auto [i, id] : llvm::enumerate(stateResults)) {
      ids[op->getResult(i + 1)] = id;
      results.push_back(id);
    }
    plan::Dispatch &d =
        addDispatch(kind, qnName(op), std::move(operands), std::move(results));
    d.backend = planBackend(backend);
    return &d;
  };
  auto done = [](llvm::Expected<plan::Dispatch *> d) -> llvm::Error {
    return d ? llvm::Error::success() : d.takeError();
  };

  if (auto e = llvm::dyn_cast<DispatchEmbedOp>(op)) {
    // A GGUF table, or activation rows (contiguous like every operand).
    if (llvm::Error err = add(contiguous(op, e.getTable())))
      return err;
    if (llvm::Error err = add(contiguous(op, e.getIds())))
      return err;
    // The rows follow the ids: the tokens, or the output rows.
    return done(
        finish(DispatchKind::Embed, e.getBackend(), ValueRange{e.getIds()}));
  }
  if (auto n = llvm::dyn_cast<DispatchRmsNormOp>(op)) {
    if (llvm::Error err = add(contiguous(op, n.getInput())))
      return err;
    if (llvm::Error err = add(contiguous(op, n.getWeight())))
      return err;
    auto d = finish(DispatchKind::RmsNorm, n.getBackend(), op->getOperands());
    if (d)
      (*d)->params = plan::NormParams{n.getEpsilon().convertToFloat()};
    return done(std::move(d));
  }
  if (auto n = llvm::dyn_cast<DispatchL2NormOp>(op)) {
    if (llvm::Error err = add(contiguous(op, n.getInput())))
      return err;
    auto d = finish(DispatchKind::L2Norm, n.getBackend(), op->getOperands());
    if (d)
      (*d)->params = plan::NormParams{n.getEpsilon().convertToFloat()};
    return done(std::move(d));
  }
  if (auto m = llvm::dyn_cast<DispatchMatmulOp>(op)) {
    if (!m.getActivations())
      return error(op, "has no 'activations' (run qn-select-activations)");
    if (llvm::Error err = add(contiguous(op, m.getInput())))
      return err;
    if (llvm::Error err = add(weight(op, m.getWeight(), m.getLayouts()[0])))
      return err;
    if (Value r = m.getResidual())
      if (llvm::Error err = add(contiguous(op, r)))
        return err;
    auto d = finish(DispatchKind::Matmul, m.getBackend(), op->getOperands());
    if (d)
      (*d)->params = plan::MatmulParams{planActivations(*m.getActivations())};
    return done(std::move(d));
  }
  if (auto c = llvm::dyn_cast<DispatchConv1dCausalOp>(op)) {
    if (llvm::Error err = add(contiguous(op, c.getInput())))
      return err;
    if (llvm::Error err = add(contiguous(op, c.getWeight())))
      return err;
    if (llvm::Error err = add(state(op, c.getState())))
      return err;
    int32_t st = operands.back();
    return done(finish(DispatchKind::Conv1dCausal, c.getBackend(),
                       op->getOperands(), {st}));
  }
  if (auto n = llvm::dyn_cast<DispatchGatedDeltaNetOp>(op)) {
    for (Value v : {n.getQ(), n.getK(), n.getV(), n.getG(), n.getBeta()})
      if (llvm::Error err = add(contiguous(op, v)))
        return err;
    if (llvm::Error err = add(state(op, n.getState())))
      return err;
    int32_t st = operands.back();
    auto d = finish(DispatchKind::GatedDeltaNet, n.getBackend(),
                    op->getOperands(), {st});
    if (d) {
      plan::DeltaNetParams p;
      p.impl = planDeltaImpl(n.getImpl());
      p.recurrentBelow =
          static_cast<int64_t>(n.getRecurrentBelow().value_or(0));
      if (auto clamp = n.getStateClamp())
        p.stateClamp = clamp->convertToFloat();
      p.tiled = n.getHeadMapping() == HeadMapping::tile;
      (*d)->params = p;
    }
    return done(std::move(d));
  }
  if (auto a = llvm::dyn_cast<DispatchGatedAttentionOp>(op)) {
    for (Value v : {a.getQg(), a.getK(), a.getV(), a.getQNorm(), a.getKNorm(),
                    a.getPositions()})
      if (llvm::Error err = add(contiguous(op, v)))
        return err;
    for (Value v : {a.getKCache(), a.getVCache()})
      if (llvm::Error err = add(state(op, v)))
        return err;
    std::vector<int32_t> caches{operands[6], operands[7]};
    auto d = finish(DispatchKind::GatedAttention, a.getBackend(),
                    op->getOperands(), caches);
    if (d) {
      plan::AttentionParams p;
      p.impl = planAttentionImpl(a.getImpl());
      p.numHeads = static_cast<int64_t>(a.getNumHeads());
      p.numKvHeads = static_cast<int64_t>(a.getNumKvHeads());
      p.headDim = static_cast<int64_t>(a.getHeadDim());
      p.ropeDims = static_cast<int64_t>(a.getRopeDims());
      p.ropeBase = a.getRopeBase().convertToFloat();
      p.epsilon = a.getEpsilon().convertToFloat();
      if (auto sections = a.getRopeSections()) {
        std::array<int64_t, 4> s{};
        llvm::copy(sections->take_front(4), s.begin());
        p.ropeSections = s;
      }
      (*d)->params = p;
    }
    return done(std::move(d));
  }
  if (auto m = llvm::dyn_cast<DispatchMoeOp>(op)) {
    if (!m.getActivations())
      return error(op, "has no 'activations' (run qn-select-activations)");
    if (llvm::Error err = add(contiguous(op, m.getInput())))
      return err;
    for (auto [i, w] : llvm::enumerate(m.getWeightOperands()))
      if (llvm::Error err = add(weight(op, w, m.getLayouts()[i])))
        return err;
    auto d = finish(DispatchKind::MoE, m.getBackend(), op->getOperands());
    if (d)
      (*d)->params = plan::MoEParams{static_cast<int64_t>(m.getTopK()),
                                     m.hasSharedExpert(),
                                     planActivations(*m.getActivations())};
    return done(std::move(d));
  }
  if (auto t = llvm::dyn_cast<DispatchTransferOp>(op)) {
    if (llvm::Error err = add(contiguous(op, t.getInput())))
      return err;
    auto d = finish(DispatchKind::Transfer, t.getTo(), op->getOperands());
    if (d)
      (*d)->params = plan::TransferParams{planBackend(t.getFrom())};
    return done(std::move(d));
  }
  return error(op, "has no CPU dispatch");
}

llvm::Expected<plan::Program> PlanBuilder::build() {
  program.entry = entry.getSymName().str();
  if (!entry.getBody().hasOneBlock())
    return error(nullptr, "the entry must be one block");
  auto numSlots = entry->getAttrOfType<IntegerAttr>("qn.num_slots");
  if (!numSlots || numSlots.getInt() < 0 || numSlots.getInt() > INT32_MAX)
    return error(nullptr, llvm::Twine("no qn.num_slots") + kRunAssignBuffers);
  program.numSlots = static_cast<int32_t>(numSlots.getInt());
  if (llvm::Error err = bindArguments())
    return std::move(err);
  for (Operation &op : entry.getBody().front())
    if (llvm::Error err = visit(&op))
      return std::move(err);
  if (program.logits < 0)
    return error(nullptr, "no return");
  return std::move(program);
}

} // namespace

llvm::Expected<runtime::plan::Program> buildProgram(func::FuncOp entry) {
  return PlanBuilder(entry).build();
}

} // namespace qn::codegen

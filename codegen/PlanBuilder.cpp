//===- PlanBuilder.cpp - qn entry function -> runtime plan ----------------===//
//
// One pass over the entry block in program order: arguments become input,
// weight and state values; each op becomes views, copies or one dispatch;
// then scratch values get slots by liveness. docs/codegen.md describes the
// result with examples.
//
//===----------------------------------------------------------------------===//

#include "codegen/PlanBuilder.h"
#include "codegen/ElementwiseChains.h"

#include "dialect/QNOps.h"
#include "runtime/ops/DeltaNetCost.h"

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

using plan::rowMajorStrides;

bool isContiguous(const plan::Value &v) {
  return v.kind != ValueKind::View || plan::isRowMajor(v.shape, v.strides);
}

/// The strides of `to` viewing the elements of a (static) `from` with
/// `strides` in row-major order, or nothing when that needs a copy (numpy's
/// no-copy reshape: dimensions merged or split must be contiguous with each
/// other). Size-1 dimensions get the stride a row-major layout would give.
std::optional<std::vector<int64_t>>
reshapeStrides(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> strides,
               llvm::ArrayRef<int64_t> to) {
  SmallVector<int64_t> od, os;
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1) {
      od.push_back(from[i]);
      os.push_back(strides[i]);
    }
  std::vector<int64_t> ns(to.size(), 0);
  size_t oi = 0, ni = 0;
  while (ni < to.size() && oi < od.size()) {
    if (to[ni] == 1) {
      ++ni;
      continue;
    }
    size_t oj = oi + 1, nj = ni + 1;
    int64_t np = to[ni], op = od[oi];
    while (np != op) {
      if (np < op) {
        if (nj >= to.size())
          return std::nullopt;
        np *= to[nj++];
      } else {
        if (oj >= od.size())
          return std::nullopt;
        op *= od[oj++];
      }
    }
    for (size_t k = oi; k + 1 < oj; ++k)
      if (os[k] != od[k + 1] * os[k + 1])
        return std::nullopt;
    ns[nj - 1] = os[oj - 1];
    for (size_t k = nj - 1; k > ni; --k)
      ns[k - 1] = ns[k] * to[k];
    ni = nj;
    oi = oj;
  }
  for (; ni < to.size(); ++ni)
    if (to[ni] != 1)
      return std::nullopt;
  if (oi != od.size())
    return std::nullopt;
  for (size_t k = to.size(); k-- > 0;)
    if (to[k] == 1)
      ns[k] = k + 1 < to.size() ? ns[k + 1] * to[k + 1] : 1;
  return ns;
}

int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
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

/// One value-head delta-net algorithm per range of token counts (`begin`
/// to the next segment's begin), as qn-select-delta-path's guard encodes.
struct DeltaSegment {
  int64_t begin;
  DeltaNetImpl impl;
};

class PlanBuilder {
public:
  PlanBuilder(func::FuncOp entry, const ChainKernelMap &kernels,
              PlanTrace *trace)
      : entry(entry), kernels(kernels), trace(trace) {}

  llvm::Expected<plan::Program> build();

private:
  llvm::Error error(Operation *op, const llvm::Twine &what);
  llvm::Error bindArguments();
  llvm::Error visit(Operation *op);
  llvm::Error visitReturn(func::ReturnOp ret);
  llvm::Error visitReshape(ReshapeOp op);
  llvm::Error visitSlice(SliceOp op);
  llvm::Error visitConcat(ConcatOp op);
  llvm::Error visitChain(Operation *root);
  llvm::Error visitDeltaNet(GatedDeltaNetOp op, int64_t impl, int64_t below,
                            ValueRange results);
  llvm::Error visitDeltaGuard(scf::IfOp op);
  llvm::Error parseGuard(scf::IfOp op, int64_t from,
                         SmallVectorImpl<DeltaSegment> &segments,
                         GatedDeltaNetOp &first);
  void assignSlots();
  /// Adds `op` to the trace: the dispatches from index `before` on.
  void record(Operation *op, size_t before);

  llvm::Expected<int32_t> lookup(Operation *op, Value v);
  /// `v` as a contiguous value: itself, or a Copy of it into scratch.
  llvm::Expected<int32_t> contiguous(Operation *op, Value v);
  /// A weight operand (a GGUF tensor bound by qn.weight).
  llvm::Expected<int32_t> weight(Operation *op, Value v);
  /// A state operand (an entry argument bound by qn.state).
  llvm::Expected<int32_t> state(Operation *op, Value v);
  llvm::Expected<std::vector<int64_t>> shapeOf(Operation *op, Type type,
                                               int64_t symbol);
  llvm::Expected<ElementType> elementTypeOf(Operation *op, Type type);
  /// The symbol of the results' dynamic outermost dimension: that of the
  /// operands (T or R; caches' context rows do not count).
  llvm::Expected<int64_t> resultSymbol(Operation *op, ValueRange operands);
  /// A new scratch value for `result` (named after `op`).
  llvm::Expected<int32_t> scratch(Operation *op, Value result, int64_t symbol);
  int32_t addValue(plan::Value v);
  int32_t addView(std::string name, const plan::Value &like, int32_t base,
                  int64_t offset, std::vector<int64_t> strides);
  plan::Dispatch &addDispatch(DispatchKind kind, std::string name,
                              std::vector<int32_t> operands,
                              std::vector<int32_t> results);

  func::FuncOp entry;
  const ChainKernelMap &kernels;
  PlanTrace *trace;
  plan::Program program;
  llvm::DenseMap<Value, int32_t> ids;
  llvm::DenseMap<Operation *, const ElementwiseChain *> chainRoots;
  /// Chain member (not the root) -> its chain's root.
  llvm::DenseMap<Operation *, Operation *> chainMembers;
  std::vector<ElementwiseChain> chains;
  /// Value -> its contiguous copy, so that a view read by several
  /// dispatches is copied once.
  llvm::DenseMap<int32_t, int32_t> copies;
};

llvm::Error PlanBuilder::error(Operation *op, const llvm::Twine &what) {
  // Every error is returned at once, so the last one made is the one the
  // caller sees.
  if (trace)
    trace->failedOp = op == entry.getOperation() ? nullptr : op;
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
  if (!id || isContiguous(program.values[*id]))
    return id;
  if (auto it = copies.find(*id); it != copies.end())
    return it->second;
  plan::Value copy = program.values[*id];
  copy.name += ".copy";
  copy.kind = ValueKind::Scratch;
  copy.base = -1;
  copy.offset = 0;
  copy.strides.clear();
  std::string name = copy.name;
  int32_t c = addValue(std::move(copy));
  addDispatch(DispatchKind::Copy, name, {*id}, {c});
  // A view of a state would change under an in-place update: no reuse.
  if (program.values[program.values[*id].base].kind != ValueKind::State)
    copies[*id] = c;
  return c;
}

llvm::Expected<int32_t> PlanBuilder::weight(Operation *op, Value v) {
  llvm::Expected<int32_t> id = lookup(op, v);
  if (id && program.values[*id].kind != ValueKind::Weight)
    return error(op, "the weight operand is not a GGUF tensor (qn.weight)");
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
                                             int64_t symbol) {
  plan::Value v;
  v.name = qnName(op);
  v.kind = ValueKind::Scratch;
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
    if (auto w = llvm::dyn_cast<QWeightType>(arg.getType())) {
      // The executor reads the block format from the GGUF tensor `name`;
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

llvm::Error PlanBuilder::visitReshape(ReshapeOp op) {
  llvm::Expected<int32_t> src = lookup(op, op.getInput());
  if (!src)
    return src.takeError();
  plan::Value from = program.values[*src];
  llvm::Expected<std::vector<int64_t>> to =
      shapeOf(op, op.getType(), symbolOf(from));
  if (!to)
    return to.takeError();
  plan::Value like = from;
  like.shape = *to;
  int32_t base = from.kind == ValueKind::View ? from.base : *src;
  int64_t offset = from.kind == ValueKind::View ? from.offset : 0;
  std::vector<int64_t> strides =
      from.kind == ValueKind::View ? from.strides : rowMajorStrides(from.shape);
  std::optional<std::vector<int64_t>> viewStrides;
  if (!from.shape.empty() && !to->empty() && from.shape[0] == (*to)[0]) {
    // The outermost dimension (the tokens) is kept: reshape the rest.
    llvm::ArrayRef<int64_t> fromRest = llvm::ArrayRef(from.shape).drop_front();
    llvm::ArrayRef<int64_t> toRest = llvm::ArrayRef(*to).drop_front();
    if (product(fromRest) != product(toRest))
      return error(op, "the element counts differ");
    if (auto rest = reshapeStrides(
            fromRest, llvm::ArrayRef(strides).drop_front(), toRest)) {
      viewStrides = std::vector<int64_t>{strides[0]};
      viewStrides->insert(viewStrides->end(), rest->begin(), rest->end());
    }
  } else if (symbolOf(from) == 0 && (to->empty() || (*to)[0] >= 0)) {
    if (product(from.shape) != product(*to))
      return error(op, "the element counts differ");
    viewStrides = reshapeStrides(from.shape, strides, *to);
  } else {
    return error(op, "a reshape may not change the dynamic outermost "
                     "dimension");
  }
  if (!viewStrides) {
    // Not expressible as strides over the storage: copy, then view the copy.
    llvm::Expected<int32_t> copy = contiguous(op, op.getInput());
    if (!copy)
      return copy.takeError();
    base = *copy;
    offset = 0;
    viewStrides = rowMajorStrides(*to);
  }
  ids[op.getResult()] =
      addView(qnName(op), like, base, offset, std::move(*viewStrides));
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitSlice(SliceOp op) {
  llvm::Expected<int32_t> src = lookup(op, op.getInput());
  if (!src)
    return src.takeError();
  const plan::Value &from = program.values[*src];
  llvm::ArrayRef<int64_t> offsets = op.getOffsets(), steps = op.getStrides();
  if (symbolOf(from) != 0 && (offsets[0] != 0 || steps[0] != 1))
    return error(op, "a slice of the dynamic outermost dimension must start "
                     "at 0 with step 1");
  plan::Value like = from;
  llvm::Expected<std::vector<int64_t>> shape =
      shapeOf(op, op.getType(), symbolOf(from));
  if (!shape)
    return shape.takeError();
  like.shape = std::move(*shape);
  int32_t base = from.kind == ValueKind::View ? from.base : *src;
  int64_t offset = from.kind == ValueKind::View ? from.offset : 0;
  std::vector<int64_t> strides =
      from.kind == ValueKind::View ? from.strides : rowMajorStrides(from.shape);
  for (size_t d = 0; d < strides.size(); ++d) {
    offset += offsets[d] * strides[d];
    strides[d] *= steps[d];
  }
  ids[op.getResult()] =
      addView(qnName(op), like, base, offset, std::move(strides));
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

llvm::Error PlanBuilder::visitChain(Operation *root) {
  const ElementwiseChain &chain = *chainRoots.lookup(root);
  auto kernel = kernels.find(root);
  if (kernel == kernels.end())
    return error(root, "no kernel for its elementwise chain");
  std::vector<int32_t> operands;
  for (Value input : chain.inputs) {
    llvm::Expected<int32_t> id = contiguous(root, input);
    if (!id)
      return id.takeError();
    operands.push_back(*id);
  }
  llvm::Expected<int64_t> symbol = resultSymbol(root, chain.inputs);
  if (!symbol)
    return symbol.takeError();
  llvm::Expected<int32_t> result = scratch(root, root->getResult(0), *symbol);
  if (!result)
    return result.takeError();
  plan::Dispatch &d = addDispatch(DispatchKind::Elementwise, qnName(root),
                                  std::move(operands), {*result});
  d.kernelName = kernel->second.name;
  d.kernel = kernel->second.address;
  return llvm::Error::success();
}

llvm::Error PlanBuilder::visitDeltaNet(GatedDeltaNetOp op, int64_t impl,
                                       int64_t below, ValueRange results) {
  if (op.getScale())
    return error(op, "a scale other than 1/sqrt(dk) has no plan attribute");
  if (op.getHeadMapping() != HeadMapping::interleave)
    return error(op, "only the interleaved head mapping has a kernel");
  std::vector<int32_t> operands;
  for (Value v : {op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta()}) {
    llvm::Expected<int32_t> id = contiguous(op, v);
    if (!id)
      return id.takeError();
    operands.push_back(*id);
  }
  llvm::Expected<int32_t> st = state(op, op.getState());
  if (!st)
    return st.takeError();
  operands.push_back(*st);
  llvm::Expected<int64_t> symbol = resultSymbol(op, op.getOperands());
  if (!symbol)
    return symbol.takeError();
  llvm::Expected<int32_t> out = scratch(op, results[0], *symbol);
  if (!out)
    return out.takeError();
  ids[results[1]] = *st;
  plan::Dispatch &d = addDispatch(DispatchKind::GatedDeltaNet, qnName(op),
                                  std::move(operands), {*out, *st});
  d.i0 = impl;
  d.i1 = below;
  if (auto clamp = op.getStateClamp())
    d.f0 = clamp->convertToFloat();
  return llvm::Error::success();
}

/// The guard of qn-select-delta-path for a dynamic token count:
///   %d = tensor.dim %v, 0 ; %c = arith.cmpi slt, %d, N
///   scf.if %c { delta net A } else { delta net B | a nested guard }
/// Every delta net of the nest has the same operands; only `impl` differs.
llvm::Error PlanBuilder::parseGuard(scf::IfOp op, int64_t from,
                                    SmallVectorImpl<DeltaSegment> &segments,
                                    GatedDeltaNetOp &first) {
  auto notAGuard = [&](const llvm::Twine &why) {
    return error(op, "an scf.if that is not a delta-path guard: " + why);
  };
  auto cmp = op.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::slt)
    return notAGuard("the condition is not 'T < N'");
  auto dim = cmp.getLhs().getDefiningOp<tensor::DimOp>();
  auto bound = cmp.getRhs().getDefiningOp<arith::ConstantIndexOp>();
  if (!dim || !bound || dim.getConstantIndex() != 0)
    return notAGuard("the condition is not 'T < N'");
  if (op.getNumResults() != 2 || op.getElseRegion().empty())
    return notAGuard("it does not yield a delta net's two results");

  // Each branch: one delta net (or a nested guard) and the yield of its
  // results.
  auto branch = [&](Region &region, int64_t begin) -> llvm::Error {
    Block &block = region.front();
    auto yield = llvm::cast<scf::YieldOp>(block.getTerminator());
    for (Operation &inner : block.without_terminator()) {
      if (auto net = llvm::dyn_cast<GatedDeltaNetOp>(inner)) {
        if (!net.getImpl())
          return error(net, "a delta net without an implementation");
        if (!llvm::equal(yield.getOperands(), net->getResults()))
          return notAGuard("a branch does not yield its delta net");
        if (!first)
          first = net;
        else if (!llvm::equal(net->getOperands(), first->getOperands()))
          return notAGuard("the branches' delta nets read different values");
        segments.push_back({begin, *net.getImpl()});
        continue;
      }
      if (auto nested = llvm::dyn_cast<scf::IfOp>(inner)) {
        if (!llvm::equal(yield.getOperands(), nested.getResults()))
          return notAGuard("a branch does not yield its nested guard");
        if (llvm::Error err = parseGuard(nested, begin, segments, first))
          return err;
        continue;
      }
      // qn-select-delta-path's chunked form: primitives in the branch.
      std::string which = first ? " of '" + qnName(first) + "'" : "";
      return error(&inner, "the chunked delta path" + which +
                               " in primitive ops (delta mode 0) has no "
                               "compiled CPU path yet; use delta mode 1, 2 "
                               "or auto");
    }
    return llvm::Error::success();
  };
  if (llvm::Error err = branch(op.getThenRegion(), from))
    return err;
  return branch(op.getElseRegion(), bound.value());
}

llvm::Error PlanBuilder::visitDeltaGuard(scf::IfOp op) {
  SmallVector<DeltaSegment> segments;
  GatedDeltaNetOp net;
  if (llvm::Error err = parseGuard(op, 1, segments, net))
    return err;
  if (!net)
    return error(op, "a delta-path guard without a delta net");
  // The runtime's cost model (i0 = -1) decides per ubatch exactly as the
  // guard does when the guard is the cost model's choice for every T
  // (`auto`); a recurrent step below a threshold and one algorithm above it
  // (mode 1) is i0 + i1.
  auto q = llvm::cast<RankedTensorType>(net.getQ().getType());
  auto v = llvm::cast<RankedTensorType>(net.getV().getType());
  const int64_t dk = q.getShape().back(), dv = v.getShape().back();
  bool costModel = true;
  for (size_t s = 0; s < segments.size() && costModel; ++s) {
    int64_t end = s + 1 < segments.size() ? segments[s + 1].begin : 65537;
    for (int64_t t = segments[s].begin; t < end && costModel; ++t)
      costModel =
          runtime::cheapestDeltaImpl(runtime::kDeltaCostCpu, t, dk, dv) ==
          static_cast<int>(segments[s].impl);
  }
  int64_t impl, below = 0;
  if (costModel) {
    impl = -1;
  } else if (segments.size() == 2 &&
             segments[0].impl == DeltaNetImpl::recurrent) {
    impl = static_cast<int64_t>(segments[1].impl);
    below = segments[1].begin;
  } else {
    return error(net, "a delta-path choice per token count that is neither "
                      "the runtime's cost model nor 'recurrent below N'");
  }
  return visitDeltaNet(net, impl, below, op.getResults());
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
  if (chainMembers.count(op))
    return llvm::Error::success(); // computed by its chain's root
  if (chainRoots.count(op))
    return visitChain(op);
  if (auto ret = llvm::dyn_cast<func::ReturnOp>(op))
    return visitReturn(ret);
  if (auto r = llvm::dyn_cast<ReshapeOp>(op))
    return visitReshape(r);
  if (auto s = llvm::dyn_cast<SliceOp>(op))
    return visitSlice(s);
  if (auto c = llvm::dyn_cast<ConcatOp>(op))
    return visitConcat(c);
  if (auto guard = llvm::dyn_cast<scf::IfOp>(op))
    return visitDeltaGuard(guard);
  if (auto net = llvm::dyn_cast<GatedDeltaNetOp>(op)) {
    if (!net.getImpl())
      return error(op, "a delta net without an implementation (run "
                       "qn-cpu-pipeline first)");
    return visitDeltaNet(net, static_cast<int64_t>(*net.getImpl()), 0,
                         net->getResults());
  }

  // Scalars (the guard's constants, dims and compares) need no dispatch.
  bool producesTensors = llvm::any_of(op->getResultTypes(), [](Type t) {
    return llvm::isa<ShapedType, QWeightType>(t);
  });
  if (!producesTensors && op->getNumRegions() == 0)
    return llvm::Error::success();

  // Model-level ops: operands in the op's order, activations contiguous.
  std::vector<int32_t> operands;
  auto add = [&](llvm::Expected<int32_t> id) -> llvm::Error {
    if (!id)
      return id.takeError();
    operands.push_back(*id);
    return llvm::Error::success();
  };
  auto finish = [&](DispatchKind kind, ValueRange symbolFrom,
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
    return &addDispatch(kind, qnName(op), std::move(operands),
                        std::move(results));
  };

  if (auto e = llvm::dyn_cast<EmbedOp>(op)) {
    // A GGUF table, or activation rows (contiguous like every operand).
    if (llvm::Error err = add(contiguous(op, e.getTable())))
      return err;
    if (llvm::Error err = add(contiguous(op, e.getIds())))
      return err;
    // The rows follow the ids: the tokens, or the output rows.
    auto d = finish(DispatchKind::Embed, ValueRange{e.getIds()});
    return d ? llvm::Error::success() : d.takeError();
  }
  if (auto n = llvm::dyn_cast<RmsNormOp>(op)) {
    if (llvm::Error err = add(contiguous(op, n.getInput())))
      return err;
    if (llvm::Error err = add(contiguous(op, n.getWeight())))
      return err;
    auto d = finish(DispatchKind::RmsNorm, op->getOperands());
    if (!d)
      return d.takeError();
    (*d)->f0 = n.getEpsilon().convertToFloat();
    return llvm::Error::success();
  }
  if (auto n = llvm::dyn_cast<L2NormOp>(op)) {
    if (llvm::Error err = add(contiguous(op, n.getInput())))
      return err;
    auto d = finish(DispatchKind::L2Norm, op->getOperands());
    if (!d)
      return d.takeError();
    (*d)->f0 = n.getEpsilon().convertToFloat();
    return llvm::Error::success();
  }
  if (auto m = llvm::dyn_cast<MatmulOp>(op)) {
    if (llvm::Error err = add(contiguous(op, m.getInput())))
      return err;
    if (llvm::Error err = add(weight(op, m.getWeight())))
      return err;
    auto d = finish(DispatchKind::Matmul, op->getOperands());
    return d ? llvm::Error::success() : d.takeError();
  }
  if (auto c = llvm::dyn_cast<Conv1dCausalOp>(op)) {
    if (llvm::Error err = add(contiguous(op, c.getInput())))
      return err;
    if (llvm::Error err = add(contiguous(op, c.getWeight())))
      return err;
    if (llvm::Error err = add(state(op, c.getState())))
      return err;
    int32_t st = operands.back();
    auto d = finish(DispatchKind::Conv1dCausal, op->getOperands(), {st});
    return d ? llvm::Error::success() : d.takeError();
  }
  if (auto a = llvm::dyn_cast<GatedAttentionOp>(op)) {
    if (a.getScale())
      return error(op, "a scale other than 1/sqrt(head_dim) has no plan "
                       "attribute");
    for (Value v : {a.getQg(), a.getK(), a.getV(), a.getQNorm(), a.getKNorm(),
                    a.getPositions()})
      if (llvm::Error err = add(contiguous(op, v)))
        return err;
    for (Value v : {a.getKCache(), a.getVCache()})
      if (llvm::Error err = add(state(op, v)))
        return err;
    std::vector<int32_t> caches{operands[6], operands[7]};
    auto d = finish(DispatchKind::GatedAttention, op->getOperands(), caches);
    if (!d)
      return d.takeError();
    (*d)->i0 = static_cast<int64_t>(a.getNumHeads());
    (*d)->i1 = static_cast<int64_t>(a.getNumKvHeads());
    (*d)->i2 = static_cast<int64_t>(a.getHeadDim());
    (*d)->i3 = static_cast<int64_t>(a.getRopeDims());
    (*d)->f0 = a.getRopeBase().convertToFloat();
    (*d)->f1 = a.getEpsilon().convertToFloat();
    return llvm::Error::success();
  }
  if (auto m = llvm::dyn_cast<MoeOp>(op)) {
    if (m.getMinWeightSum())
      return error(op, "min_weight_sum has no plan attribute");
    if (llvm::Error err = add(contiguous(op, m.getInput())))
      return err;
    for (Value w : llvm::drop_begin(op->getOperands()))
      if (llvm::Error err = add(weight(op, w)))
        return err;
    auto d = finish(DispatchKind::MoE, op->getOperands());
    if (!d)
      return d.takeError();
    (*d)->i0 = static_cast<int64_t>(m.getTopK());
    (*d)->i1 = m.hasSharedExpert() ? 1 : 0;
    return llvm::Error::success();
  }
  if (llvm::isa<TransferOp>(op))
    return error(op, "a transfer between backends; the plan runs on the CPU "
                     "only (place every op on the cpu)");
  return error(op, "has no CPU dispatch");
}

void PlanBuilder::assignSlots() {
  // Each scratch value is live from the first to the last dispatch that
  // touches it, directly or through a view of it.
  const int32_t n = static_cast<int32_t>(program.values.size());
  std::vector<int32_t> first(n, INT_MAX), last(n, -1);
  auto storageOf = [&](int32_t id) {
    const plan::Value &v = program.values[id];
    return v.kind == ValueKind::View ? v.base : id;
  };
  for (size_t i = 0; i < program.dispatches.size(); ++i) {
    const plan::Dispatch &d = program.dispatches[i];
    const int32_t index = static_cast<int32_t>(i);
    for (const std::vector<int32_t> *list : {&d.operands, &d.results})
      for (int32_t id : *list) {
        int32_t s = storageOf(id);
        first[s] = std::min(first[s], index);
        last[s] = std::max(last[s], index);
      }
  }
  if (program.logits >= 0)
    last[storageOf(program.logits)] = INT_MAX;

  // Greedy interval colouring in order of first use. A freed slot is
  // reused by best fit on a size estimate (T = R = 1024), so that large
  // and small values do not end up sharing needlessly.
  auto bytes = [&](const plan::Value &v) {
    int64_t b = v.type == ElementType::F16 ? 2 : 4;
    for (int64_t d : v.shape)
      b *= d < 0 ? 1024 : d;
    return b;
  };
  std::vector<int32_t> order;
  for (int32_t id = 0; id < n; ++id)
    if (program.values[id].kind == ValueKind::Scratch)
      order.push_back(id);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return first[a] < first[b]; });
  struct Slot {
    int64_t bytes;
    int32_t busyUntil;
  };
  std::vector<Slot> slots;
  for (int32_t id : order) {
    plan::Value &v = program.values[id];
    const int64_t size = bytes(v);
    int32_t best = -1;
    for (int32_t s = 0; s < static_cast<int32_t>(slots.size()); ++s) {
      if (slots[s].busyUntil >= first[id] && last[id] >= 0)
        continue;
      if (best < 0) {
        best = s;
        continue;
      }
      bool fits = slots[s].bytes >= size, bestFits = slots[best].bytes >= size;
      if (fits != bestFits ? fits
                           : (fits ? slots[s].bytes < slots[best].bytes
                                   : slots[s].bytes > slots[best].bytes))
        best = s;
    }
    if (best < 0) {
      best = static_cast<int32_t>(slots.size());
      slots.push_back({0, -1});
    }
    slots[best].bytes = std::max(slots[best].bytes, size);
    slots[best].busyUntil = std::max(slots[best].busyUntil, last[id]);
    v.slot = best;
  }
  program.numSlots = static_cast<int32_t>(slots.size());
}

void PlanBuilder::record(Operation *op, size_t before) {
  OpPlan &p = trace->ops[op];
  for (size_t i = before; i < program.dispatches.size(); ++i)
    p.dispatches.push_back(static_cast<int32_t>(i));
  for (Value result : op->getResults()) {
    auto it = ids.find(result);
    p.results.push_back(it == ids.end() ? -1 : it->second);
  }
  if (chainRoots.count(op))
    p.chainRoot = op;
  else
    p.chainRoot = chainMembers.lookup(op);
}

llvm::Expected<plan::Program> PlanBuilder::build() {
  program.entry = entry.getSymName().str();
  if (!entry.getBody().hasOneBlock())
    return error(nullptr, "the entry must be one block");
  chains = findElementwiseChains(entry);
  for (const ElementwiseChain &chain : chains) {
    chainRoots[chain.root()] = &chain;
    for (Operation *member : chain.ops)
      if (member != chain.root())
        chainMembers[member] = chain.root();
  }
  if (llvm::Error err = bindArguments())
    return std::move(err);
  for (Operation &op : entry.getBody().front()) {
    const size_t before = program.dispatches.size();
    if (llvm::Error err = visit(&op))
      return std::move(err);
    if (trace)
      record(&op, before);
  }
  if (program.logits < 0)
    return error(nullptr, "no return");
  assignSlots();
  return std::move(program);
}

} // namespace

llvm::Expected<runtime::plan::Program>
buildProgram(func::FuncOp entry, const ChainKernelMap &kernels,
             PlanTrace *trace) {
  return PlanBuilder(entry, kernels, trace).build();
}

llvm::Expected<ChainKernelMap>
mapChainKernels(ModuleOp module, const std::vector<ChainKernel> &names) {
  // The same walk as emitChainKernels: functions, then chains in order.
  ChainKernelMap map;
  size_t next = 0;
  for (auto func : module.getOps<func::FuncOp>())
    for (const ElementwiseChain &chain : findElementwiseChains(func)) {
      if (next >= names.size())
        return llvm::createStringError("more chains than kernels");
      map[chain.root()] = {names[next++].kernel, nullptr};
    }
  if (next != names.size())
    return llvm::createStringError("fewer chains than kernels");
  return map;
}

ChainKernelMap placeholderKernels(ModuleOp module) {
  ChainKernelMap map;
  for (auto func : module.getOps<func::FuncOp>())
    for (const ElementwiseChain &chain : findElementwiseChains(func))
      map[chain.root()] = {};
  return map;
}

} // namespace qn::codegen

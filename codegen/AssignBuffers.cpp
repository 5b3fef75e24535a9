//===- AssignBuffers.cpp - views, copies and scratch slots in the IR ------===//
//
// qn-assign-buffers (CodegenPasses.td has the rules and an example): the
// memory of every value of an entry is decided here, once, and written into
// the IR; PlanBuilder serializes it and the executor allocates it.
//
// The pass walks the entry block twice. The first walk gives every
// qn.reshape / qn.slice its place in its storage (`qn.offset`,
// `qn.strides`) and puts a qn.dispatch.copy in front of every reader that
// needs contiguous memory it does not get. The second walk numbers the
// plan's dispatches the way PlanBuilder will emit them (a concat is one copy
// per piece, a choice on T the delta net then the loop), takes each scratch
// value's live range over those numbers and colours the ranges into slots.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"

#include "dialect/QNOps.h"

#include "runtime/plan/Program.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

#include <algorithm>
#include <climits>
#include <optional>

namespace qn {
#define GEN_PASS_DEF_ASSIGNBUFFERSPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

/// A tensor's shape with the dynamic outermost dimension as -1: strides
/// never involve it (only inner dimensions multiply into strides).
std::vector<int64_t> planShape(Type t) {
  auto type = llvm::cast<RankedTensorType>(t);
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  for (int64_t &d : shape)
    if (ShapedType::isDynamic(d))
      d = -1;
  return shape;
}

int64_t product(llvm::ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// The strides of `to` viewing the elements of a static `from` laid out
/// with `strides`, in row-major order, or nothing when that needs a copy
/// (numpy's no-copy reshape: dimensions that are merged or split must be
/// contiguous with each other). Size-1 dimensions get the stride a
/// row-major layout would give them.
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

/// Where a tensor's elements are: `strides` and `offset` (in elements) over
/// `storage`, the non-view value that owns the memory (an entry argument or
/// a dispatch result).
struct Layout {
  Value storage;
  int64_t offset = 0;
  std::vector<int64_t> strides;
  bool isView = false;
};

/// The delta-mode-0 choice on T: the recurrent delta net and the loop of
/// its two branches (PlanBuilder checks the condition's form).
struct Guard {
  Operation *net = nullptr;
  DispatchLoopOp loop;
};

std::optional<Guard> guardOf(scf::IfOp op) {
  if (op.getElseRegion().empty())
    return std::nullopt;
  auto single = [](Region &region) -> Operation * {
    Block &block = region.front();
    return block.getOperations().size() == 2 ? &block.front() : nullptr;
  };
  Operation *a = single(op.getThenRegion()), *b = single(op.getElseRegion());
  if (!a || !b)
    return std::nullopt;
  if (llvm::isa<DispatchGatedDeltaNetOp>(b))
    std::swap(a, b);
  auto loop = llvm::dyn_cast<DispatchLoopOp>(b);
  if (!llvm::isa<DispatchGatedDeltaNetOp>(a) || !loop)
    return std::nullopt;
  return Guard{a, loop};
}

bool isDispatch(Operation *op) {
  return op->getName().getStringRef().starts_with("qn.dispatch.");
}

/// The backend a dispatch runs on (a transfer reads on `from`).
Backend backendOf(Operation *op) {
  if (auto t = llvm::dyn_cast<DispatchTransferOp>(op))
    return t.getFrom();
  if (auto b = op->getAttrOfType<BackendAttr>("backend"))
    return b.getValue();
  return Backend::cpu;
}

/// The backend whose memory a dispatch's results live in.
Backend homeOf(Operation *op) {
  if (auto t = llvm::dyn_cast<DispatchTransferOp>(op))
    return t.getTo();
  return backendOf(op);
}

std::string qnName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("qn.name"))
    return name.getValue().str();
  return "";
}

class BufferAssigner {
public:
  explicit BufferAssigner(func::FuncOp entry) : entry(entry) {}

  LogicalResult run() {
    if (!entry.getBody().hasOneBlock())
      return entry.emitOpError("qn-assign-buffers: the entry must be one "
                               "block");
    // In-place results first: whether a view may share its copy depends on
    // whether its storage is a state.
    if (failed(markInPlaceResults()) || failed(placeViewsAndCopies()))
      return failure();
    assignSlots();
    return success();
  }

private:
  LogicalResult placeViewsAndCopies();
  LogicalResult markInPlaceResults();
  void assignSlots();

  /// The layout of `v`; a value not seen yet (an argument, a dispatch
  /// result) is its own row-major storage.
  FailureOr<Layout> layoutOf(Operation *user, Value v);
  LogicalResult placeReshape(ReshapeOp op);
  LogicalResult placeSlice(SliceOp op);
  /// Makes every tensor operand of dispatch `op` contiguous; copies go
  /// before `anchor` (the op itself, or the scf.if it is a branch of).
  LogicalResult makeOperandsContiguous(Operation *op, Operation *anchor);
  /// `v` as a contiguous value, copied on `backend` before `anchor` if
  /// needed.
  FailureOr<Value> contiguous(Operation *user, Value v, Backend backend,
                              Operation *anchor);
  bool isState(Value v) {
    auto arg = llvm::dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &entry.getBody().front() &&
           entry.getArgAttr(arg.getArgNumber(), "qn.state");
  }
  /// The backend whose memory holds `v`'s storage.
  Backend homeOfValue(Value v) {
    Operation *def = storageOf(v).getDefiningOp();
    return def && isDispatch(def) ? homeOf(def) : Backend::cpu;
  }
  /// The storage `v` is in: itself, a view's base, or the state a result
  /// updates in place.
  Value storageOf(Value v) {
    auto it = layouts.find(v);
    if (it != layouts.end())
      v = it->second.storage;
    auto alias = inPlace.find(v);
    return alias == inPlace.end() ? v : alias->second;
  }

  func::FuncOp entry;
  llvm::DenseMap<Value, Layout> layouts;
  /// A non-contiguous view -> its copy, so that a view read by several
  /// dispatches is copied once.
  llvm::DenseMap<Value, Value> copies;
  /// A result updated in place -> the state (or, in a choice on T, the
  /// delta net's result) whose memory it is.
  llvm::DenseMap<Value, Value> inPlace;
};

FailureOr<Layout> BufferAssigner::layoutOf(Operation *user, Value v) {
  if (auto it = layouts.find(v); it != layouts.end())
    return it->second;
  auto type = llvm::dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return user->emitOpError("qn-assign-buffers: an operand that is not a "
                             "ranked tensor");
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return user->emitOpError("qn-assign-buffers: only the outermost "
                               "dimension may be dynamic, got ")
             << type;
  Layout layout;
  layout.storage = v;
  layout.strides = runtime::plan::rowMajorStrides(planShape(type));
  return layouts[v] = layout;
}

FailureOr<Value> BufferAssigner::contiguous(Operation *user, Value v,
                                            Backend backend,
                                            Operation *anchor) {
  FailureOr<Layout> layout = layoutOf(user, v);
  if (failed(layout))
    return failure();
  auto type = llvm::cast<RankedTensorType>(v.getType());
  if (!layout->isView ||
      runtime::plan::isRowMajor(planShape(type), layout->strides))
    return v;
  if (auto it = copies.find(v); it != copies.end())
    return it->second;
  OpBuilder b(anchor);
  auto copy = DispatchCopyOp::create(b, v.getLoc(), type, v, backend);
  copy->setAttr("qn.name",
                b.getStringAttr(qnName(v.getDefiningOp()) + ".copy"));
  // A view of a state changes when the state is updated in place: each
  // reader copies it right before it reads.
  if (!isState(storageOf(v)))
    copies[v] = copy.getResult();
  return copy.getResult();
}

LogicalResult BufferAssigner::makeOperandsContiguous(Operation *op,
                                                     Operation *anchor) {
  if (llvm::isa<DispatchCopyOp>(op))
    return success();
  const Backend backend = backendOf(op);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!llvm::isa<RankedTensorType>(operand.get().getType()))
      continue; // weights in block formats: GGUF tensors, read in place
    FailureOr<Value> c = contiguous(op, operand.get(), backend, anchor);
    if (failed(c))
      return failure();
    operand.set(*c);
  }
  return success();
}

LogicalResult BufferAssigner::placeReshape(ReshapeOp op) {
  FailureOr<Layout> from = layoutOf(op, op.getInput());
  if (failed(from))
    return failure();
  std::vector<int64_t> fromShape = planShape(op.getInput().getType());
  std::vector<int64_t> to = planShape(op.getType());
  std::optional<std::vector<int64_t>> strides;
  if (!fromShape.empty() && !to.empty() && fromShape[0] == to[0]) {
    // The outermost dimension (the tokens) is kept: reshape the rest.
    llvm::ArrayRef<int64_t> fromRest = llvm::ArrayRef(fromShape).drop_front();
    llvm::ArrayRef<int64_t> toRest = llvm::ArrayRef(to).drop_front();
    if (product(fromRest) != product(toRest))
      return op.emitOpError("qn-assign-buffers: the element counts differ");
    if (auto rest = reshapeStrides(
            fromRest, llvm::ArrayRef(from->strides).drop_front(), toRest)) {
      strides = std::vector<int64_t>{from->strides[0]};
      strides->insert(strides->end(), rest->begin(), rest->end());
    }
  } else if (llvm::none_of(fromShape, [](int64_t d) { return d < 0; }) &&
             llvm::none_of(to, [](int64_t d) { return d < 0; })) {
    if (product(fromShape) != product(to))
      return op.emitOpError("qn-assign-buffers: the element counts differ");
    strides = reshapeStrides(fromShape, from->strides, to);
  } else {
    return op.emitOpError("qn-assign-buffers: a reshape may not change the "
                          "dynamic outermost dimension");
  }
  Layout layout{from->storage, from->offset, {}, true};
  if (strides) {
    layout.strides = std::move(*strides);
  } else {
    // Not expressible as strides over the storage: view a copy instead.
    FailureOr<Value> copy =
        contiguous(op, op.getInput(), homeOfValue(op.getInput()), op);
    if (failed(copy))
      return failure();
    op.getInputMutable().set(*copy);
    FailureOr<Layout> copied = layoutOf(op, *copy);
    if (failed(copied))
      return failure();
    layout.storage = copied->storage;
    layout.offset = 0;
    layout.strides = runtime::plan::rowMajorStrides(to);
  }
  OpBuilder b(op);
  op->setAttr("qn.offset", b.getI64IntegerAttr(layout.offset));
  op->setAttr("qn.strides", b.getDenseI64ArrayAttr(layout.strides));
  layouts[op.getResult()] = std::move(layout);
  return success();
}

LogicalResult BufferAssigner::placeSlice(SliceOp op) {
  FailureOr<Layout> from = layoutOf(op, op.getInput());
  if (failed(from))
    return failure();
  llvm::ArrayRef<int64_t> offsets = op.getOffsets(), steps = op.getStrides();
  if (llvm::cast<RankedTensorType>(op.getInput().getType()).isDynamicDim(0) &&
      (offsets[0] != 0 || steps[0] != 1))
    return op.emitOpError("qn-assign-buffers: a slice of the dynamic "
                          "outermost dimension must start at 0 with step 1");
  Layout layout{from->storage, from->offset, from->strides, true};
  for (size_t d = 0; d < layout.strides.size(); ++d) {
    layout.offset += offsets[d] * layout.strides[d];
    layout.strides[d] *= steps[d];
  }
  OpBuilder b(op);
  op->setAttr("qn.offset", b.getI64IntegerAttr(layout.offset));
  op->setAttr("qn.strides", b.getDenseI64ArrayAttr(layout.strides));
  layouts[op.getResult()] = std::move(layout);
  return success();
}

LogicalResult BufferAssigner::placeViewsAndCopies() {
  // Copies are inserted before the op being visited: iterate over a
  // snapshot of the block.
  SmallVector<Operation *> ops;
  for (Operation &op : entry.getBody().front())
    ops.push_back(&op);
  for (Operation *op : ops) {
    if (auto r = llvm::dyn_cast<ReshapeOp>(op)) {
      if (failed(placeReshape(r)))
        return failure();
    } else if (auto s = llvm::dyn_cast<SliceOp>(op)) {
      if (failed(placeSlice(s)))
        return failure();
    } else if (auto guard = llvm::dyn_cast<scf::IfOp>(op)) {
      std::optional<Guard> g = guardOf(guard);
      if (!g)
        return guard.emitOpError("qn-assign-buffers: an scf.if that is not a "
                                 "choice on T between a delta-net dispatch "
                                 "and a loop dispatch");
      // Operand copies run for every T: before the choice.
      for (Operation *branch : {g->net, g->loop.getOperation()})
        if (failed(makeOperandsContiguous(branch, guard)))
          return failure();
    } else if (isDispatch(op)) {
      if (failed(makeOperandsContiguous(op, op)))
        return failure();
    } else if (llvm::isa<ConcatOp, func::ReturnOp>(op)) {
      continue; // a concat copies each piece into its view as it is
    } else if (llvm::any_of(op->getResultTypes(),
                            [](Type t) {
                              return llvm::isa<ShapedType, QWeightType>(t);
                            }) ||
               op->getNumRegions() != 0) {
      return op->emitOpError("qn-assign-buffers: not a dispatch or a view "
                             "(run qn-form-dispatches first)");
    }
  }
  return success();
}

LogicalResult BufferAssigner::markInPlaceResults() {
  Block &block = entry.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(block.getTerminator());
  // The state argument an entry result named `qn.state` updates.
  auto returnedState = [&](Value r) -> Value {
    for (OpOperand &use : r.getUses()) {
      if (use.getOwner() != ret.getOperation())
        continue;
      auto name = entry.getResultAttrOfType<StringAttr>(use.getOperandNumber(),
                                                        "qn.state");
      if (!name)
        continue;
      for (BlockArgument arg : entry.getArguments())
        if (entry.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                               "qn.state") == name)
          return arg;
    }
    return Value();
  };
  auto markLoop = [&](DispatchLoopOp loop, ValueRange results,
                      bool inGuard) -> LogicalResult {
    SmallVector<int64_t> written;
    for (auto [loopResult, r] : llvm::zip(loop.getResults(), results)) {
      Value state = returnedState(r);
      int64_t index = -1;
      if (state) {
        auto it = llvm::find(loop.getInputs(), state);
        if (it == loop.getInputs().end())
          return loop.emitOpError("qn-assign-buffers: writes the state ")
                 << entry.getArgAttr(
                        llvm::cast<BlockArgument>(state).getArgNumber(),
                        "qn.state")
                 << " without reading it";
        index = it - loop.getInputs().begin();
        if (!inGuard)
          inPlace[loopResult] = state;
      }
      written.push_back(index);
    }
    loop->setAttr("qn.in_place", OpBuilder(loop).getDenseI64ArrayAttr(written));
    return success();
  };
  for (Operation &op : block) {
    if (auto c = llvm::dyn_cast<DispatchConv1dCausalOp>(op)) {
      inPlace[c.getNewState()] = c.getState();
    } else if (auto n = llvm::dyn_cast<DispatchGatedDeltaNetOp>(op)) {
      inPlace[n->getResult(1)] = n.getState();
    } else if (auto a = llvm::dyn_cast<DispatchGatedAttentionOp>(op)) {
      inPlace[a->getResult(1)] = a.getKCache();
      inPlace[a->getResult(2)] = a.getVCache();
    } else if (auto loop = llvm::dyn_cast<DispatchLoopOp>(op)) {
      if (failed(markLoop(loop, loop.getResults(), /*inGuard=*/false)))
        return failure();
    } else if (auto guard = llvm::dyn_cast<scf::IfOp>(op)) {
      std::optional<Guard> guarded = guardOf(guard);
      if (!guarded)
        continue; // placeViewsAndCopies says what is wrong with it
      Guard g = *guarded;
      // Both branches write the delta net's values.
      auto n = llvm::cast<DispatchGatedDeltaNetOp>(g.net);
      inPlace[n->getResult(1)] = n.getState();
      for (auto [r, netResult] : llvm::zip(guard.getResults(), n->getResults()))
        inPlace[r] = storageOf(netResult);
      for (auto [loopResult, netResult] :
           llvm::zip(g.loop.getResults(), n->getResults()))
        inPlace[loopResult] = storageOf(netResult);
      if (failed(markLoop(g.loop, guard.getResults(), /*inGuard=*/true)))
        return failure();
    }
  }
  return success();
}

void BufferAssigner::assignSlots() {
  Block &block = entry.getBody().front();
  // The plan's dispatch numbering (PlanBuilder emits the same order): each
  // dispatch op one step, a concat one step per piece, a choice on T two.
  // A scratch value is live from the first to the last step that touches
  // its storage, directly or through a view; the logits to the end.
  llvm::MapVector<Value, std::pair<int32_t, int32_t>> live; // creation order
  llvm::DenseMap<Value, Backend> home;
  int32_t step = 0;
  auto touch = [&](Value v) {
    Value s = storageOf(v);
    if (!llvm::isa<RankedTensorType>(s.getType()) ||
        llvm::isa<BlockArgument>(s))
      return; // arguments: inputs, weights and states have their own memory
    auto [it, inserted] = live.try_emplace(s, step, step);
    it->second.first = std::min(it->second.first, step);
    it->second.second = std::max(it->second.second, step);
  };
  auto dispatch = [&](Operation *op) {
    for (Value v : op->getOperands())
      touch(v);
    for (Value r : op->getResults()) {
      touch(r);
      home[storageOf(r)] = homeOf(op);
    }
    ++step;
  };
  for (Operation &op : block) {
    if (auto concat = llvm::dyn_cast<ConcatOp>(op)) {
      for (Value in : concat.getInputs()) {
        touch(in);
        touch(concat.getResult());
        home[concat.getResult()] = Backend::cpu; // the plan's copies
        ++step;
      }
    } else if (auto guard = llvm::dyn_cast<scf::IfOp>(op)) {
      Guard g = *guardOf(guard);
      dispatch(g.net);
      dispatch(g.loop);
    } else if (isDispatch(&op)) {
      dispatch(&op);
    }
  }
  auto ret = llvm::cast<func::ReturnOp>(block.getTerminator());
  if (ret.getNumOperands() > 0) {
    Value logits = storageOf(ret.getOperand(0));
    if (auto it = live.find(logits); it != live.end())
      it->second.second = INT_MAX;
  }

  // Greedy interval colouring in order of first use. A freed slot is
  // reused by best fit on a size estimate (T = R = 1024), so that large and
  // small values do not end up sharing needlessly; a slot holds one
  // backend's values only.
  auto bytes = [](Value v) {
    auto type = llvm::cast<RankedTensorType>(v.getType());
    int64_t b = type.getElementType().isF16() ? 2 : 4;
    for (int64_t d : type.getShape())
      b *= ShapedType::isDynamic(d) ? 1024 : d;
    return b;
  };
  SmallVector<Value> order;
  for (auto &item : live)
    order.push_back(item.first);
  std::stable_sort(order.begin(), order.end(), [&](Value a, Value b) {
    return live.lookup(a).first < live.lookup(b).first;
  });
  struct Slot {
    int64_t bytes;
    int32_t busyUntil;
    Backend backend;
  };
  std::vector<Slot> slots;
  llvm::DenseMap<Value, int64_t> slotOf;
  for (Value v : order) {
    auto [first, last] = live.lookup(v);
    const int64_t size = bytes(v);
    int32_t best = -1;
    for (int32_t s = 0; s < static_cast<int32_t>(slots.size()); ++s) {
      if (slots[s].backend != home.lookup(v) || slots[s].busyUntil >= first)
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
      slots.push_back({0, -1, home.lookup(v)});
    }
    slots[best].bytes = std::max(slots[best].bytes, size);
    slots[best].busyUntil = std::max(slots[best].busyUntil, last);
    slotOf[v] = best;
  }

  // One `qn.slots` entry per result: its slot, or -1 for a result written
  // in place (a state; in a choice on T, the delta net's memory).
  OpBuilder b(entry);
  auto annotate = [&](Operation *op) {
    SmallVector<int64_t> perResult;
    for (Value r : op->getResults()) {
      auto it = slotOf.find(storageOf(r));
      perResult.push_back(it == slotOf.end() || inPlace.count(r) ? -1
                                                                 : it->second);
    }
    op->setAttr("qn.slots", b.getDenseI64ArrayAttr(perResult));
  };
  for (Operation &op : block) {
    if (auto guard = llvm::dyn_cast<scf::IfOp>(op)) {
      Guard g = *guardOf(guard);
      annotate(g.net);
      // The loop writes the net's memory: the same slots.
      g.loop->setAttr("qn.slots", g.net->getAttr("qn.slots"));
    } else if (isDispatch(&op) || llvm::isa<ConcatOp>(op)) {
      annotate(&op);
    }
  }
  entry->setAttr("qn.num_slots",
                 b.getI64IntegerAttr(static_cast<int64_t>(slots.size())));
}

struct AssignBuffersPass : qn::impl::AssignBuffersPassBase<AssignBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto entry : getOperation().getOps<func::FuncOp>())
      if (!entry.isExternal() && failed(BufferAssigner(entry).run()))
        return signalPassFailure();
  }
};

} // namespace
} // namespace qn

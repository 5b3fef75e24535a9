//===- AssignBackends.cpp - backends with the minimum number of splits ----===//
//
// qn-assign-backends: builds the placement graph of a function (one node per
// op; one tied node per result of a multi-result op; host-side nodes for the
// arguments and the returned values), solves it exactly with the placement
// core (passes/placement, s-t minimum cut), writes `qn.backend` on every op
// and makes every transfer an explicit `qn.transfer`. docs/placement.md
// defines a split; the greedy baseline is reported beside it.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "gguf/GGMLType.h"
#include "gguf/InputFile.h"
#include "passes/Passes.h"
#include "passes/placement/Assign.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

namespace qn {
#define GEN_PASS_DEF_ASSIGNBACKENDSPASS
#include "passes/Passes.h.inc"
} // namespace qn

using namespace mlir;
using namespace qn;
namespace pl = qn::placement;

namespace {

constexpr llvm::StringLiteral kBackendAttr = "qn.backend";
constexpr llvm::StringLiteral kWeightAttr = "qn.weight";
constexpr llvm::StringLiteral kStateAttr = "qn.state";

/// Bytes of a value of type `t`; dynamic dimensions count as `dynamicSize`.
uint64_t typeBytes(Type t, int64_t dynamicSize) {
  if (auto w = llvm::dyn_cast<QWeightType>(t)) {
    ArrayRef<int64_t> shape = w.getShape();
    if (shape.empty())
      return 0;
    std::optional<gguf::GGMLType> gt =
        gguf::parseTypeName(stringifyQuantFormat(w.getFormat()));
    uint64_t rows = 1;
    for (int64_t d : shape.drop_back())
      rows *= uint64_t(d);
    return gt ? rows * gguf::rowBytes(*gt, shape.back())
              : rows * uint64_t(shape.back()) * 4;
  }
  auto shaped = llvm::dyn_cast<ShapedType>(t);
  if (!shaped || !shaped.hasRank())
    return 0;
  uint64_t n = 1;
  for (int64_t d : shaped.getShape())
    n *= uint64_t(ShapedType::isDynamic(d) ? dynamicSize : d);
  Type e = shaped.getElementType();
  uint64_t bits = e.isIntOrFloat() ? e.getIntOrFloatBitWidth() : 32;
  return n * ((bits + 7) / 8);
}

struct AssignBackendsPass
    : qn::impl::AssignBackendsPassBase<AssignBackendsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  FailureOr<pl::PlacementOptions> parseOptions(func::FuncOp func);
};

FailureOr<pl::PlacementOptions>
AssignBackendsPass::parseOptions(func::FuncOp func) {
  pl::PlacementOptions opts;
  // Dynamic dims count as `ubatch` rows: a value <= 0 would make every
  // byte count nonsense (the overflow guard then blames the IR).
  if (ubatch <= 0)
    return func.emitError() << "qn-assign-backends: pass option ubatch must "
                               "be > 0, got "
                            << static_cast<int64_t>(ubatch);
  std::optional<pl::Backend> dev = pl::parseBackend(device);
  if (!dev)
    return func.emitError() << "qn-assign-backends: device must be cpu or "
                               "cuda, got '"
                            << device << "'";
  opts.device = *dev;
  opts.nCpuMoe = nCpuMoe;
  for (const std::string &spec : overrideTensor) {
    auto rule = pl::parseOverrideRule(spec);
    if (!rule)
      return func.emitError()
             << "qn-assign-backends: " << llvm::toString(rule.takeError());
    opts.overrides.push_back(*rule);
  }
  if (!supportTable.empty()) {
    auto buf = qn::getInputFile(supportTable);
    if (!buf)
      return func.emitError()
             << "qn-assign-backends: cannot read support "
                "table "
             << supportTable << ": " << buf.getError().message();
    if (llvm::Error e = opts.support.addJSON((*buf)->getBuffer(), supportTable))
      return func.emitError()
             << "qn-assign-backends: " << llvm::toString(std::move(e));
  }
  for (const std::string &spec : unsupported)
    if (llvm::Error e = opts.support.parseUnsupported(spec))
      return func.emitError()
             << "qn-assign-backends: " << llvm::toString(std::move(e));
  return opts;
}

void AssignBackendsPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (func.isExternal())
    return;
  if (!func.getBody().hasOneBlock()) {
    func.emitError() << "qn-assign-backends: expects a single-block function";
    return signalPassFailure();
  }
  FailureOr<pl::PlacementOptions> opts = parseOptions(func);
  if (failed(opts))
    return signalPassFailure();

  Block &body = func.getBody().front();
  pl::Graph g;
  // Where each value's producer is in the graph (block arguments that are
  // inputs get a host node on first use).
  llvm::DenseMap<Value, pl::NodeId> producer;
  llvm::DenseMap<Operation *, pl::NodeId> opNode;
  auto residentOf = [&](BlockArgument arg) -> std::optional<pl::Resident> {
    unsigned i = arg.getArgNumber();
    uint64_t bytes = typeBytes(arg.getType(), ubatch);
    if (auto name = func.getArgAttrOfType<StringAttr>(i, kWeightAttr))
      return pl::Resident(name.str(), bytes);
    if (llvm::isa<QWeightType>(arg.getType()))
      return pl::Resident(llvm::formatv("arg{0}", i).str(), bytes);
    return std::nullopt;
  };
  auto stateOf = [&](BlockArgument arg) -> std::optional<pl::Resident> {
    unsigned i = arg.getArgNumber();
    if (auto name = func.getArgAttrOfType<StringAttr>(i, kStateAttr))
      return pl::Resident(name.str(), typeBytes(arg.getType(), ubatch));
    return std::nullopt;
  };

  unsigned index = 0;
  for (Operation &op : body) {
    std::vector<pl::NodeId> inputs;
    std::vector<pl::Resident> weights, state;
    bool isReturn = op.hasTrait<OpTrait::IsTerminator>();
    // A value of this block read by the op (or by an op nested in it).
    auto consume = [&](Value v) {
      if (auto arg = llvm::dyn_cast<BlockArgument>(v)) {
        if (arg.getOwner() != &body)
          return;
        if (std::optional<pl::Resident> w = residentOf(arg))
          return weights.push_back(*w);
        if (std::optional<pl::Resident> s = stateOf(arg))
          return state.push_back(*s);
        auto [it, inserted] = producer.try_emplace(v, 0);
        if (inserted)
          it->second = g.addPinned(
              "input", llvm::formatv("arg{0}", arg.getArgNumber()).str(),
              typeBytes(v.getType(), ubatch), {}, pl::Backend::CPU);
        return inputs.push_back(it->second);
      }
      auto it = producer.find(v);
      if (it != producer.end())
        inputs.push_back(it->second);
    };
    for (OpOperand &use : op.getOpOperands()) {
      if (isReturn && func.getResultAttr(use.getOperandNumber(), kStateAttr))
        continue; // state handed back goes home, not to the host
      consume(use.get());
    }
    op.walk([&](Operation *nested) {
      if (nested != &op)
        for (Value v : nested->getOperands())
          consume(v);
    });
    // Diagnostics name the op by the frontend's `qn.name` (the peer's tensor
    // name) when it has one.
    std::string name =
        llvm::formatv("{0}#{1}", op.getName().getStringRef(), index++).str();
    if (auto qnName = op.getAttrOfType<StringAttr>("qn.name"))
      name = qnName.str();
    if (isReturn) {
      g.addPinned("return", name, 0, inputs, pl::Backend::CPU);
      continue;
    }
    StringRef kind = op.getName().getStringRef();
    if (op.getDialect() && op.getDialect()->getNamespace() == "qn")
      kind.consume_front("qn.");
    uint64_t bytes = op.getNumResults() == 1
                         ? typeBytes(op.getResult(0).getType(), ubatch)
                         : 0;
    pl::NodeId id = g.add(kind, name, bytes, inputs, weights, state);
    opNode[&op] = id;
    if (op.getNumResults() == 1) {
      producer[op.getResult(0)] = id;
    } else {
      for (OpResult r : op.getResults())
        producer[r] = g.addResultOf(
            id, llvm::formatv("{0}:{1}", name, r.getResultNumber()).str(),
            typeBytes(r.getType(), ubatch));
    }
  }

  auto constraints = pl::resolveConstraints(g, *opts);
  if (!constraints) {
    func.emitError() << "qn-assign-backends: "
                     << llvm::toString(constraints.takeError());
    return signalPassFailure();
  }
  auto exact = pl::assignMinCut(g, constraints->allowed);
  if (!exact) {
    func.emitError() << "qn-assign-backends: "
                     << llvm::toString(exact.takeError());
    return signalPassFailure();
  }
  pl::Cost cost = pl::evaluate(g, *exact);
  pl::Cost greedy = pl::evaluate(g, pl::assignGreedy(g, constraints->allowed));
  if (maxSplits >= 0 && cost.transfers > uint64_t(int64_t(maxSplits))) {
    func.emitError() << "qn-assign-backends: the placement needs "
                     << cost.transfers << " splits, more than max-splits "
                     << int64_t(maxSplits) << " allows";
    return signalPassFailure();
  }

  // The IR: backends on ops, transfers for every crossing value.
  MLIRContext *ctx = &getContext();
  auto backendAttr = [&](pl::Backend b) {
    return StringAttr::get(ctx, pl::backendName(b));
  };
  // The backend that reads `use`: its op's, the host for returned values,
  // the device for state handed back.
  auto backendOfUse = [&](OpOperand &use) -> std::optional<pl::Backend> {
    Operation *top = body.findAncestorOpInBlock(*use.getOwner());
    if (!top)
      return std::nullopt;
    if (top == body.getTerminator()) {
      if (top == use.getOwner() &&
          func.getResultAttr(use.getOperandNumber(), kStateAttr))
        return opts->device;
      return pl::Backend::CPU;
    }
    auto it = opNode.find(top);
    if (it == opNode.end())
      return std::nullopt;
    return (*exact)[it->second];
  };
  for (auto [op, id] : opNode)
    op->setAttr(kBackendAttr, backendAttr((*exact)[id]));

  OpBuilder builder(ctx);
  // State handed back to the caller goes home to the device: a write-back,
  // part of a resident copy, not a split.
  auto isStateReturn = [&](OpOperand &use) {
    return use.getOwner() == body.getTerminator() &&
           func.getResultAttr(use.getOperandNumber(), kStateAttr);
  };
  struct Made {
    unsigned values = 0, writeBacks = 0;
  };
  // One transfer of `v` (living on `from`) per backend its users need.
  auto insertTransfers = [&](Value v, pl::Backend from,
                             OpBuilder::InsertPoint at) {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : v.getUses())
      uses.push_back(&use);
    Value copies[2][pl::kNumBackends] = {};
    Made made;
    for (OpOperand *use : uses) {
      std::optional<pl::Backend> to = backendOfUse(*use);
      if (!to || *to == from)
        continue;
      bool writeBack = isStateReturn(*use);
      Value &copy = copies[writeBack][unsigned(*to)];
      if (!copy) {
        builder.restoreInsertionPoint(at);
        auto t = TransferOp::create(builder, v.getLoc(), v,
                                    backendAttr(*to).getValue());
        t->setAttr(kBackendAttr, backendAttr(*to));
        copy = t.getResult();
        ++(writeBack ? made.writeBacks : made.values);
      }
      use->set(copy);
    }
    return made;
  };
  unsigned inserted = 0, residentInserted = 0;
  auto weightHome = pl::WeightPlacement::create(*opts);
  if (!weightHome) { // cannot happen: resolveConstraints built one already
    func.emitError() << "qn-assign-backends: "
                     << llvm::toString(weightHome.takeError());
    return signalPassFailure();
  }
  for (BlockArgument arg : body.getArguments()) {
    pl::Backend home = pl::Backend::CPU;
    bool resident = false;
    if (std::optional<pl::Resident> w = residentOf(arg)) {
      home = weightHome->weightBackend(w->name);
      resident = true;
    } else if (stateOf(arg)) {
      home = opts->device;
      resident = true;
    } else {
      auto it = producer.find(arg);
      if (it == producer.end())
        continue;
      home = (*exact)[it->second];
    }
    Made n =
        insertTransfers(arg, home, OpBuilder::InsertPoint(&body, body.begin()));
    (resident ? residentInserted : inserted) += n.values;
    residentInserted += n.writeBacks;
  }
  for (auto [op, id] : opNode) {
    for (OpResult r : op->getResults()) {
      OpBuilder::InsertPoint after(op->getBlock(), ++Block::iterator(op));
      Made n = insertTransfers(r, (*exact)[id], after);
      inserted += n.values;
      residentInserted += n.writeBacks;
    }
  }

  uint64_t residentCopies = 0, residentBytes = 0;
  for (const pl::ResidentCopy &c : constraints->copies) {
    residentCopies += c.count;
    residentBytes += c.count * c.bytes;
  }
  func.emitRemark() << "qn-assign-backends: " << cost.transfers << " splits, "
                    << cost.bytes << " bytes (greedy: " << greedy.transfers
                    << " splits, " << greedy.bytes << " bytes); " << inserted
                    << " transfers inserted; " << residentCopies
                    << " resident copies, " << residentBytes << " bytes ("
                    << residentInserted << " transfer ops)";
}

} // namespace

//===- FormDispatches.cpp - model/primitive ops -> qn.dispatch.* ----------===//
//
// qn-form-dispatches: rewrites every function of the module from the model
// level to the dispatch level (docs/codegen.md):
//
//   * each maximal elementwise tree (findElementwiseChains) becomes one
//     qn.dispatch.elementwise whose body is the tree; trees that compute
//     the same function of the same types share one kernel name;
//   * each model op becomes its dispatch op, with the backend
//     qn-assign-backends chose (`qn.backend`, else the pass's `backend`),
//     the format and layout of each weight it reads, and its parameters as
//     typed attributes; the delta net's algorithm is copied from the choice
//     qn-select-delta-path wrote, never re-derived;
//   * qn.transfer becomes qn.dispatch.transfer between the two backends;
//   * the chunked delta rule in primitive ops (delta mode 0), behind
//     qn-select-delta-path's choice on the token count, becomes one
//     qn.dispatch.loop (a generated loop kernel) beside the delta net's
//     dispatch for the other token counts.
//
// Shape ops (reshape, slice, concat) stay: they are views and copies,
// decided with the buffers by the plan builder. An op that has no dispatch
// form (a delta net with no algorithm yet, an attribute no kernel takes) is
// an error naming the op and the attribute.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"
#include "codegen/ElementwiseChains.h"

#include "dialect/QNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace qn {
#define GEN_PASS_DEF_FORMDISPATCHESPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

constexpr llvm::StringLiteral kNameAttr = "qn.name";
constexpr llvm::StringLiteral kBackendAttr = "qn.backend";

/// Copies the discardable attributes a dispatch keeps (its name) from `from`.
void keepName(Operation *from, Operation *to) {
  if (Attribute name = from->getAttr(kNameAttr))
    to->setAttr(kNameAttr, name);
}

/// Fills the body of region dispatch `d`: one block argument per input,
/// then `pre` and `ops` cloned onto them (qn.backend dropped: the dispatch
/// says where it runs), then a yield of what `yielded` became.
void fillBody(Operation *d, ValueRange inputs, ArrayRef<Operation *> pre,
              ArrayRef<Operation *> ops, ValueRange yielded) {
  OpBuilder b(d->getContext());
  SmallVector<Type> types(inputs.getTypes());
  Block *body = b.createBlock(&d->getRegion(0), {}, types,
                              SmallVector<Location>(types.size(), d->getLoc()));
  IRMapping map;
  map.map(inputs, body->getArguments());
  for (ArrayRef<Operation *> list : {pre, ops})
    for (Operation *op : list) {
      if (llvm::any_of(op->getResults(),
                       [&](Value r) { return map.contains(r); }))
        continue; // cloned already
      b.clone(*op, map)->walk(
          [](Operation *inner) { inner->removeAttr(kBackendAttr); });
    }
  SmallVector<Value> values;
  for (Value v : yielded)
    values.push_back(map.lookupOrDefault(v));
  DispatchYieldOp::create(b, d->getLoc(), values);
}

struct FormDispatchesPass
    : qn::impl::FormDispatchesPassBase<FormDispatchesPass> {
  using Base::Base;

  Backend defaultBackend = Backend::cpu;
  /// Printed chain body (without names) -> the kernel of the first chain.
  llvm::StringMap<std::string> kernelOfBody;

  LogicalResult backendOf(Operation *op, Backend &out) {
    out = defaultBackend;
    // A dispatch formed already says where it runs.
    if (std::optional<Attribute> inherent = op->getInherentAttr("backend"))
      if (auto b = llvm::dyn_cast_or_null<BackendAttr>(*inherent)) {
        out = b.getValue();
        return success();
      }
    auto attr = op->getAttrOfType<StringAttr>(kBackendAttr);
    if (!attr)
      return success();
    std::optional<Backend> b = symbolizeBackend(attr.getValue());
    if (!b)
      return op->emitOpError("has qn.backend = \"")
             << attr.getValue() << "\", which is not a backend (cpu, cuda)";
    out = *b;
    return success();
  }

  /// `weights(...)` of the values `weights`: each one's format, plain rows.
  LogicalResult weightsOf(Operation *op, ValueRange weights, ArrayAttr &formats,
                          ArrayAttr &layouts) {
    SmallVector<Attribute> f, l;
    MLIRContext *ctx = op->getContext();
    for (Value w : weights) {
      std::optional<QuantFormat> format = weightFormatOf(w.getType());
      if (!format)
        return op->emitOpError("reads a weight of type ")
               << w.getType() << ", which has no block format";
      f.push_back(QuantFormatAttr::get(ctx, *format));
      l.push_back(WeightLayoutAttr::get(ctx, WeightLayout::rows));
    }
    formats = ArrayAttr::get(ctx, f);
    layouts = ArrayAttr::get(ctx, l);
    return success();
  }

  /// The kernel name of a region dispatch: the first one with the same
  /// body names it (the same chain in every layer is one kernel).
  std::string kernelName(func::FuncOp func, Operation *d) {
    std::string name = (func.getSymName() + ".").str();
    if (auto n = d->getAttrOfType<StringAttr>(kNameAttr))
      name += n.getValue().str();
    else
      name += "chain" + std::to_string(kernelOfBody.size());
    // The key: the region as printed without qn.name attributes, under a
    // fixed kernel name.
    OpBuilder b(d);
    Operation *copy = b.clone(*d);
    copy->walk([](Operation *op) { op->removeAttr(kNameAttr); });
    copy->setAttr("kernel", b.getStringAttr(""));
    std::string key;
    llvm::raw_string_ostream os(key);
    copy->print(os, OpPrintingFlags().useLocalScope());
    copy->erase();
    return kernelOfBody.try_emplace(key, name).first->second;
  }

  LogicalResult formChains(func::FuncOp func) {
    // A chain's input may be an earlier chain's root, replaced (and
    // erased) by then: read it through what replaced it.
    llvm::DenseMap<Value, Value> replaced;
    for (codegen::ElementwiseChain chain :
         codegen::findElementwiseChains(func)) {
      for (Value &v : chain.inputs)
        if (auto it = replaced.find(v); it != replaced.end())
          v = it->second;
      Operation *root = chain.root();
      // Only the entry's own block: a region (the chunked delta path) is
      // formed as a whole.
      if (root->getParentOp() != func.getOperation())
        continue;
      Backend backend;
      if (failed(backendOf(root, backend)))
        return failure();
      OpBuilder b(root);
      auto d = DispatchElementwiseOp::create(
          b, root->getLoc(), root->getResult(0).getType(), chain.inputs,
          BackendAttr::get(root->getContext(), backend), b.getStringAttr(""));
      keepName(root, d);
      fillBody(d, chain.inputs, {}, chain.ops, root->getResult(0));
      d.setKernel(kernelName(func, d));
      root->getResult(0).replaceAllUsesWith(d.getResult());
      replaced[root->getResult(0)] = d.getResult();
      for (Operation *op : llvm::reverse(chain.ops))
        op->erase();
    }
    return success();
  }

  /// The chunked delta rule behind qn-select-delta-path's guard
  ///   scf.if (T < N) { qn.gated_delta_net impl X } else { primitives }
  /// becomes a choice between two dispatches: the delta net's, and one
  /// qn.dispatch.loop of the primitives (named after the delta net).
  LogicalResult formGuard(func::FuncOp func, scf::IfOp guard) {
    std::string name;
    guard.walk([&](GatedDeltaNetOp net) {
      if (auto n = net->getAttrOfType<StringAttr>(kNameAttr))
        name = n.getValue().str();
    });
    for (Region &r : guard->getRegions()) {
      Region *region = &r;
      if (region->empty())
        continue;
      Block &block = region->front();
      auto yield = llvm::cast<scf::YieldOp>(block.getTerminator());
      if (block.getOperations().size() == 2 &&
          llvm::isa<GatedDeltaNetOp>(block.front())) {
        if (failed(formOne(&block.front())))
          return failure();
        continue;
      }
      for (Operation &op : block.without_terminator())
        if (llvm::isa<scf::IfOp>(op))
          return op.emitOpError("a nested choice on the token count has no "
                                "dispatch form");
      Backend backend;
      if (failed(backendOf(&block.front(), backend)))
        return failure();
      // Tensors from outside are the loop's operands; the scalars it reads
      // (the token count, constants) are recomputed inside, from them.
      llvm::SetVector<Value> used, inputs;
      SmallVector<Operation *> scalarDefs;
      getUsedValuesDefinedAbove(*region, used);
      for (Value v : used) {
        if (llvm::isa<RankedTensorType>(v.getType())) {
          inputs.insert(v);
          continue;
        }
        Operation *def = v.getDefiningOp();
        if (!def || !llvm::isa<arith::ConstantOp, tensor::DimOp>(def))
          return guard.emitOpError("the chunked delta path reads a scalar "
                                   "that is neither a constant nor a "
                                   "dimension");
        if (auto dim = llvm::dyn_cast<tensor::DimOp>(def)) {
          inputs.insert(dim.getSource());
          Operation *index = dim.getIndex().getDefiningOp();
          if (!index || !llvm::isa<arith::ConstantOp>(index))
            return guard.emitOpError("a dimension with a dynamic index");
          scalarDefs.push_back(index);
        }
        scalarDefs.push_back(def);
      }
      OpBuilder b(yield);
      auto loop = DispatchLoopOp::create(
          b, guard.getLoc(), yield.getOperandTypes(), inputs.getArrayRef(),
          BackendAttr::get(guard.getContext(), backend), b.getStringAttr(""));
      if (!name.empty())
        loop->setAttr(kNameAttr, b.getStringAttr(name));
      SmallVector<Operation *> moved;
      for (Operation &op : block.without_terminator()) {
        if (&op == loop.getOperation())
          break;
        moved.push_back(&op);
      }
      fillBody(loop, inputs.getArrayRef(), scalarDefs, moved,
               yield.getOperands());
      yield->setOperands(loop.getResults());
      for (Operation *op : llvm::reverse(moved))
        op->erase();
      loop.setKernel(kernelName(func, loop));
    }
    return success();
  }

  /// Replaces `op` by the dispatch `d` (same results in order).
  void replace(Operation *op, Operation *d) {
    keepName(op, d);
    op->replaceAllUsesWith(d->getResults());
    op->erase();
  }

  LogicalResult formOne(Operation *op) {
    Backend backend;
    if (!llvm::isa<EmbedOp, RmsNormOp, L2NormOp, MatmulOp, Conv1dCausalOp,
                   GatedDeltaNetOp, GatedAttentionOp, MoeOp, TransferOp>(op))
      return success();
    if (failed(backendOf(op, backend)))
      return failure();
    OpBuilder b(op);
    Location loc = op->getLoc();
    ArrayAttr formats, layouts;
    // Every dispatch attribute as an Attribute (the builders of ops with
    // several attributes take them so).
    BackendAttr on = BackendAttr::get(op->getContext(), backend);
    if (auto e = llvm::dyn_cast<EmbedOp>(op)) {
      if (failed(weightsOf(op, e.getTable(), formats, layouts)))
        return failure();
      replace(op, DispatchEmbedOp::create(b, loc, e.getType(), e.getTable(),
                                          e.getIds(), on, formats, layouts));
    } else if (auto n = llvm::dyn_cast<RmsNormOp>(op)) {
      replace(op,
              DispatchRmsNormOp::create(b, loc, n.getType(), n.getInput(),
                                        n.getWeight(), on, n.getEpsilonAttr()));
    } else if (auto n = llvm::dyn_cast<L2NormOp>(op)) {
      replace(op, DispatchL2NormOp::create(b, loc, n.getType(), n.getInput(),
                                           on, n.getEpsilonAttr()));
    } else if (auto m = llvm::dyn_cast<MatmulOp>(op)) {
      if (failed(weightsOf(op, m.getWeight(), formats, layouts)))
        return failure();
      replace(op, DispatchMatmulOp::create(b, loc, m.getType(), m.getInput(),
                                           m.getWeight(), Value(), on, formats,
                                           layouts, ActivationsAttr()));
    } else if (auto c = llvm::dyn_cast<Conv1dCausalOp>(op)) {
      replace(op, DispatchConv1dCausalOp::create(b, loc, op->getResultTypes(),
                                                 c.getInput(), c.getWeight(),
                                                 c.getState(), on));
    } else if (auto n = llvm::dyn_cast<GatedDeltaNetOp>(op)) {
      if (!n.getImpl())
        return op->emitOpError("has no algorithm ('impl'): run "
                               "qn-select-delta-path first");
      if (n.getScale())
        return op->emitOpError("attribute 'scale': the delta-net kernels "
                               "use 1/sqrt(dk) only");
      auto d = DispatchGatedDeltaNetOp::create(
          b, loc, op->getResultTypes(), n.getQ(), n.getK(), n.getV(), n.getG(),
          n.getBeta(), n.getState(), on, n.getImplAttr(),
          n.getRecurrentBelowAttr(), n.getStateClampAttr(),
          n.getHeadMappingAttr());
      replace(op, d);
    } else if (auto a = llvm::dyn_cast<GatedAttentionOp>(op)) {
      if (a.getScale())
        return op->emitOpError("attribute 'scale': the attention kernel "
                               "uses 1/sqrt(head_dim) only");
      replace(
          op,
          DispatchGatedAttentionOp::create(
              b, loc, op->getResultTypes(), a.getQg(), a.getK(), a.getV(),
              a.getQNorm(), a.getKNorm(), a.getPositions(), a.getKCache(),
              a.getVCache(), on,
              AttentionImplAttr::get(op->getContext(), AttentionImpl::plain),
              a.getNumHeadsAttr(), a.getNumKvHeadsAttr(), a.getHeadDimAttr(),
              a.getRopeDimsAttr(), a.getRopeBaseAttr(), a.getEpsilonAttr(),
              a.getRopeSectionsAttr()));
    } else if (auto m = llvm::dyn_cast<MoeOp>(op)) {
      if (m.getMinWeightSum())
        return op->emitOpError("attribute 'min_weight_sum': the MoE kernel "
                               "does not clamp the weight sum");
      SmallVector<Value> weights(llvm::drop_begin(op->getOperands()));
      if (failed(weightsOf(op, weights, formats, layouts)))
        return failure();
      replace(op, DispatchMoeOp::create(b, loc, m.getType(), m.getInput(),
                                        m.getRouter(), m.getGateExps(),
                                        m.getUpExps(), m.getDownExps(),
                                        m.getShared(), on, m.getTopKAttr(),
                                        formats, layouts, ActivationsAttr()));
    } else if (auto t = llvm::dyn_cast<TransferOp>(op)) {
      Backend from = backend, to;
      std::optional<Backend> parsed = symbolizeBackend(t.getTo());
      if (!parsed)
        return op->emitOpError("attribute 'to': '")
               << t.getTo() << "' is not a backend (cpu, cuda)";
      to = *parsed;
      if (Operation *def = t.getInput().getDefiningOp())
        if (failed(backendOf(def, from)))
          return failure();
      if (from == to)
        return op->emitOpError("a transfer from ")
               << stringifyBackend(from) << " to the same backend";
      replace(op, DispatchTransferOp::create(
                      b, loc, t.getType(), t.getInput(),
                      BackendAttr::get(op->getContext(), from),
                      BackendAttr::get(op->getContext(), to)));
    }
    return success();
  }

  void runOnOperation() override {
    std::optional<Backend> b = symbolizeBackend(backend);
    if (!b) {
      getOperation().emitError() << "qn-form-dispatches: unknown backend '"
                                 << backend << "' (expected cpu or cuda)";
      return signalPassFailure();
    }
    defaultBackend = *b;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (failed(formChains(func)))
        return signalPassFailure();
      SmallVector<Operation *> ops;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          ops.push_back(&op);
      for (Operation *op : ops) {
        auto guard = llvm::dyn_cast<scf::IfOp>(op);
        if (guard ? failed(formGuard(func, guard)) : failed(formOne(op)))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
} // namespace qn

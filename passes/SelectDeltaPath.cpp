//===- SelectDeltaPath.cpp - recurrent / chunked / fused delta rule ------===//
//
// qn-select-delta-path{mode=0|1|2|auto target=cpu|cuda}: decides how every
// qn.gated_delta_net without an `impl` runs (docs/delta-path.md):
//
//   mode 0: T > 1 -> the chunked form in primitive ops (ChunkedDeltaBuilder),
//           T = 1 -> `impl recurrent`;
//   mode 1: T > 1 -> `impl fused`, T = 1 -> `impl recurrent`;
//   mode 2: `impl fused` for every T;
//   auto:   the cheapest algorithm of the target's cost table
//           (runtime/ops/DeltaNetCost.h, shared with the runtime).
//
// A static token count decides at compile time. For a dynamic one the
// choice is a function of T, written on the op when kernels compute every
// segment: `impl X` alone, or `impl X recurrent_below N` (the recurrent
// step for T < N). This pass is the only place that decides: the plan and
// the runtime read these attributes. Where the chunked form in primitive
// ops is one of the segments, an scf.if on T (tensor.dim of v) selects
// between the candidate forms, so the op never runs a path the mode
// forbids.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "passes/ChunkedDeltaBuilder.h"
#include "passes/Passes.h"
#include "runtime/ops/DeltaNetCost.h"

namespace qn {
#define GEN_PASS_DEF_SELECTDELTAPATHPASS
#include "passes/Passes.h.inc"
} // namespace qn

using namespace mlir;
using namespace qn;

namespace {

/// Tokens from `begin` on use `impl` (until the next segment's begin).
struct Segment {
  int64_t begin;
  DeltaNetImpl impl;
};

/// The algorithm for T tokens under `mode` (T = 1 or T > 1 suffices for the
/// fixed modes).
DeltaNetImpl choose(StringRef mode, const runtime::DeltaCostTable &table,
                    int64_t T, int64_t dk, int64_t dv) {
  if (mode == "0")
    return T > 1 ? DeltaNetImpl::chunked : DeltaNetImpl::recurrent;
  if (mode == "1")
    return T > 1 ? DeltaNetImpl::fused : DeltaNetImpl::recurrent;
  if (mode == "2")
    return DeltaNetImpl::fused;
  return static_cast<DeltaNetImpl>(
      runtime::cheapestDeltaImpl(table, T, dk, dv));
}

/// The largest ubatch the choice is planned for; the last segment extends
/// beyond it.
constexpr int64_t kMaxPlannedTokens = 65536;

/// The choice as a function of T >= 1: with costs linear in T the cheapest
/// algorithm changes at most twice; scanning up to kMaxPlannedTokens finds
/// where.
SmallVector<Segment> segments(StringRef mode,
                              const runtime::DeltaCostTable &table, int64_t dk,
                              int64_t dv) {
  SmallVector<Segment> out;
  for (int64_t T = 1; T <= kMaxPlannedTokens; ++T) {
    const DeltaNetImpl impl = choose(mode, table, T, dk, dv);
    if (out.empty() || out.back().impl != impl)
      out.push_back({T, impl});
  }
  return out;
}

struct SelectDeltaPathPass
    : qn::impl::SelectDeltaPathPassBase<SelectDeltaPathPass> {
  using Base::Base;

  /// Emits `impl` for `op` at the builder's point: a clone carrying the
  /// attribute, or the chunked expansion. Returns the two results.
  std::pair<Value, Value> emit(OpBuilder &b, GatedDeltaNetOp op,
                               DeltaNetImpl impl) {
    if (impl == DeltaNetImpl::chunked)
      return buildChunkedDeltaNet(b, op);
    auto clone = cast<GatedDeltaNetOp>(b.clone(*op));
    clone.setImpl(impl);
    return {clone.getResult(), clone.getNewState()};
  }

  /// Segments [first, end) as nested scf.if on T < next begin.
  std::pair<Value, Value> emitGuarded(OpBuilder &b, GatedDeltaNetOp op, Value T,
                                      ArrayRef<Segment> segs) {
    if (segs.size() == 1)
      return emit(b, op, segs[0].impl);
    Location loc = op.getLoc();
    Value bound = arith::ConstantIndexOp::create(b, loc, segs[1].begin);
    Value below =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, T, bound);
    auto ifOp = scf::IfOp::create(
        b, loc, below,
        [&](OpBuilder &tb, Location l) {
          auto r = emit(tb, op, segs[0].impl);
          scf::YieldOp::create(tb, l, ValueRange{r.first, r.second});
        },
        [&](OpBuilder &eb, Location l) {
          auto r = emitGuarded(eb, op, T, segs.drop_front());
          scf::YieldOp::create(eb, l, ValueRange{r.first, r.second});
        });
    return {ifOp.getResult(0), ifOp.getResult(1)};
  }

  void runOnOperation() override {
    if (mode != "0" && mode != "1" && mode != "2" && mode != "auto") {
      getOperation().emitError() << "qn-select-delta-path: unknown mode '"
                                 << mode << "' (expected 0, 1, 2 or auto)";
      return signalPassFailure();
    }
    if (target != "cpu" && target != "cuda") {
      getOperation().emitError() << "qn-select-delta-path: unknown target '"
                                 << target << "' (expected cpu or cuda)";
      return signalPassFailure();
    }
    const runtime::DeltaCostTable &table =
        target == "cuda" ? runtime::kDeltaCostCuda : runtime::kDeltaCostCpu;

    SmallVector<GatedDeltaNetOp> ops;
    getOperation().walk([&](GatedDeltaNetOp op) {
      if (!op.getImpl()) // already decided: leave it
        ops.push_back(op);
    });
    for (GatedDeltaNetOp op : ops) {
      auto qType = cast<RankedTensorType>(op.getQ().getType());
      auto vType = cast<RankedTensorType>(op.getV().getType());
      if (qType.getRank() != 3 || vType.getRank() != 3 ||
          ShapedType::isDynamicShape(qType.getShape().drop_front()) ||
          ShapedType::isDynamicShape(vType.getShape().drop_front())) {
        op.emitError() << "qn-select-delta-path needs static head counts "
                          "and sizes";
        return signalPassFailure();
      }
      const int64_t T = vType.getDimSize(0), dk = qType.getDimSize(2),
                    dv = vType.getDimSize(2);
      OpBuilder b(op);
      std::pair<Value, Value> r;
      if (!ShapedType::isDynamic(T)) {
        const DeltaNetImpl impl = choose(mode, table, T, dk, dv);
        if (impl != DeltaNetImpl::chunked) {
          op.setImpl(impl); // in place
          continue;
        }
        r = buildChunkedDeltaNet(b, op);
      } else {
        SmallVector<Segment> segs = segments(mode, table, dk, dv);
        const bool kernelsOnly = llvm::none_of(segs, [](const Segment &s) {
          return s.impl == DeltaNetImpl::chunked;
        });
        if (kernelsOnly && segs.size() == 1) {
          op.setImpl(segs[0].impl); // one choice for every T
          continue;
        }
        if (kernelsOnly && segs.size() == 2 &&
            segs[0].impl == DeltaNetImpl::recurrent) {
          op.setImpl(segs[1].impl);
          op.setRecurrentBelow(static_cast<uint64_t>(segs[1].begin));
          continue;
        }
        if (kernelsOnly) {
          op.emitError() << "qn-select-delta-path: the " << target
                         << " cost table chooses " << segs.size()
                         << " algorithms by token count, which the delta "
                            "net cannot express (only 'recurrent below N, "
                            "else X')";
          return signalPassFailure();
        }
        Value Tv = tensor::DimOp::create(b, op.getLoc(), op.getV(), 0);
        r = emitGuarded(b, op, Tv, segs);
      }
      op.getResult().replaceAllUsesWith(r.first);
      op.getNewState().replaceAllUsesWith(r.second);
      op.erase();
    }
  }
};

} // namespace

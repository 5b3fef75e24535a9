//===- FuseRepeatBroadcast.cpp - repeats into broadcasts --------*- C++ -*-===//
//
// qn-fuse-repeat-broadcast: `op(repeat(x), y)` -> `op(x, y)` (and the same for
// the right operand) for op in add/sub/mul/div, whenever broadcasting x
// computes exactly the values the repeat materialized. That holds when every
// repeated dimension (multiple > 1) of x has static size 1, and the rewritten
// op still infers the original result type. Tiling a dimension larger than 1
// is not a broadcast and is never touched.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "passes/Passes.h"

namespace qn {
#define GEN_PASS_DEF_FUSEREPEATBROADCASTPASS
#include "passes/Passes.h.inc"
} // namespace qn

using namespace mlir;
using namespace qn;

namespace {

/// True when `repeat` only stretches dimensions of static size 1, so that
/// numpy broadcasting of its input reproduces its result.
bool isBroadcastingRepeat(RepeatOp repeat) {
  ArrayRef<int64_t> shape = repeat.getInput().getType().getShape();
  for (auto [size, multiple] : llvm::zip(shape, repeat.getMultiples()))
    if (multiple != 1 && size != 1)
      return false;
  return true;
}

/// op(repeat(x), y) -> op(x, y) and op(x, repeat(y)) -> op(x, y).
template <typename OpTy> struct FuseRepeatOperand : OpRewritePattern<OpTy> {
  FuseRepeatOperand(MLIRContext *ctx, bool report)
      : OpRewritePattern<OpTy>(ctx), report(report) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value operands[2] = {op.getLhs(), op.getRhs()};
    bool changed = false;
    for (unsigned i = 0; i < 2; ++i) {
      auto repeat = operands[i].template getDefiningOp<RepeatOp>();
      if (!repeat || !isBroadcastingRepeat(repeat))
        continue;
      Value candidate[2] = {operands[0], operands[1]};
      candidate[i] = repeat.getInput();
      // Broadcasting must give the very same result type (e.g. a repeat to
      // 4 against a size-1 operand would shrink the result to 1).
      std::optional<SmallVector<int64_t>> shape = broadcastShapes(
          llvm::cast<RankedTensorType>(candidate[0].getType()).getShape(),
          llvm::cast<RankedTensorType>(candidate[1].getType()).getShape());
      if (!shape || ArrayRef<int64_t>(*shape) != op.getType().getShape())
        continue;
      if (report)
        op.emitRemark() << "operand " << i << " ('qn.repeat' by ["
                        << llvm::make_range(repeat.getMultiples().begin(),
                                            repeat.getMultiples().end())
                        << "]) fused into broadcasting";
      operands[0] = candidate[0];
      operands[1] = candidate[1];
      changed = true;
    }
    if (!changed)
      return rewriter.notifyMatchFailure(op, "no broadcastable repeat operand");
    rewriter.modifyOpInPlace(op, [&] {
      op->setOperand(0, operands[0]);
      op->setOperand(1, operands[1]);
    });
    return success();
  }

  bool report;
};

struct FuseRepeatBroadcastPass
    : qn::impl::FuseRepeatBroadcastPassBase<FuseRepeatBroadcastPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<FuseRepeatOperand<AddOp>, FuseRepeatOperand<SubOp>,
                 FuseRepeatOperand<MulOp>, FuseRepeatOperand<DivOp>>(ctx,
                                                                     report);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

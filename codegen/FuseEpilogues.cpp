//===- FuseEpilogues.cpp - residual adds into the matmul before them ------===//
//
// qn-fuse-epilogues (CodegenPasses.td says when it pays and when not): the
// decision is made here, on the dispatch level, and is visible as the
// matmul's `residual(...)` operand; the plan and the runtime only follow it.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"

#include "dialect/QNOps.h"

#include "mlir/IR/Builders.h"

namespace qn {
#define GEN_PASS_DEF_FUSEEPILOGUESPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

/// The matmul and the residual of `add` when it is a plain residual add of
/// a matmul's result read by nothing else; a null matmul otherwise.
std::pair<DispatchMatmulOp, Value> residualAdd(DispatchElementwiseOp add) {
  Block &body = add.getBody().front();
  if (add.getInputs().size() != 2 || body.getOperations().size() != 2)
    return {};
  auto sum = llvm::dyn_cast<AddOp>(body.front());
  if (!sum || sum.getLhs() == sum.getRhs() ||
      !llvm::is_contained(body.getArguments(), sum.getLhs()) ||
      !llvm::is_contained(body.getArguments(), sum.getRhs()))
    return {};
  Type type = add.getResult().getType();
  if (add.getInputs()[0].getType() != type ||
      add.getInputs()[1].getType() != type)
    return {};
  for (unsigned i = 0; i < 2; ++i) {
    Value product = add.getInputs()[i], other = add.getInputs()[1 - i];
    auto matmul = product.getDefiningOp<DispatchMatmulOp>();
    if (!matmul || matmul.getResidual() || !product.hasOneUse() ||
        matmul.getBackend() != add.getBackend())
      continue;
    // The residual becomes the matmul's operand: it must exist before it.
    Operation *def = other.getDefiningOp();
    if (def && (def->getBlock() != matmul->getBlock() ||
                !def->isBeforeInBlock(matmul)))
      continue;
    return {matmul, other};
  }
  return {};
}

struct FuseEpiloguesPass : qn::impl::FuseEpiloguesPassBase<FuseEpiloguesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<DispatchElementwiseOp> adds;
    getOperation().walk([&](DispatchElementwiseOp d) { adds.push_back(d); });
    for (DispatchElementwiseOp add : adds) {
      auto [matmul, residual] = residualAdd(add);
      if (!matmul)
        continue;
      OpBuilder b(add);
      auto fused = DispatchMatmulOp::create(
          b, matmul.getLoc(), add.getResult().getType(), matmul.getInput(),
          matmul.getWeight(), residual, matmul.getBackendAttr(),
          matmul.getFormatsAttr(), matmul.getLayoutsAttr(),
          matmul.getActivationsAttr());
      if (Attribute name = add->getAttr("qn.name"))
        fused->setAttr("qn.name", name);
      add.getResult().replaceAllUsesWith(fused.getResult());
      add.erase();
      matmul.erase();
    }
  }
};

} // namespace
} // namespace qn

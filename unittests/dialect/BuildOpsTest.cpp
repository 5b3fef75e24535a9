//===- BuildOpsTest.cpp - building qn IR from C++ -------------------------===//
//
// The frontend builds qn IR with OpTy::create and relies on inferred result
// types; these tests pin that API down.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include <gtest/gtest.h>

using namespace mlir;
using namespace qn;

namespace {

struct BuildOps : ::testing::Test {
  BuildOps() : builder(&ctx) {
    ctx.loadDialect<QNDialect, func::FuncDialect>();
    module = ModuleOp::create(builder.getUnknownLoc());
  }
  ~BuildOps() override { module->erase(); }

  /// A function with arguments of `types`; the builder points into its body.
  Block *makeFunc(TypeRange types) {
    builder.setInsertionPointToEnd(module.getBody());
    auto fn = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                   builder.getFunctionType(types, {}));
    Block *entry = fn.addEntryBlock();
    builder.setInsertionPointToStart(entry);
    return entry;
  }

  MLIRContext ctx;
  OpBuilder builder;
  ModuleOp module;
};

TEST_F(BuildOps, SubInfersTheBroadcastShape) {
  Type f32 = builder.getF32Type();
  Block *b = makeFunc({RankedTensorType::get({64, 1}, f32),
                       RankedTensorType::get({1, 64}, f32)});
  Location loc = builder.getUnknownLoc();
  auto sub = SubOp::create(builder, loc, b->getArgument(0), b->getArgument(1));
  EXPECT_EQ(sub.getType(), RankedTensorType::get({64, 64}, f32));
  func::ReturnOp::create(builder, loc);
  EXPECT_TRUE(succeeded(verify(module)));
}

TEST_F(BuildOps, MatmulWithQuantizedWeightInfersOutputFeatures) {
  Type f32 = builder.getF32Type();
  auto w = QWeightType::get(&ctx, QuantFormat::q4_k, {512, 2048});
  Block *b =
      makeFunc({RankedTensorType::get({ShapedType::kDynamic, 2048}, f32), w});
  Location loc = builder.getUnknownLoc();
  auto mm =
      MatmulOp::create(builder, loc, b->getArgument(0), b->getArgument(1));
  EXPECT_EQ(mm.getType(),
            RankedTensorType::get({ShapedType::kDynamic, 512}, f32));
  func::ReturnOp::create(builder, loc);
  EXPECT_TRUE(succeeded(verify(module)));
}

TEST(QWeight, BlockSizes) {
  EXPECT_EQ(QWeightType::getBlockSize(QuantFormat::f16), 1);
  EXPECT_EQ(QWeightType::getBlockSize(QuantFormat::q8_0), 32);
  EXPECT_EQ(QWeightType::getBlockSize(QuantFormat::mxfp4), 32);
  EXPECT_EQ(QWeightType::getBlockSize(QuantFormat::q6_k), 256);
  EXPECT_EQ(QWeightType::getBlockSize(QuantFormat::iq4_xs), 256);
}

TEST(QWeight, RejectsPartialBlocks) {
  MLIRContext ctx;
  ctx.loadDialect<QNDialect>();
  ctx.getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
  auto bad = QWeightType::getChecked(
      [&] { return emitError(UnknownLoc::get(&ctx)); }, &ctx, QuantFormat::q4_k,
      llvm::ArrayRef<int64_t>{4, 100});
  EXPECT_FALSE(bad);
  auto good = QWeightType::getChecked(
      [&] { return emitError(UnknownLoc::get(&ctx)); }, &ctx, QuantFormat::q4_k,
      llvm::ArrayRef<int64_t>{4, 512});
  ASSERT_TRUE(good);
  EXPECT_EQ(good.getNumElements(), 2048);
}

} // namespace

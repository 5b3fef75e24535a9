//===- ShapeUtilsTest.cpp - broadcasting rules of the qn dialect ----------===//

#include "dialect/ShapeUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include <gtest/gtest.h>

using namespace qn;
static constexpr int64_t kDyn = mlir::ShapedType::kDynamic;

TEST(BroadcastShapes, OuterDifference) {
  auto r = broadcastShapes({64, 1}, {1, 64});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{64, 64}));
}

TEST(BroadcastShapes, MissingLeadingDimsCountAsOne) {
  auto r = broadcastShapes({7, 1, 5}, {3, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{7, 3, 5}));
}

TEST(BroadcastShapes, RejectsUnequalSizesAboveOne) {
  EXPECT_FALSE(broadcastShapes({4, 3}, {4, 5}).has_value());
  EXPECT_FALSE(broadcastShapes({2}, {3}).has_value());
}

TEST(BroadcastShapes, DynamicAgainstOneStaysDynamic) {
  auto r = broadcastShapes({kDyn, 1}, {1, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{kDyn, 1}));
}

TEST(BroadcastShapes, DynamicAgainstSizeTakesTheSize) {
  auto r = broadcastShapes({kDyn, 8}, {6, kDyn});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{6, 8}));
}

TEST(FormatShape, DynamicAndScalar) {
  EXPECT_EQ(formatShape({64, kDyn, 1}), "64x?x1");
  EXPECT_EQ(formatShape({}), "scalar");
}

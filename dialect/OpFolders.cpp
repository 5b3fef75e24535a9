//===- OpFolders.cpp - folds of the qn primitive ops ------------*- C++ -*-===//
//
// Identity folds (an op that returns its input unchanged folds to it) and
// reshape-of-reshape. They run in --canonicalize and in every greedy rewrite.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"

using namespace mlir;
using namespace qn;

/// The input when `op` does not change the type and `isIdentity` holds.
static OpFoldResult foldIdentity(Value input, Value result, bool isIdentity) {
  if (isIdentity && input.getType() == result.getType())
    return input;
  return {};
}

// scale(x, 1) -> x
OpFoldResult ScaleOp::fold(FoldAdaptor) {
  return foldIdentity(getInput(), getResult(),
                      getFactor().convertToFloat() == 1.0f);
}

// convert(x : T to T) -> x
OpFoldResult ConvertOp::fold(FoldAdaptor) {
  return foldIdentity(getInput(), getResult(), true);
}

// repeat(x, [1, ..., 1]) -> x
OpFoldResult RepeatOp::fold(FoldAdaptor) {
  return foldIdentity(
      getInput(), getResult(),
      llvm::all_of(getMultiples(), [](int64_t m) { return m == 1; }));
}

// reshape(x : T -> T) -> x ; reshape(reshape(x)) -> reshape(x)
OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

// permute(x, [0, 1, ..., n-1]) -> x
OpFoldResult PermuteOp::fold(FoldAdaptor) {
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    identity &= static_cast<int64_t>(i) == p;
  return foldIdentity(getInput(), getResult(), identity);
}

// slice(x, all offsets 0, all strides 1, same type) -> x
OpFoldResult SliceOp::fold(FoldAdaptor) {
  bool identity =
      llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }) &&
      llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }) &&
      getInput().getType().hasStaticShape();
  return foldIdentity(getInput(), getResult(), identity);
}

// pad(x, low 0, high 0) -> x
OpFoldResult PadOp::fold(FoldAdaptor) {
  auto zero = [](int64_t p) { return p == 0; };
  return foldIdentity(getInput(), getResult(),
                      llvm::all_of(getLow(), zero) &&
                          llvm::all_of(getHigh(), zero));
}

// pad_to_multiple(x, multiple 1) -> x, and when the static size already is a
// multiple (then the result type equals the input type).
OpFoldResult PadToMultipleOp::fold(FoldAdaptor) {
  int64_t dim = static_cast<int64_t>(getDim());
  return foldIdentity(getInput(), getResult(),
                      getMultiple() == 1 ||
                          !getInput().getType().isDynamicDim(dim));
}

// crop(x to like) -> x when the cropped dimension is static and unchanged.
OpFoldResult CropOp::fold(FoldAdaptor) {
  int64_t dim = static_cast<int64_t>(getDim());
  return foldIdentity(getInput(), getResult(),
                      !getInput().getType().isDynamicDim(dim));
}

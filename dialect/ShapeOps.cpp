//===- ShapeOps.cpp - shape and data movement op inference ------*- C++ -*-===//
//
// qn.repeat, qn.reshape, qn.permute, qn.slice, qn.concat, qn.pad, qn.gather.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"

using namespace mlir;
using namespace qn;

static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

// Dimension sizes computed from attributes must stay far from int64 overflow
// (and from kDynamic); 2^48 elements per dimension is plenty.
static constexpr int64_t kMaxDim = int64_t(1) << 48;
static LogicalResult checkSize(std::optional<Location> loc, double size) {
  if (size <= static_cast<double>(kMaxDim))
    return success();
  return emitOptionalError(loc, "result dimension of ", size,
                           " elements is too large");
}

LogicalResult RepeatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> multiples = adaptor.getMultiples();
  if (static_cast<int64_t>(multiples.size()) != in.getRank())
    return emitOptionalError(loc, "expected ", in.getRank(),
                             " multiples (one per dimension), got ",
                             multiples.size());
  SmallVector<int64_t> shape;
  for (auto [d, m] : llvm::zip(in.getShape(), multiples)) {
    if (m < 1)
      return emitOptionalError(loc, "multiples must be at least 1, got ", m);
    if (!isDyn(d) && failed(checkSize(loc, double(d) * double(m))))
      return failure();
    shape.push_back(isDyn(d) ? ShapedType::kDynamic : d * m);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("result element type ")
           << out.getElementType() << " differs from input element type "
           << in.getElementType();
  if (in.hasStaticShape() && out.hasStaticShape()) {
    if (in.getNumElements() != out.getNumElements())
      return emitOpError("cannot reshape ")
             << formatShape(in.getShape()) << " (" << in.getNumElements()
             << " elements) into " << formatShape(out.getShape()) << " ("
             << out.getNumElements() << " elements)";
    return success();
  }
  if (in.hasStaticShape() != out.hasStaticShape() && out.hasStaticShape())
    return success(); // A dynamic input may well have the static count.
  if (out.getNumDynamicDims() > 1)
    return emitOpError("result may have at most one dynamic dimension, got ")
           << formatShape(out.getShape());
  return success();
}

LogicalResult PermuteOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(perm.size()) != rank)
    return emitOptionalError(loc, "permutation has ", perm.size(),
                             " entries but the input has rank ", rank);
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return emitOptionalError(loc, "permutation must contain each of 0..",
                               rank - 1, " exactly once");
    seen[p] = true;
    shape.push_back(in.getDimSize(p));
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> offsets = adaptor.getOffsets();
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  ArrayRef<int64_t> strides = adaptor.getStrides();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(offsets.size()) != rank ||
      static_cast<int64_t>(sizes.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank)
    return emitOptionalError(loc, "offsets, sizes and strides need ", rank,
                             " entries each (the input rank), got ",
                             offsets.size(), ", ", sizes.size(), ", ",
                             strides.size());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = in.getDimSize(d), off = offsets[d], size = sizes[d],
            stride = strides[d];
    if (off < 0 || stride < 1 || size < -1 || size == 0)
      return emitOptionalError(
          loc, "dimension ", d,
          ": need offset >= 0, stride >= 1 and size >= 1 or -1, got offset ",
          off, ", size ", size, ", stride ", stride);
    if (size == -1) {
      if (isDyn(dim)) {
        shape.push_back(ShapedType::kDynamic);
        continue;
      }
      if (off >= dim)
        return emitOptionalError(loc, "dimension ", d, ": offset ", off,
                                 " is outside the dimension of size ", dim);
      shape.push_back((dim - off + stride - 1) / stride);
      continue;
    }
    if (!isDyn(dim) && off + (size - 1) * stride >= dim)
      return emitOptionalError(loc, "dimension ", d, ": window of ", size,
                               " elements from offset ", off, " with stride ",
                               stride, " exceeds the dimension of size ", dim);
    shape.push_back(size);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "expected at least one input");
  auto first = llvm::cast<RankedTensorType>(inputs[0].getType());
  int64_t rank = first.getRank();
  int64_t dim = static_cast<int64_t>(adaptor.getDim());
  if (failed(checkDim(loc, "concat dimension", dim, rank)))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getElementType() != first.getElementType())
      return emitOptionalError(loc, "input ", i + 1, " has element type ",
                               t.getElementType(), ", expected ",
                               first.getElementType());
    if (t.getRank() != rank)
      return emitOptionalError(loc, "input ", i + 1, " has rank ", t.getRank(),
                               ", expected ", rank);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t a = shape[d], b = t.getDimSize(d);
      if (d == dim) {
        if (!isDyn(a) && !isDyn(b) && failed(checkSize(loc, double(a) + b)))
          return failure();
        shape[d] = isDyn(a) || isDyn(b) ? ShapedType::kDynamic : a + b;
        continue;
      }
      if (dimsConflict(a, b))
        return emitOptionalError(loc, "input ", i + 1, " has size ", b,
                                 " in dimension ", d, ", expected ", a);
      if (isDyn(a))
        shape[d] = b;
    }
  }
  results.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> low = adaptor.getLow(), high = adaptor.getHigh();
  if (static_cast<int64_t>(low.size()) != in.getRank() ||
      static_cast<int64_t>(high.size()) != in.getRank())
    return emitOptionalError(loc, "low and high need ", in.getRank(),
                             " entries each (the input rank), got ", low.size(),
                             " and ", high.size());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (low[d] < 0 || high[d] < 0)
      return emitOptionalError(loc, "padding amounts must be >= 0, got low ",
                               low[d], " high ", high[d], " in dimension ", d);
    int64_t size = in.getDimSize(d);
    if (failed(checkSize(loc, double(low[d]) + double(high[d]) +
                                  (isDyn(size) ? 0.0 : double(size)))))
      return failure();
    shape.push_back(isDyn(size) ? size : size + low[d] + high[d]);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto src = llvm::cast<RankedTensorType>(adaptor.getSource().getType());
  auto idx = llvm::cast<RankedTensorType>(adaptor.getIndices().getType());
  int64_t dim = static_cast<int64_t>(adaptor.getDim());
  if (failed(checkDim(loc, "gather dimension", dim, src.getRank())))
    return failure();
  SmallVector<int64_t> shape(src.getShape().take_front(dim));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, src.getShape().drop_front(dim + 1));
  results.push_back(RankedTensorType::get(shape, src.getElementType()));
  return success();
}

LogicalResult
PadToMultipleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t dim = static_cast<int64_t>(adaptor.getDim());
  int64_t multiple = static_cast<int64_t>(adaptor.getMultiple());
  if (failed(checkDim(loc, "padding dimension", dim, in.getRank())))
    return failure();
  if (multiple < 1)
    return emitOptionalError(loc, "multiple must be >= 1, got ", multiple);
  if (failed(checkSize(loc, double(multiple))))
    return failure();
  SmallVector<int64_t> shape(in.getShape());
  if (!isDyn(shape[dim]))
    shape[dim] = (shape[dim] + multiple - 1) / multiple * multiple;
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult CropOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  auto like = llvm::cast<RankedTensorType>(adaptor.getLike().getType());
  int64_t dim = static_cast<int64_t>(adaptor.getDim());
  if (like.getRank() != in.getRank())
    return emitOptionalError(loc, "like has rank ", like.getRank(),
                             ", the input has rank ", in.getRank());
  if (failed(checkDim(loc, "crop dimension", dim, in.getRank())))
    return failure();
  int64_t have = in.getDimSize(dim), want = like.getDimSize(dim);
  if (!isDyn(have) && !isDyn(want) && want > have)
    return emitOptionalError(loc, "cannot crop dimension ", dim, " of size ",
                             have, " to ", want);
  SmallVector<int64_t> shape(in.getShape());
  shape[dim] = want;
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

//===- LinalgOps.cpp - scans, masks, reductions, products -------*- C++ -*-===//
//
// Verifiers and type inference of qn.cumsum, qn.tri, qn.reduce, qn.softmax,
// qn.top_k, qn.batch_matmul, qn.solve_tri, qn.dequantize and qn.rope.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"

using namespace mlir;
using namespace qn;

LogicalResult CumsumOp::verify() {
  return checkDim(getLoc(), "'qn.cumsum' op dimension",
                  static_cast<int64_t>(getDim()),
                  getInput().getType().getRank());
}

LogicalResult TriOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError("input must have rank >= 2 (a matrix in the last two "
                       "dimensions), got rank ")
           << getInput().getType().getRank();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkDim(getLoc(), "'qn.softmax' op dimension",
                  static_cast<int64_t>(getDim()),
                  getInput().getType().getRank());
}

LogicalResult L2NormOp::verify() {
  if (!(getEpsilon().convertToFloat() > 0))
    return emitOpError("epsilon must be > 0, got ")
           << getEpsilon().convertToFloat();
  return success();
}

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t dim = static_cast<int64_t>(adaptor.getDim());
  if (failed(checkDim(loc, "reduction dimension", dim, in.getRank())))
    return failure();
  SmallVector<int64_t> shape(in.getShape());
  if (adaptor.getKeepDim())
    shape[dim] = 1;
  else
    shape.erase(shape.begin() + dim);
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  if (in.getRank() < 1)
    return emitOptionalError(loc, "input must have rank >= 1");
  int64_t k = static_cast<int64_t>(adaptor.getK());
  int64_t n = in.getShape().back();
  if (ShapedType::isDynamic(n))
    return emitOptionalError(loc, "the last dimension must be static");
  if (k < 1 || k > n)
    return emitOptionalError(loc, "k = ", k, " must be in [1, ", n,
                             "] (the last dimension)");
  SmallVector<int64_t> shape(in.getShape());
  shape.back() = k;
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  results.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 32)));
  return success();
}

LogicalResult BatchMatmulOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &results) {
  auto lhs = llvm::cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhs = llvm::cast<RankedTensorType>(adaptor.getRhs().getType());
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(loc, "operands must have rank >= 2, got ",
                             lhs.getRank(), " and ", rhs.getRank());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(
        loc, "operands have different element types: ", lhs.getElementType(),
        " vs ", rhs.getElementType());
  ArrayRef<int64_t> a = lhs.getShape(), b = rhs.getShape();
  bool trans = adaptor.getTransposeRhs();
  int64_t m = a[a.size() - 2], ka = a.back();
  int64_t kb = trans ? b.back() : b[b.size() - 2];
  int64_t n = trans ? b[b.size() - 2] : b.back();
  if (dimsConflict(ka, kb))
    return emitOptionalError(
        loc, "contraction sizes differ: lhs ", formatShape(a), " has ", ka,
        ", rhs ", formatShape(b), " has ", kb, trans ? " (transpose_rhs)" : "");
  std::optional<SmallVector<int64_t>> batch =
      broadcastShapes(a.drop_back(2), b.drop_back(2));
  if (!batch)
    return emitOptionalError(
        loc, "batch dimensions ", formatShape(a.drop_back(2)), " and ",
        formatShape(b.drop_back(2)), " are not broadcast-compatible");
  batch->push_back(m);
  batch->push_back(n);
  results.push_back(RankedTensorType::get(*batch, lhs.getElementType()));
  return success();
}

LogicalResult SolveTriOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  auto a = llvm::cast<RankedTensorType>(adaptor.getA().getType());
  auto b = llvm::cast<RankedTensorType>(adaptor.getB().getType());
  if (a.getRank() < 2 || a.getRank() != b.getRank())
    return emitOptionalError(loc, "A and B must have the same rank >= 2, got ",
                             a.getRank(), " and ", b.getRank());
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(loc, "A and B have different element types: ",
                             a.getElementType(), " vs ", b.getElementType());
  ArrayRef<int64_t> as = a.getShape(), bs = b.getShape();
  int64_t r = a.getRank();
  if (dimsConflict(as[r - 2], as[r - 1]))
    return emitOptionalError(loc,
                             "A must be square in its last two "
                             "dimensions, got ",
                             formatShape(as));
  if (dimsConflict(as[r - 1], bs[r - 2]))
    return emitOptionalError(loc, "B has ", bs[r - 2], " rows but A is ",
                             as[r - 1], "x", as[r - 1]);
  for (int64_t d = 0; d < r - 2; ++d)
    if (dimsConflict(as[d], bs[d]))
      return emitOptionalError(loc, "batch dimensions differ: A ",
                               formatShape(as), ", B ", formatShape(bs));
  results.push_back(b);
  return success();
}

LogicalResult DequantizeOp::inferReturnTypes(MLIRContext *ctx,
                                             std::optional<Location>,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &results) {
  auto w = llvm::cast<QWeightType>(adaptor.getWeight().getType());
  results.push_back(RankedTensorType::get(w.getShape(), Float32Type::get(ctx)));
  return success();
}

LogicalResult RopeOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getInput().getType());
  auto pos = llvm::cast<RankedTensorType>(adaptor.getPositions().getType());
  if (in.getRank() != 3)
    return emitOptionalError(loc, "input must be [T, H, Dh], got rank ",
                             in.getRank());
  if (pos.getRank() != 1 || dimsConflict(pos.getDimSize(0), in.getDimSize(0)))
    return emitOptionalError(
        loc, "positions must be [T] with T = ", in.getDimSize(0), ", got ",
        formatShape(pos.getShape()));
  int64_t dims = static_cast<int64_t>(adaptor.getDims());
  int64_t headDim = in.getDimSize(2);
  if (dims < 2 || dims % 2 != 0 ||
      (!ShapedType::isDynamic(headDim) && dims > headDim))
    return emitOptionalError(loc, "dims = ", dims,
                             " must be even, >= 2 and at most the head size ",
                             headDim);
  results.push_back(in);
  return success();
}

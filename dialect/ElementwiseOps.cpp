//===- ElementwiseOps.cpp - elementwise op inference/verifiers --*- C++ -*-===//

#include "dialect/QNOps.h"
#include "dialect/ShapeUtils.h"

using namespace mlir;
using namespace qn;

// Result of a broadcasting binary op: the numpy broadcast of both shapes with
// the common element type.
static LogicalResult inferBroadcast(std::optional<Location> loc, Type lhsType,
                                    Type rhsType,
                                    SmallVectorImpl<Type> &results) {
  auto lhs = llvm::cast<RankedTensorType>(lhsType);
  auto rhs = llvm::cast<RankedTensorType>(rhsType);
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(
        loc, "operands have different element types: ", lhs.getElementType(),
        " vs ", rhs.getElementType());
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(lhs.getShape(), rhs.getShape());
  if (!shape)
    return emitOptionalError(
        loc, "operand shapes ", formatShape(lhs.getShape()), " and ",
        formatShape(rhs.getShape()), " are not broadcast-compatible");
  results.push_back(RankedTensorType::get(*shape, lhs.getElementType()));
  return success();
}

#define QN_DEFINE_BROADCAST_INFERENCE(OP)                                      \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferBroadcast(loc, adaptor.getLhs().getType(),                     \
                          adaptor.getRhs().getType(), results);                \
  }

QN_DEFINE_BROADCAST_INFERENCE(AddOp)
QN_DEFINE_BROADCAST_INFERENCE(SubOp)
QN_DEFINE_BROADCAST_INFERENCE(MulOp)
QN_DEFINE_BROADCAST_INFERENCE(DivOp)
QN_DEFINE_BROADCAST_INFERENCE(MaxOp)
QN_DEFINE_BROADCAST_INFERENCE(MinOp)

#undef QN_DEFINE_BROADCAST_INFERENCE

LogicalResult ConvertOp::verify() {
  auto in = getInput().getType();
  auto out = getResult().getType();
  if (in.getRank() != out.getRank())
    return emitOpError("result rank ")
           << out.getRank() << " differs from input rank " << in.getRank();
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (dimsConflict(in.getDimSize(d), out.getDimSize(d)))
      return emitOpError("result shape ")
             << formatShape(out.getShape()) << " differs from input shape "
             << formatShape(in.getShape());
  return success();
}

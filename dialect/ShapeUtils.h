//===- ShapeUtils.h - shape helpers shared by qn verifiers ------*- C++ -*-===//
//
// Small helpers for shape checks and diagnostics. Dynamic dimensions are
// ShapedType::kDynamic and are treated as "matches anything".
//
//===----------------------------------------------------------------------===//

#ifndef QN_DIALECT_SHAPEUTILS_H
#define QN_DIALECT_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <string>

namespace qn {

/// "64x?x1" for a shape, "scalar" for rank 0.
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// "tensor<64x?xf32>" or the type's own spelling.
std::string formatType(mlir::Type type);

/// True when both sizes are known and differ.
inline bool dimsConflict(int64_t a, int64_t b) {
  return !mlir::ShapedType::isDynamic(a) && !mlir::ShapedType::isDynamic(b) &&
         a != b;
}

/// Numpy broadcast of two shapes; std::nullopt when a dimension pair is
/// neither equal nor has a 1. A dynamic size against 1 stays dynamic, a
/// dynamic size against n > 1 becomes n.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// The shape of a ranked tensor or of a !qn.qweight (empty for others).
llvm::ArrayRef<int64_t> getShapeOf(mlir::Type type);

/// Checks `dim` against `rank`; emits "<what> must be in [0, rank) ..." at
/// `loc` otherwise.
mlir::LogicalResult checkDim(std::optional<mlir::Location> loc,
                             llvm::StringRef what, int64_t dim, int64_t rank);

/// IMRoPE sections (rope_sections of the attention ops): four non-negative
/// pair counts (t, h, w, e) with t + h + w > 0; emits the reason at `loc`.
mlir::LogicalResult checkRopeSections(std::optional<mlir::Location> loc,
                                      llvm::ArrayRef<int64_t> sections);

} // namespace qn

#endif // QN_DIALECT_SHAPEUTILS_H

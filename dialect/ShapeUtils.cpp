//===- ShapeUtils.cpp - shape helpers shared by qn verifiers ----*- C++ -*-===//

#include "dialect/ShapeUtils.h"
#include "dialect/QNTypes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qn {

std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

std::string formatType(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align at the last dimension; missing leading dimensions count as 1.
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (ShapedType::isDynamic(da)) {
      out[i] = db;
    } else if (ShapedType::isDynamic(db) || da == db) {
      out[i] = da;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

ArrayRef<int64_t> getShapeOf(Type type) {
  if (auto t = llvm::dyn_cast<RankedTensorType>(type))
    return t.getShape();
  if (auto w = llvm::dyn_cast<QWeightType>(type))
    return w.getShape();
  return {};
}

LogicalResult checkDim(std::optional<Location> loc, StringRef what, int64_t dim,
                       int64_t rank) {
  if (dim >= 0 && dim < rank)
    return success();
  return emitOptionalError(loc, what, " ", dim, " is out of range for rank ",
                           rank);
}

LogicalResult checkRopeSections(std::optional<Location> loc,
                                llvm::ArrayRef<int64_t> sections) {
  if (sections.size() != 4 ||
      llvm::any_of(sections, [](int64_t s) { return s < 0; }))
    return emitOptionalError(loc,
                             "rope_sections must be 4 non-negative pair "
                             "counts (t, h, w, e), got ",
                             sections.size(), " entries");
  if (sections[0] + sections[1] + sections[2] == 0)
    return emitOptionalError(loc, "rope_sections: one of t, h, w must be > 0");
  return success();
}

} // namespace qn

//===- GGMLType.h - ggml tensor element types -------------------*- C++ -*-===//
//
// The element/block types a GGUF tensor can have, numbered exactly as ggml
// numbers them (the number is what a GGUF file stores), with the block geometry
// needed to size a row. Plain C++; no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_GGMLTYPE_H
#define QN_GGUF_GGMLTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace qn::gguf {

/// ggml's `enum ggml_type`. Gaps are ids ggml retired or types qn does not
/// know; a file naming them is rejected with the id in the message.
enum class GGMLType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

/// Geometry of one type: `blockSize` elements are stored in `blockBytes`
/// bytes (1 and sizeof(T) for plain scalar types).
struct GGMLTypeInfo {
  llvm::StringRef name; // ggml's spelling, e.g. "q4_K", "f16"
  int64_t blockSize;
  int64_t blockBytes;
};

/// The geometry of `type`, or nullptr for an id qn does not know.
const GGMLTypeInfo *getTypeInfo(GGMLType type);

/// Parses a type name case-insensitively ("q8_0", "Q4_K", "F32", "bf16").
std::optional<GGMLType> parseTypeName(llvm::StringRef name);

/// ggml's name for `type`; "" when the type is unknown.
llvm::StringRef getTypeName(GGMLType type);

/// Bytes of a row of `n` elements. Requires a known type and `n` a multiple of
/// the block size (callers validate shapes first; see isValidRowLength).
uint64_t rowBytes(GGMLType type, int64_t n);

/// True when `type` is known and `n` (>= 0) is a whole number of blocks.
bool isValidRowLength(GGMLType type, int64_t n);

/// True for the types that `dequantize` can turn into float.
bool canDequantize(GGMLType type);

} // namespace qn::gguf

#endif // QN_GGUF_GGMLTYPE_H

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
#include <string>

namespace qn::gguf {

/// ggml's `enum ggml_type`, as both ecosystems number it. ik_llama.cpp (the
/// peer) keeps mainline llama.cpp's ids for every type both have; each side
/// also uses ids the other leaves unused (gguf/README.md, "Type ids"), so no
/// id means two different layouts and a file from either side maps directly.
/// Gaps are ids neither side uses (or retired); a file naming one is rejected
/// with the tensor and the id in the message.
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
  // 31-33: ik's q4_0_4x4/4x8/8x8 (mainline removed them); 36: ik's i2_s
  // (MS BitNet); 40, 42: mainline's NVFP4, Q2_0. Known ids qn does not read
  // (see getUnsupportedTypeNote).
  TQ1_0 = 34, // mainline only
  TQ2_0 = 35, // mainline only
  MXFP4 = 39,
  Q1_0_G128 = 41, // mainline calls it Q1_0: the same block
  // ik_llama.cpp's own types.
  Q8_0_X4 = 97,
  Q8_1_X4 = 98,
  Q8_2_X4 = 99,
  Q6_0 = 133,
  IQ1_BN = 134,
  IQ2_BN = 135,
  Q8_K64 = 136,
  IQ2_K = 137,
  IQ3_K = 138,
  IQ4_K = 139,
  IQ5_K = 140,
  IQ6_K = 141,
  IQ4_KS = 144,
  IQ2_KS = 145,
  IQ4_KSS = 146,
  Q8_K16 = 147,
  Q8_K32 = 148,
  Q8_KR8 = 149,
  Q8_K128 = 150,
  Q8_KV = 151,
  IQ5_KS = 152,
  IQ2_KT = 153,
  IQ3_KT = 154,
  IQ4_KT = 155,
  IQ3_KS = 156,
  IQ2_KL = 157,
  IQ1_KT = 158,
  // ik_llama.cpp's row-interleaved layouts of the types above.
  Q4_0_R8 = 202,
  Q5_0_R4 = 206,
  Q8_0_R8 = 208,
  Q2_K_R4 = 210,
  Q3_K_R4 = 211,
  Q4_K_R4 = 212,
  Q5_K_R4 = 213,
  Q6_K_R4 = 214,
  IQ2_XXS_R4 = 216,
  IQ2_XS_R4 = 217,
  IQ3_XXS_R4 = 218,
  IQ1_S_R4 = 219,
  IQ4_NL_R4 = 220,
  IQ3_S_R4 = 221,
  IQ2_S_R4 = 222,
  IQ4_XS_R8 = 223,
  IQ1_M_R4 = 229,
  BF16_R16 = 230,
  Q6_0_R4 = 233,
  IQ2_BN_R4 = 335,
  IQ2_K_R4 = 337,
  IQ3_K_R4 = 338,
  IQ4_K_R4 = 339,
  IQ5_K_R4 = 340,
  IQ4_KS_R4 = 344,
  IQ5_KS_R4 = 352,
  MXFP4_R8 = 353,
  Q8_K_R16 = 397,
  Q8_KV_R8 = 398,
  Q8_K_R8 = 399,
};

/// Which family of formats a type belongs to (what `qn-gguf info` prints).
enum class TypeFamily {
  Float,          // f32, f16, bf16, f64
  Integer,        // i8 .. i64
  Legacy,         // q4_0 .. q8_1: 32-element blocks, one scale
  KQuant,         // q2_K .. q8_K: 256-element super-blocks
  MainlineIQuant, // iq1_s .. iq4_xs: grids and non-linear code books
  Ternary,        // the 1- and 1.58-bit class: tq1_0, tq2_0, q1_0, iq*_bn
  Microscaling,   // mxfp4
  IK,             // ik_llama.cpp's non-linear types (q6_0, iq*_k, iq*_ks ...)
  IKTrellis,      // ik_llama.cpp's trellis types iq1_kt .. iq4_kt
  IKRepacked,     // ik_llama.cpp's row-interleaved _r4 / _r8 / _r16 layouts
  Activation,     // formats ggml uses for activations only (q8_K64 ...)
};

/// The family's name: "float", "k-quant", "ik-trellis", ...
llvm::StringRef getFamilyName(TypeFamily family);

/// Geometry of one type: `blockSize` elements are stored in `blockBytes`
/// bytes (1 and sizeof(T) for plain scalar types). A row of n elements is
/// `rowMetaBytes` of per-row data (a row scale) followed by n / blockSize
/// blocks. Types with `rowsPerGroup` R > 1 interleave R consecutive rows: a
/// group of R rows (R row sizes, the R rows' metadata first) decodes as one
/// unit, so a tensor's row count must be a multiple of R.
struct GGMLTypeInfo {
  llvm::StringRef name; // the peer's spelling, e.g. "q4_K", "f16", "iq4_ks"
  int64_t blockSize;
  int64_t blockBytes;
  TypeFamily family;
  int64_t rowMetaBytes = 0;
  int64_t rowsPerGroup = 1;
};

/// The geometry of `type`, or nullptr for an id qn does not know.
const GGMLTypeInfo *getTypeInfo(GGMLType type);

/// For an id that one ecosystem defines but qn does not read (31-33, 36, 40,
/// 42), what it is ("mainline's NVFP4 ..."); "" otherwise.
llvm::StringRef getUnsupportedTypeNote(uint32_t id);

/// Bits per weight of `type`'s blocks (8 * blockBytes / blockSize; the row
/// metadata, a few bytes per row, not counted). 0 for an unknown type.
double bitsPerWeight(GGMLType type);

/// The names of every known type, comma-separated (for error messages).
std::string listKnownTypeNames();

/// Parses a type name case-insensitively ("q8_0", "Q4_K", "F32", "bf16").
std::optional<GGMLType> parseTypeName(llvm::StringRef name);

/// ggml's name for `type`; "" when the type is unknown.
llvm::StringRef getTypeName(GGMLType type);

/// Bytes of a row of `n` elements, row metadata included (ggml_row_size).
/// Requires a known type and `n` a multiple of the block size (callers
/// validate shapes first; see isValidRowLength).
uint64_t rowBytes(GGMLType type, int64_t n);

/// True when `type` is known and `n` (>= 0) is a whole number of blocks.
bool isValidRowLength(GGMLType type, int64_t n);

/// The rows decoded together (GGMLTypeInfo::rowsPerGroup); 1 if unknown.
int64_t rowsPerGroup(GGMLType type);

/// True for the types that `dequantize` can turn into float.
bool canDequantize(GGMLType type);

} // namespace qn::gguf

#endif // QN_GGUF_GGMLTYPE_H

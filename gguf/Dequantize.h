//===- Dequantize.h - ggml block formats to float ---------------*- C++ -*-===//
//
// Reference dequantizers for the ggml block formats found in Qwen3-Next GGUF
// files. They reproduce ggml's own dequantization bit for bit (same float
// operations in the same order), so a runtime kernel can be tested against
// them exactly.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_DEQUANTIZE_H
#define QN_GGUF_DEQUANTIZE_H

#include "gguf/GGMLType.h"

#include "llvm/Support/Error.h"

#include <cstdint>

namespace qn::gguf {

/// Converts `n` elements stored as `type` at `src` into floats at `dst`.
/// Fails (without touching memory) if the type cannot be dequantized or `n`
/// is negative or not a multiple of the block size. `src` must hold
/// rowBytes(type, n) bytes; it needs no particular alignment.
llvm::Error dequantize(GGMLType type, const void *src, float *dst, int64_t n);

/// The same without checks: `canDequantize(type)` and a whole number of
/// blocks are the caller's promise.
void dequantizeRowUnchecked(GGMLType type, const void *src, float *dst,
                            int64_t n);

/// IEEE half / bfloat16 conversions as ggml does them (round to nearest even
/// on the way down; NaN stays NaN).
float fp16ToFloat(uint16_t h);
uint16_t floatToFp16(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

} // namespace qn::gguf

#endif // QN_GGUF_DEQUANTIZE_H

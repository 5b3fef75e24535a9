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

/// Converts `n` elements stored as `type` at `src` into floats at `dst`:
/// one row of `n` elements where the type has row metadata (the row scale
/// that starts each row), any number of whole blocks otherwise. Fails
/// (without touching memory) if the type cannot be dequantized, interleaves
/// rows (use dequantizeRows), or `n` is negative or not a multiple of the
/// block size. `src` must hold rowBytes(type, n) bytes; it needs no
/// particular alignment.
llvm::Error dequantize(GGMLType type, const void *src, float *dst, int64_t n);

/// Converts `rows` consecutive rows of `cols` elements (rowBytes(type, cols)
/// apart, as a GGUF tensor stores them) into rows x cols floats. Types that
/// interleave R rows are decoded one group at a time; `rows` must be a
/// multiple of R.
llvm::Error dequantizeRows(GGMLType type, const void *src, float *dst,
                           int64_t rows, int64_t cols);

/// One row without checks: `canDequantize(type)`, no interleaved rows and a
/// whole number of blocks are the caller's promise.
void dequantizeRowUnchecked(GGMLType type, const void *src, float *dst,
                            int64_t n);

/// Elements [k0, k0 + n) of the row starting at `row` (k0 and n whole
/// blocks), for kernels that decode a row in chunks: the row metadata is read
/// at `row`, the blocks from k0 on. Same promises as dequantizeRowUnchecked.
void dequantizeRowSpanUnchecked(GGMLType type, const void *row, int64_t k0,
                                int64_t n, float *dst);

/// One group of rowsPerGroup(type) interleaved rows of `cols` elements into
/// rowsPerGroup(type) x cols floats, without checks.
void dequantizeGroupUnchecked(GGMLType type, const void *group, float *dst,
                              int64_t cols);

/// IEEE half / bfloat16 conversions as ggml does them (round to nearest even
/// on the way down; NaN stays NaN).
float fp16ToFloat(uint16_t h);
uint16_t floatToFp16(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

} // namespace qn::gguf

#endif // QN_GGUF_DEQUANTIZE_H

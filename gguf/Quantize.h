//===- Quantize.h - float to ggml block formats -----------------*- C++ -*-===//
//
// Reference quantizers for the simple ggml block formats, written to match
// ggml's quantize_row_*_ref bit for bit (checked against the peer's blocks in
// ../shared/fixtures/quant). They let tools write small quantized models and
// are the reference twin for runtime kernels that quantize activations
// (Q8_0 / Q8_1 / Q8_K are the peer's activation formats).
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_QUANTIZE_H
#define QN_GGUF_QUANTIZE_H

#include "gguf/GGMLType.h"

#include "llvm/Support/Error.h"

#include <cstdint>

namespace qn::gguf {

/// True for the types `quantize` can produce: F32, F16, BF16, Q4_0, Q4_1,
/// Q5_0, Q5_1, Q8_0, Q8_1, Q8_K.
bool canQuantize(GGMLType type);

/// Writes `n` floats from `src` as `type` into `dst` (rowBytes(type, n)
/// bytes, any alignment). Fails if the type is not supported or `n` is
/// negative or not a whole number of blocks.
llvm::Error quantize(GGMLType type, const float *src, void *dst, int64_t n);

/// The same without checks.
void quantizeRowUnchecked(GGMLType type, const float *src, void *dst,
                          int64_t n);

} // namespace qn::gguf

#endif // QN_GGUF_QUANTIZE_H

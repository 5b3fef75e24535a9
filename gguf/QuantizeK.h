//===- QuantizeK.h - reference k-quant quantizers ---------------*- C++ -*-===//
//
// ggml's quantize_row_q{4,5,6}_K_ref (no importance matrix), operation for
// operation, for `nb` super-blocks of 256 values. Internal to Quantize.cpp's
// dispatcher; use qn::gguf::quantize.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_QUANTIZEK_H
#define QN_GGUF_QUANTIZEK_H

#include <cstdint>

namespace qn::gguf {

void quantizeQ4_K(const float *x, uint8_t *y, int64_t nb);
void quantizeQ5_K(const float *x, uint8_t *y, int64_t nb);
void quantizeQ6_K(const float *x, uint8_t *y, int64_t nb);

} // namespace qn::gguf

#endif // QN_GGUF_QUANTIZEK_H

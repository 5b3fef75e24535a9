//===- MatmulReference.cpp - plain weight x activation product -----------===//
//
// The reference twin of `matmul`: dequantize a weight row with the GGUF
// layer's bit-exact dequantizer, then dot it with every token's activations.
// Dequantizing row by row keeps memory flat (no dequantized copy of a model)
// and reuses each row for all tokens of the batch.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Matmul.h"

#include "gguf/Dequantize.h"

#include <cstring>
#include <vector>

namespace qn::runtime {

void matmulReference(const WeightView &w, const float *x, int64_t nTokens,
                     float *y, ThreadPool * /*pool*/, bool accumulate) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    const uint8_t *src = w.data + static_cast<size_t>(r) * w.rowBytes;
    if (w.type == gguf::GGMLType::F32)
      std::memcpy(row.data(), src, sizeof(float) * w.cols);
    else
      gguf::dequantizeRowUnchecked(w.type, src, row.data(), w.cols);
    for (int64_t t = 0; t < nTokens; ++t) {
      const float *xt = x + t * w.cols;
      float acc = 0.0f;
      for (int64_t c = 0; c < w.cols; ++c)
        acc += row[c] * xt[c];
      y[t * w.rows + r] = accumulate ? y[t * w.rows + r] + acc : acc;
    }
  }
}

} // namespace qn::runtime

//===- MatmulReference.cpp - plain weight x activation product -----------===//
//
// The reference twin of `matmul`: dequantize a weight row with the GGUF
// layer's bit-exact dequantizer, then dot it with every token's activations.
// Dequantizing row by row keeps memory flat (no dequantized copy of a model)
// and reuses each row for all tokens of the batch.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/MatmulIsa.h"

#include "gguf/Dequantize.h"

#include <algorithm>
#include <cmath>
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

void quantizeQ8Reference(const float *x, int64_t n, float *xq) {
  for (int64_t b = 0; b + 32 <= n; b += 32) {
    float maxAbs = 0.0f;
    for (int64_t c = b; c < b + 32; ++c)
      maxAbs = std::max(maxAbs, std::fabs(x[c]));
    const float d = roundToBf16(maxAbs / 127.0f);
    const float inv = d > 0.0f ? 1.0f / d : 0.0f;
    for (int64_t c = b; c < b + 32; ++c)
      xq[c] = d * std::nearbyint(x[c] * inv); // the FPU's nearest-even
  }
}

void matmulQ8Reference(const WeightView &w, const float *x, int64_t nTokens,
                       float *y, bool accumulate) {
  std::vector<float> xq(static_cast<size_t>(nTokens * w.cols));
  for (int64_t t = 0; t < nTokens; ++t)
    quantizeQ8Reference(x + t * w.cols, w.cols, xq.data() + t * w.cols);
  matmulReference(w, xq.data(), nTokens, y, nullptr, accumulate);
}

} // namespace qn::runtime

//===- MatmulTestUtil.h - random weights for the matmul tests ---*- C++ -*-===//
//
// Shared by MatmulTest.cpp and MatmulQ8GemmTest.cpp: the formats under test,
// random but valid blocks, sum |w*x| (the scale of F32 rounding) and views.
//
//===----------------------------------------------------------------------===//

#ifndef QN_UNITTESTS_RUNTIME_MATMULTESTUTIL_H
#define QN_UNITTESTS_RUNTIME_MATMULTESTUTIL_H

#include "gguf/Dequantize.h"
#include "runtime/kernels/Matmul.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace qn::runtime::testing {

using qn::gguf::GGMLType;

struct FormatCase {
  GGMLType type;
  // Byte offsets of the F16 scale fields in one block (d, m/dmin).
  std::vector<int> halfScales;
  // Byte offset of an E8M0 exponent (MXFP4), or -1.
  int e8m0 = -1;
};

inline const std::vector<FormatCase> &formats() {
  static const std::vector<FormatCase> cases = {
      {GGMLType::F32, {}},        {GGMLType::F16, {}},
      {GGMLType::BF16, {}},       {GGMLType::Q8_0, {0}},
      {GGMLType::Q4_0, {0}},      {GGMLType::Q4_1, {0, 2}},
      {GGMLType::Q5_0, {0}},      {GGMLType::Q5_1, {0, 2}},
      {GGMLType::Q2_K, {80, 82}}, {GGMLType::Q3_K, {108}},
      {GGMLType::Q4_K, {0, 2}},   {GGMLType::Q5_K, {0, 2}},
      {GGMLType::Q6_K, {208}},    {GGMLType::IQ4_NL, {0}},
      {GGMLType::IQ4_XS, {0}},    {GGMLType::MXFP4, {}, 0},
  };
  return cases;
}

/// Random but valid weights: scalar types get values in [-1, 1]; block
/// types get random bytes with their scale fields replaced by halves of
/// moderate magnitude and either sign.
inline std::vector<uint8_t> randomWeights(const FormatCase &fc, int64_t rows,
                                          int64_t cols, std::mt19937 &rng) {
  const qn::gguf::GGMLTypeInfo *info = qn::gguf::getTypeInfo(fc.type);
  size_t rowBytes = qn::gguf::rowBytes(fc.type, cols);
  std::vector<uint8_t> data(rowBytes * rows);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  if (fc.type == GGMLType::F32 || fc.type == GGMLType::F16 ||
      fc.type == GGMLType::BF16) {
    for (int64_t i = 0; i < rows * cols; ++i) {
      float v = unit(rng);
      if (fc.type == GGMLType::F32) {
        std::memcpy(data.data() + 4 * i, &v, 4);
      } else {
        uint16_t h = fc.type == GGMLType::F16 ? qn::gguf::floatToFp16(v)
                                              : qn::gguf::floatToBf16(v);
        std::memcpy(data.data() + 2 * i, &h, 2);
      }
    }
    return data;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t &b : data)
    b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> mag(0.002f, 0.05f);
  size_t nBlocks = data.size() / info->blockBytes;
  for (size_t b = 0; b < nBlocks; ++b) {
    uint8_t *block = data.data() + b * info->blockBytes;
    for (int off : fc.halfScales) {
      float s = mag(rng) * (byte(rng) & 1 ? 1.0f : -1.0f);
      uint16_t h = qn::gguf::floatToFp16(s);
      std::memcpy(block + off, &h, 2);
    }
    if (fc.e8m0 >= 0)
      block[fc.e8m0] = static_cast<uint8_t>(118 + byte(rng) % 12);
  }
  return data;
}

/// sum_c |W[r][c] * x[t][c]| from gguf's dequantizer: the scale of the
/// rounding error any F32 summation order may make.
inline std::vector<double> magnitudes(const WeightView &w, const float *x,
                                      int64_t nTokens) {
  std::vector<double> mags(nTokens * w.rows);
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    llvm::Error err = qn::gguf::dequantize(w.type, w.data + r * w.rowBytes,
                                           row.data(), w.cols);
    EXPECT_FALSE(static_cast<bool>(err));
    llvm::consumeError(std::move(err));
    for (int64_t t = 0; t < nTokens; ++t) {
      double s = 0;
      for (int64_t c = 0; c < w.cols; ++c)
        s += std::fabs(static_cast<double>(row[c]) * x[t * w.cols + c]);
      mags[t * w.rows + r] = s;
    }
  }
  return mags;
}

/// The view of `rows` x `cols` weights of `type` stored at `data`.
inline WeightView viewOf(qn::gguf::GGMLType type, const uint8_t *data,
                         int64_t rows, int64_t cols) {
  WeightView w;
  w.type = type;
  w.data = data;
  w.rows = rows;
  w.cols = cols;
  w.rowBytes = qn::gguf::rowBytes(type, cols);
  return w;
}

/// The bound on the error 8-bit activations may add: every activation moves
/// by at most half a code step, d = max|x_block| / 127, so output (t, r) moves
/// by at most sum_c |W[r][c]| * d(t, block(c)) / 2.
inline std::vector<double> q8ActivationBounds(const WeightView &w,
                                              const float *x, int64_t nTokens) {
  std::vector<double> bounds(nTokens * w.rows);
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    llvm::Error err = qn::gguf::dequantize(w.type, w.data + r * w.rowBytes,
                                           row.data(), w.cols);
    EXPECT_FALSE(static_cast<bool>(err));
    llvm::consumeError(std::move(err));
    for (int64_t t = 0; t < nTokens; ++t) {
      double s = 0;
      for (int64_t b = 0; b < w.cols / 32; ++b) {
        double maxAbs = 0, sumW = 0;
        for (int64_t c = 32 * b; c < 32 * b + 32; ++c) {
          maxAbs = std::max(maxAbs, std::fabs(double(x[t * w.cols + c])));
          sumW += std::fabs(double(row[c]));
        }
        s += sumW * maxAbs / 127.0 * 0.5;
      }
      bounds[t * w.rows + r] = s;
    }
  }
  return bounds;
}

} // namespace qn::runtime::testing

#endif // QN_UNITTESTS_RUNTIME_MATMULTESTUTIL_H

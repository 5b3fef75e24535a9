//===- QuantizeTest.cpp - float to block formats --------------------------===//
//
// The quantizers must write the same bytes the peer wrote for the fixture's
// `src` tensor; the activation formats the fixture lacks (Q8_1, Q8_K) are
// checked by their defining properties on random rows.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"
#include "gguf/Quantize.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace qn::gguf;

namespace {

TEST(Quantize, MatchesPeerBlocksForTheSimpleFormats) {
  QN_REQUIRE_FIXTURES();
  auto fileOr = GGUFFile::open(qn::test::fixturePath("quant/quant-types.gguf"));
  ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
  const TensorInfo *src = (*fileOr)->findTensor("src");
  ASSERT_NE(src, nullptr);
  ASSERT_EQ(src->type, GGMLType::F32);
  const int64_t cols = src->ne[0], rows = src->ne[1];
  std::vector<float> x(cols * rows);
  std::memcpy(x.data(), src->data, x.size() * sizeof(float));

  for (const char *name :
       {"f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0"}) {
    SCOPED_TRACE(name);
    const TensorInfo *peer = (*fileOr)->findTensor(std::string("q.") + name);
    ASSERT_NE(peer, nullptr);
    const uint64_t rowSize = rowBytes(peer->type, cols);
    std::vector<uint8_t> ours(rowSize * rows);
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Error err = quantize(peer->type, x.data() + r * cols,
                                 ours.data() + r * rowSize, cols);
      ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    }
    ASSERT_EQ(ours.size(), peer->nbytes);
    int64_t badBytes = 0;
    for (size_t i = 0; i < ours.size(); ++i)
      if (ours[i] != peer->data[i] && badBytes++ < 5)
        ADD_FAILURE() << "byte " << i << ": peer " << int(peer->data[i])
                      << ", ours " << int(ours[i]);
    EXPECT_EQ(badBytes, 0);
  }
}

/// Random rows with odd features: mixed magnitudes, no zeros, some rows
/// with a single dominant value, some constant.
std::vector<float> randomRow(std::mt19937 &rng, int64_t n, int kind) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float &v : x) {
    v = normal(rng) * (kind == 1 ? 1e-3f : kind == 2 ? 300.0f : 1.0f);
    if (v == 0.0f)
      v = 1e-7f;
  }
  if (kind == 3)
    x[n / 3] = -50.0f; // one outlier dominates the scale
  if (kind == 4)
    std::fill(x.begin(), x.end(), 0.75f);
  return x;
}

TEST(Quantize, Q8_0AndQ8_1RoundTripWithinHalfAStep) {
  std::mt19937 rng(99);
  for (GGMLType type : {GGMLType::Q8_0, GGMLType::Q8_1}) {
    for (int kind = 0; kind < 5; ++kind) {
      SCOPED_TRACE(kind);
      const int64_t n = 32 * 7;
      std::vector<float> x = randomRow(rng, n, kind);
      std::vector<uint8_t> q(rowBytes(type, n));
      ASSERT_FALSE(bool(quantize(type, x.data(), q.data(), n)));
      const int64_t blockBytes = getTypeInfo(type)->blockBytes;
      for (int64_t b = 0; b < n / 32; ++b) {
        const uint8_t *blk = q.data() + b * blockBytes;
        uint16_t dh;
        std::memcpy(&dh, blk, 2);
        const double d = fp16ToFloat(dh);
        const int8_t *qs = reinterpret_cast<const int8_t *>(
            blk + (type == GGMLType::Q8_1 ? 4 : 2));
        double amax = 0;
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
          amax = std::max(amax, std::fabs(double(x[b * 32 + j])));
          sum += qs[j];
        }
        // d is amax/127 rounded to half precision.
        EXPECT_NEAR(d, amax / 127, amax / 127 * 1e-3 + 1e-7);
        for (int j = 0; j < 32; ++j) {
          // The code is x/d' rounded, with d' the unrounded scale; allow for
          // the half rounding of d when comparing in value space.
          EXPECT_LE(std::fabs(qs[j] * d - x[b * 32 + j]),
                    0.5 * d + std::fabs(x[b * 32 + j]) * 1e-3 + 1e-9);
          EXPECT_LE(std::abs(int(qs[j])), 127);
        }
        if (type == GGMLType::Q8_1) {
          uint16_t sh;
          std::memcpy(&sh, blk + 2, 2);
          EXPECT_NEAR(fp16ToFloat(sh), sum * (amax / 127),
                      std::fabs(sum * amax / 127) * 2e-3 + 1e-6);
        }
      }
    }
  }
}

TEST(Quantize, Q8_KProperties) {
  std::mt19937 rng(5);
  for (int kind = 0; kind < 5; ++kind) {
    SCOPED_TRACE(kind);
    const int64_t n = 256 * 3;
    std::vector<float> x = randomRow(rng, n, kind);
    std::vector<uint8_t> q(rowBytes(GGMLType::Q8_K, n));
    ASSERT_FALSE(bool(quantize(GGMLType::Q8_K, x.data(), q.data(), n)));
    std::vector<float> back(n);
    ASSERT_FALSE(bool(dequantize(GGMLType::Q8_K, q.data(), back.data(), n)));
    for (int64_t b = 0; b < n / 256; ++b) {
      const uint8_t *blk = q.data() + b * 292;
      float d;
      std::memcpy(&d, blk, 4);
      const int8_t *qs = reinterpret_cast<const int8_t *>(blk + 4);
      int16_t bsums[16];
      std::memcpy(bsums, blk + 260, 32);
      double amax = 0;
      for (int j = 0; j < 256; ++j)
        amax = std::max(amax, std::fabs(double(x[b * 256 + j])));
      EXPECT_NEAR(std::fabs(d), amax / 127, amax / 127 * 1e-6);
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j)
          sum += qs[g * 16 + j];
        EXPECT_EQ(bsums[g], sum);
      }
      for (int j = 0; j < 256; ++j) {
        EXPECT_LE(std::abs(int(qs[j])), 127);
        EXPECT_LE(std::fabs(back[b * 256 + j] - x[b * 256 + j]),
                  0.5 * std::fabs(d) * (1 + 1e-5));
      }
    }
  }
  // An all-zero block has scale 0 and zero codes and sums.
  std::vector<float> zeros(256, 0.0f);
  std::vector<uint8_t> q(292, 0xAB);
  ASSERT_FALSE(bool(quantize(GGMLType::Q8_K, zeros.data(), q.data(), 256)));
  for (uint8_t byte : q)
    ASSERT_EQ(byte, 0);
}

TEST(Quantize, HalfAndBFloatAreTheScalarConversions) {
  std::mt19937 rng(3);
  std::vector<float> x = randomRow(rng, 64, 2);
  std::vector<uint8_t> h(128), b(128);
  ASSERT_FALSE(bool(quantize(GGMLType::F16, x.data(), h.data(), 64)));
  ASSERT_FALSE(bool(quantize(GGMLType::BF16, x.data(), b.data(), 64)));
  for (int i = 0; i < 64; ++i) {
    uint16_t hv, bv;
    std::memcpy(&hv, &h[2 * i], 2);
    std::memcpy(&bv, &b[2 * i], 2);
    EXPECT_EQ(hv, floatToFp16(x[i]));
    EXPECT_EQ(bv, floatToBf16(x[i]));
  }
}

TEST(Quantize, RejectsBadArguments) {
  float x[64] = {};
  uint8_t y[512];
  llvm::Error k = quantize(GGMLType::Q2_K, x, y, 256);
  ASSERT_TRUE(bool(k));
  EXPECT_NE(llvm::toString(std::move(k)).find("q2_K is not supported"),
            std::string::npos);
  llvm::Error partial = quantize(GGMLType::Q8_0, x, y, 40);
  ASSERT_TRUE(bool(partial));
  EXPECT_NE(llvm::toString(std::move(partial)).find("whole number"),
            std::string::npos);
}

} // namespace

//===- QuantizeKTest.cpp - q4_K / q5_K / q6_K quantizers ------------------===//
//
// The k-quant quantizers follow ggml's reference algorithm but are not
// byte-identical with the peer's blocks (its q6_K search differs), so they
// are held to properties instead: the round-trip error is bounded relative
// to the super-block's largest magnitude, re-quantizing a dequantized row is
// (nearly) a fixed point, and on the fixture's `src` our error is no worse
// than the peer's own quantization (its dequantized values are in
// ../shared/fixtures/quant/deq).
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"
#include "gguf/Quantize.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace qn::gguf;

namespace {

struct KType {
  GGMLType type;
  const char *name;
  double maxRelError; // |x - deq(q(x))| / max|x| over the super-block
};
const KType kTypes[] = {{GGMLType::Q4_K, "q4_K", 0.15},
                        {GGMLType::Q5_K, "q5_K", 0.08},
                        {GGMLType::Q6_K, "q6_K", 0.04}};

/// Random rows: normal, tiny, huge, one outlier per row, constant, all
/// positive (the mins matter), alternating signs of mixed magnitude.
std::vector<float> randomRow(std::mt19937 &rng, int64_t n, int kind) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) {
    float v = normal(rng) * (kind == 1 ? 1e-4f : kind == 2 ? 500.0f : 1.0f);
    if (kind == 5)
      v = std::fabs(v) + 3.0f;
    if (kind == 6)
      v = (i % 2 ? -1.0f : 1.0f) * std::exp(2.0f * normal(rng));
    x[i] = v == 0.0f ? 1e-7f : v;
  }
  if (kind == 3)
    x[n / 3] = -50.0f;
  if (kind == 4)
    std::fill(x.begin(), x.end(), 0.75f);
  return x;
}

std::vector<float> roundTrip(GGMLType type, const std::vector<float> &x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(rowBytes(type, n));
  llvm::Error err = quantize(type, x.data(), q.data(), n);
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  std::vector<float> y(n);
  llvm::Error derr = dequantize(type, q.data(), y.data(), n);
  EXPECT_FALSE(bool(derr)) << llvm::toString(std::move(derr));
  return y;
}

TEST(QuantizeK, RoundTripErrorIsBoundedBySuperBlockMax) {
  std::mt19937 rng(2024);
  for (const KType &kt : kTypes) {
    for (int kind = 0; kind < 7; ++kind) {
      SCOPED_TRACE(std::string(kt.name) + " kind " + std::to_string(kind));
      const int64_t n = 256 * 5;
      std::vector<float> x = randomRow(rng, n, kind);
      std::vector<float> y = roundTrip(kt.type, x);
      for (int64_t b = 0; b < n; b += 256) {
        double amax = 0, worst = 0;
        for (int64_t i = b; i < b + 256; ++i)
          amax = std::max(amax, std::fabs(double(x[i])));
        for (int64_t i = b; i < b + 256; ++i) {
          ASSERT_TRUE(std::isfinite(y[i]));
          worst = std::max(worst, std::fabs(double(x[i]) - y[i]));
        }
        // d and dmin are f16: for tiny values they are subnormal, with an
        // absolute error up to 2^-25 each, times at most 63 (6-bit scale)
        // x 63 (level) in q4_K/q5_K or 127 x 32 in q6_K.
        const double f16Floor = 2 * 63.0 * 63.0 * std::ldexp(1.0, -25);
        EXPECT_LE(worst, kt.maxRelError * amax + f16Floor)
            << "super-block " << b / 256;
      }
    }
  }
}

TEST(QuantizeK, RequantizingADequantizedRowIsStable) {
  std::mt19937 rng(7);
  for (const KType &kt : kTypes) {
    for (int kind = 0; kind < 7; ++kind) {
      SCOPED_TRACE(std::string(kt.name) + " kind " + std::to_string(kind));
      std::vector<float> x = randomRow(rng, 512, kind);
      std::vector<float> once = roundTrip(kt.type, x);
      std::vector<float> twice = roundTrip(kt.type, once);
      // The values already lie on a grid of the format; re-fitting the
      // scales may move them by at most a small part of a step.
      double amax = 0, worst = 0;
      for (size_t i = 0; i < once.size(); ++i) {
        amax = std::max(amax, std::fabs(double(once[i])));
        worst = std::max(worst, std::fabs(double(once[i]) - twice[i]));
      }
      EXPECT_LE(worst, 0.25 * kt.maxRelError * amax);
      std::vector<float> thrice = roundTrip(kt.type, twice);
      double drift = 0;
      for (size_t i = 0; i < once.size(); ++i)
        drift = std::max(drift, std::fabs(double(twice[i]) - thrice[i]));
      EXPECT_LE(drift, 0.25 * kt.maxRelError * amax);
    }
  }
}

TEST(QuantizeK, NoWorseThanThePeerOnTheFixture) {
  QN_REQUIRE_FIXTURES();
  auto fileOr = GGUFFile::open(qn::test::fixturePath("quant/quant-types.gguf"));
  ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
  const TensorInfo *src = (*fileOr)->findTensor("src");
  ASSERT_NE(src, nullptr);
  const int64_t n = src->ne[0] * src->ne[1];
  std::vector<float> x(n);
  std::memcpy(x.data(), src->data, n * sizeof(float));
  for (const KType &kt : kTypes) {
    SCOPED_TRACE(kt.name);
    auto peerOr = llvm::MemoryBuffer::getFile(
        qn::test::fixturePath(std::string("quant/deq/") + kt.name + ".f32"));
    ASSERT_TRUE(bool(peerOr));
    ASSERT_EQ((*peerOr)->getBufferSize(), size_t(n) * sizeof(float));
    const float *peer =
        reinterpret_cast<const float *>((*peerOr)->getBufferStart());
    std::vector<float> ours = roundTrip(kt.type, x);
    double ourErr = 0, peerErr = 0;
    for (int64_t i = 0; i < n; ++i) {
      ourErr += (double(x[i]) - ours[i]) * (double(x[i]) - ours[i]);
      peerErr += (double(x[i]) - peer[i]) * (double(x[i]) - peer[i]);
    }
    EXPECT_GT(peerErr, 0.0);
    EXPECT_LE(ourErr, 1.1 * peerErr) << "ours " << std::sqrt(ourErr / n)
                                     << " peer " << std::sqrt(peerErr / n);
  }
}

} // namespace

//===- MatmulQ8GemmTest.cpp - the int8 prefill GEMM vs its twin -----------===//
//
// matmulQ8Gemm (8-bit activations, integer dot products) for every format
// it covers and every variant this CPU runs, on fresh random blocks and
// activations without zeros, odd row counts (not multiples of the 32-row
// tile), columns not multiples of the 512-column chunk (nor of 256 where
// the format allows), 1..1000 tokens (across the 6-token micro-tile and the
// 256-token block), 1-3 threads or none, accumulate on and off.
//
// Two bounds, both relative to sum |w * xq| of the output:
// * against matmulQ8Reference (the same quantized activations, F32 dot):
//   1e-5. The integer sums are exact; what remains is F32 rounding of the
//   per-block scale products and their sum over <= 48 blocks, where
//   k-quant minima are a second sum (scale * q and min are each up to a few
//   times |w|). A wrong code, scale or offset moves an output by about one
//   block's share, ~1/nBlocks of the magnitude: far above 1e-5.
// * against matmulReference on the F32 activations: the activation
//   rounding bound sum_c |W[r][c]| * d(block(c)) / 2 (q8ActivationBounds),
//   plus the same 1e-5.
//
//===----------------------------------------------------------------------===//

#include "runtime/ThreadPool.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/MatmulIsa.h"
#include "unittests/runtime/MatmulTestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

using namespace qn::runtime;
using namespace qn::runtime::testing;

namespace {

const std::vector<GGMLType> &gemmFormats() {
  static const std::vector<GGMLType> types = {GGMLType::Q8_0, GGMLType::Q4_0,
                                              GGMLType::Q5_0, GGMLType::Q4_K,
                                              GGMLType::Q5_K, GGMLType::Q6_K};
  return types;
}

const FormatCase &caseOf(GGMLType type) {
  for (const FormatCase &fc : formats())
    if (fc.type == type)
      return fc;
  static const FormatCase none{GGMLType::F32, {}};
  ADD_FAILURE() << "no format case";
  return none;
}

std::vector<MatmulIsa> gemmIsas() {
  std::vector<MatmulIsa> isas;
  for (MatmulIsa isa : {MatmulIsa::Avx2, MatmulIsa::Avx512})
    if (isMatmulIsaSupported(isa))
      isas.push_back(isa);
  return isas;
}

/// Uniform in [-1, 1] without zeros (a zero would hide a dropped code).
std::vector<float> randomActivations(int64_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> x(n);
  for (float &v : x) {
    v = unit(rng);
    if (v == 0.0f)
      v = 0.25f;
  }
  return x;
}

void checkGemm(MatmulIsa isa, GGMLType type, int64_t rows, int64_t cols,
               int64_t nTokens, ThreadPool *pool, bool accumulate,
               std::mt19937 &rng) {
  const FormatCase &fc = caseOf(type);
  std::vector<uint8_t> bytes = randomWeights(fc, rows, cols, rng);
  // Odd address: experts start anywhere in a tensor.
  std::vector<uint8_t> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  const WeightView w = viewOf(type, shifted.data() + 1, rows, cols);
  std::vector<float> x = randomActivations(nTokens * cols, rng);
  std::vector<float> xq(x.size());
  for (int64_t t = 0; t < nTokens; ++t)
    quantizeQ8Reference(x.data() + t * cols, cols, xq.data() + t * cols);

  std::vector<float> y0(nTokens * rows, 0.0f);
  if (accumulate) {
    std::uniform_real_distribution<float> unit(-2.0f, 2.0f);
    for (float &v : y0)
      v = unit(rng);
  }
  std::vector<float> got = y0, twin = y0, exact = y0;
  if (!accumulate)
    std::fill(got.begin(), got.end(), std::numeric_limits<float>::quiet_NaN());
  ASSERT_TRUE(
      matmulQ8Gemm(isa, w, x.data(), nTokens, got.data(), pool, accumulate));
  matmulQ8Reference(w, x.data(), nTokens, twin.data(), accumulate);
  matmulReference(w, x.data(), nTokens, exact.data(), nullptr, accumulate);
  const std::vector<double> mags = magnitudes(w, xq.data(), nTokens);
  const std::vector<double> bounds = q8ActivationBounds(w, x.data(), nTokens);
  for (int64_t i = 0; i < nTokens * rows; ++i) {
    const double tol = 1e-5 * mags[i] + 1e-6 * std::abs(y0[i]) + 1e-30;
    ASSERT_NEAR(got[i], twin[i], tol)
        << getMatmulIsaName(isa).str() << " "
        << qn::gguf::getTypeName(type).str() << " rows " << rows << " cols "
        << cols << " tokens " << nTokens << " accumulate " << accumulate
        << " at token " << i / rows << " row " << i % rows;
    ASSERT_NEAR(got[i], exact[i], 1.01 * bounds[i] + tol)
        << "vs F32 activations: " << getMatmulIsaName(isa).str() << " "
        << qn::gguf::getTypeName(type).str() << " tokens " << nTokens
        << " at token " << i / rows << " row " << i % rows;
  }
}

std::vector<int64_t> gemmColumns(GGMLType type) {
  if (qn::gguf::getTypeInfo(type)->blockSize == 32)
    return {32, 96, 544, 1056}; // within, across and over two 512 chunks
  return {256, 768, 1280};      // 768 and 1280: not multiples of 512
}

class MatmulQ8GemmTest : public ::testing::TestWithParam<GGMLType> {};

TEST_P(MatmulQ8GemmTest, MatchesQ8ReferenceAndF32WithinRounding) {
  const GGMLType type = GetParam();
  std::mt19937 rng(777 + static_cast<unsigned>(type));
  std::unique_ptr<ThreadPool> pools[] = {std::make_unique<ThreadPool>(1),
                                         std::make_unique<ThreadPool>(2),
                                         std::make_unique<ThreadPool>(3)};
  ASSERT_FALSE(gemmIsas().empty()) << "no SIMD variant: nothing to test";
  for (MatmulIsa isa : gemmIsas()) {
    int n = 0;
    for (int64_t cols : gemmColumns(type))
      for (int64_t rows : {1, 13, 37, 67})
        for (int64_t nTokens : {1, 5, 7, 13, 64}) {
          ThreadPool *pool = pools[n % 3].get();
          checkGemm(isa, type, rows, cols, nTokens, pool, n % 2 == 1, rng);
          ++n;
          if (HasFatalFailure())
            return;
        }
    // Long prompts: across the 256-token block; no pool.
    checkGemm(isa, type, 40, gemmColumns(type)[1], 1000, pools[1].get(), false,
              rng);
    checkGemm(isa, type, 33, gemmColumns(type)[0], 300, nullptr, true, rng);
    if (HasFatalFailure())
      return;
  }
}

std::string typeName(const ::testing::TestParamInfo<GGMLType> &info) {
  return qn::gguf::getTypeName(info.param).str();
}

INSTANTIATE_TEST_SUITE_P(GemmFormats, MatmulQ8GemmTest,
                         ::testing::ValuesIn(gemmFormats()), typeName);

TEST(MatmulQ8Gemm, DeclinesFormatsAndVariantsWithoutIt) {
  std::vector<uint8_t> bytes(4096, 0);
  std::vector<float> x(8 * 256, 1.0f), y(8 * 4, -1.0f);
  for (GGMLType type :
       {GGMLType::F32, GGMLType::F16, GGMLType::IQ4_XS, GGMLType::Q2_K}) {
    const WeightView w = viewOf(type, bytes.data(), 4, 256);
    for (MatmulIsa isa :
         {MatmulIsa::Generic, MatmulIsa::Avx2, MatmulIsa::Avx512}) {
      if (isMatmulIsaSupported(isa)) {
        EXPECT_FALSE(matmulQ8Gemm(isa, w, x.data(), 8, y.data(), nullptr))
            << qn::gguf::getTypeName(type).str();
      }
    }
  }
  const WeightView q8 = viewOf(GGMLType::Q8_0, bytes.data(), 4, 256);
  EXPECT_FALSE(
      matmulQ8Gemm(MatmulIsa::Generic, q8, x.data(), 8, y.data(), nullptr));
  for (float v : y)
    EXPECT_EQ(v, -1.0f); // nothing written
}

// `matmul` with Q8Prefill activations runs the GEMM above
// four tokens and the exact F32 kernels up to four.
TEST(MatmulQ8Gemm, Q8PrefillUsesTheGemmAboveFourTokens) {
  const MatmulActivations before = getMatmulActivations();
  setMatmulActivations(MatmulActivations::Q8Prefill);
  std::mt19937 rng(5);
  ThreadPool pool(2);
  const FormatCase &fc = caseOf(GGMLType::Q4_K);
  const int64_t rows = 45, cols = 512;
  std::vector<uint8_t> bytes = randomWeights(fc, rows, cols, rng);
  const WeightView w = viewOf(fc.type, bytes.data(), rows, cols);
  const MatmulIsa isa = getDefaultMatmulIsa();
  for (int64_t nTokens : {1, 4, 5, 100}) {
    std::vector<float> x = randomActivations(nTokens * cols, rng);
    std::vector<float> got(nTokens * rows), want(nTokens * rows);
    matmul(w, x.data(), nTokens, got.data(), &pool);
    if (nTokens > 4 &&
        matmulQ8Gemm(isa, w, x.data(), nTokens, want.data(), &pool)) {
      for (int64_t i = 0; i < nTokens * rows; ++i)
        ASSERT_EQ(got[i], want[i]) << "tokens " << nTokens << " output " << i;
    } else {
      matmulWithIsa(isa, w, x.data(), nTokens, want.data(), &pool,
                    MatmulActivations::F32);
      for (int64_t i = 0; i < nTokens * rows; ++i)
        ASSERT_EQ(got[i], want[i]) << "tokens " << nTokens << " output " << i;
    }
  }
  setMatmulActivations(before);
}

TEST(MatmulQ8Gemm, ReferenceQuantizerRoundsPerBlock) {
  // One block, worked by hand: max|x| / 127 = 0.01 = 1.28 * 2^-7, whose
  // bf16 is 164/128 * 2^-7 = 0.010009765625; codes round(x / d): 1.27 ->
  // 126.88 -> 127, -0.635 -> -63.44 -> -63, 0.004 -> 0.40 -> 0.
  std::vector<float> x(32, 0.0f), xq(32);
  x[0] = 1.27f;
  x[1] = -0.635f;
  x[2] = 0.004f;
  quantizeQ8Reference(x.data(), 32, xq.data());
  const float d = 0.010009765625f;
  EXPECT_EQ(xq[0], 127 * d);
  EXPECT_EQ(xq[1], -63 * d);
  EXPECT_EQ(xq[2], 0.0f);
  EXPECT_EQ(xq[31], 0.0f);
  // An all-zero block stays zero (no division by a zero scale).
  std::vector<float> zeros(32, 0.0f), zq(32, 1.0f);
  quantizeQ8Reference(zeros.data(), 32, zq.data());
  EXPECT_EQ(zq[0], 0.0f);
}

TEST(MatmulQ8Gemm, RoundToBf16IsNearestEven) {
  EXPECT_EQ(roundToBf16(0.01f), 0.010009765625f);
  EXPECT_EQ(roundToBf16(1.0f), 1.0f);
  // Halfway cases go to the even neighbour: 1 + 2^-8 -> 1, 1 + 3 * 2^-8 ->
  // 1 + 2^-6; just above halfway rounds up.
  EXPECT_EQ(roundToBf16(1.00390625f), 1.0f);
  EXPECT_EQ(roundToBf16(1.01171875f), 1.015625f);
  EXPECT_EQ(roundToBf16(std::nextafter(1.00390625f, 2.0f)), 1.0078125f);
  EXPECT_EQ(roundToBf16(-0.01f), -0.010009765625f);
}

} // namespace

// hasInt8Kernels (what qn-select-activations plans with) is the truth of
// the kernels: on the widest variant, Q8 activations change the result of
// exactly the formats it lists, at one token (fused decode) or at 16 (the
// GEMM), and the explicit `act` of `matmul` wins over the global setting.
TEST(MatmulQ8Gemm, HasInt8KernelsListsWhatQ8Changes) {
  if (getDefaultMatmulIsa() != MatmulIsa::Avx512)
    GTEST_SKIP() << "needs the AVX-512 variant (the one with every kernel)";
  const MatmulActivations before = getMatmulActivations();
  setMatmulActivations(MatmulActivations::F32);
  std::mt19937 rng(11);
  const int64_t rows = 9, cols = 512;
  for (const FormatCase &fc : formats()) {
    std::vector<uint8_t> bytes = randomWeights(fc, rows, cols, rng);
    const WeightView w = viewOf(fc.type, bytes.data(), rows, cols);
    bool changed = false;
    for (int64_t nTokens : {1, 16}) {
      std::vector<float> x = randomActivations(nTokens * cols, rng);
      std::vector<float> exact(nTokens * rows), q8(nTokens * rows);
      matmul(w, x.data(), nTokens, exact.data(), nullptr);
      matmul(w, x.data(), nTokens, q8.data(), nullptr, MatmulActivations::Q8);
      changed |= exact != q8;
    }
    EXPECT_EQ(changed, hasInt8Kernels(fc.type))
        << qn::gguf::getTypeName(fc.type).str();
  }
  setMatmulActivations(before);
}

//===- DequantizeTest.cpp - block formats against the peer ----------------===//
//
// The peer's dequantization of every block type (../shared/fixtures/quant)
// must be reproduced bit for bit; the scalar half/bfloat conversions are
// checked against the compiler's own _Float16 and a double-precision model.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"
#include "unittests/gguf/SameBits.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace qn::gguf;

namespace {

using qn::test::bitsOf;

float fromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Dequantize, MatchesPeerBitForBitOnEveryFixtureType) {
  QN_REQUIRE_FIXTURES();
  auto jsonBuf = llvm::MemoryBuffer::getFile(
      qn::test::fixturePath("quant/quant-types.json"));
  ASSERT_TRUE(bool(jsonBuf));
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*jsonBuf)->getBuffer());
  ASSERT_TRUE(bool(json)) << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  ASSERT_NE(root, nullptr);
  int64_t rows = *root->getInteger("rows");
  int64_t cols = *root->getInteger("cols");

  auto fileOr = GGUFFile::open(qn::test::fixturePath("quant/quant-types.gguf"));
  ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
  const GGUFFile &file = **fileOr;

  const llvm::json::Array *types = root->getArray("types");
  ASSERT_NE(types, nullptr);
  EXPECT_GE(types->size(), 15u);
  for (const llvm::json::Value &entry : *types) {
    const llvm::json::Object &t = *entry.getAsObject();
    std::string name = t.getString("name")->str();
    SCOPED_TRACE(name);
    const TensorInfo *tensor = file.findTensor(*t.getString("tensor"));
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(static_cast<int64_t>(tensor->type), *t.getInteger("ggml_type"));
    EXPECT_EQ(parseTypeName(name), tensor->type);
    EXPECT_EQ(static_cast<int64_t>(rowBytes(tensor->type, cols)),
              *t.getInteger("row_bytes"));
    ASSERT_EQ(tensor->numElements(), rows * cols);

    std::vector<float> ours(rows * cols);
    // Row by row, as a matmul kernel would call it.
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Error err = dequantize(
          tensor->type, tensor->data + r * rowBytes(tensor->type, cols),
          ours.data() + r * cols, cols);
      ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    }

    qn::test::expectSameBitsAsFile(t.getString("dequantized")->str(), ours,
                                   cols);
  }
}

TEST(Dequantize, UnalignedSourceGivesSameResult) {
  // Q8_0 blocks hand-built: d = 0.5 (fp16 0x3800), q = -16..15.
  std::vector<uint8_t> block(34);
  block[0] = 0x00;
  block[1] = 0x38;
  for (int j = 0; j < 32; ++j)
    block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  std::vector<uint8_t> shifted(35);
  std::memcpy(shifted.data() + 1, block.data(), 34);
  float a[32], b[32];
  ASSERT_FALSE(bool(dequantize(GGMLType::Q8_0, block.data(), a, 32)));
  ASSERT_FALSE(bool(dequantize(GGMLType::Q8_0, shifted.data() + 1, b, 32)));
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(a[j], (j - 16) * 0.5f);
    EXPECT_EQ(bitsOf(a[j]), bitsOf(b[j]));
  }
}

TEST(Dequantize, Q4_0HandBuiltBlock) {
  // d = 2 (fp16 0x4000); low nibbles give elements 0..15, high 16..31.
  uint8_t block[18] = {0x00, 0x40};
  for (int j = 0; j < 16; ++j)
    block[2 + j] = static_cast<uint8_t>((j & 0xF) | ((15 - j) << 4));
  float y[32];
  ASSERT_FALSE(bool(dequantize(GGMLType::Q4_0, block, y, 32)));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 2.0f);
    EXPECT_EQ(y[j + 16], (15 - j - 8) * 2.0f);
  }
}

TEST(Dequantize, RejectsBadArguments) {
  float out[64];
  uint8_t in[64 * 4] = {};
  llvm::Error partial = dequantize(GGMLType::Q8_0, in, out, 33);
  ASSERT_TRUE(bool(partial));
  EXPECT_NE(llvm::toString(std::move(partial)).find("whole number"),
            std::string::npos);
  llvm::Error negative = dequantize(GGMLType::F32, in, out, -1);
  EXPECT_TRUE(bool(negative));
  llvm::consumeError(std::move(negative));
  // q8_K64 is an activation format: known geometry, no decoder.
  llvm::Error unsupported = dequantize(GGMLType::Q8_K64, in, out, 0);
  ASSERT_TRUE(bool(unsupported));
  EXPECT_NE(llvm::toString(std::move(unsupported)).find("q8_K64"),
            std::string::npos);
  llvm::Error unknown = dequantize(static_cast<GGMLType>(100), in, out, 0);
  ASSERT_TRUE(bool(unknown));
  EXPECT_NE(llvm::toString(std::move(unknown)).find("100"), std::string::npos);
  // Interleaved types decode whole row groups only.
  llvm::Error grouped = dequantize(GGMLType::Q4_0_R8, in, out, 32);
  ASSERT_TRUE(bool(grouped));
  EXPECT_NE(llvm::toString(std::move(grouped)).find("dequantizeRows"),
            std::string::npos);
  llvm::Error partialGroup = dequantizeRows(GGMLType::Q4_0_R8, in, out, 3, 32);
  ASSERT_TRUE(bool(partialGroup));
  EXPECT_NE(llvm::toString(std::move(partialGroup)).find("groups of 8"),
            std::string::npos);
}

// Half to float, modelled in double: every half is exact in both.
double halfValue(uint16_t h) {
  int sign = h >> 15 ? -1 : 1;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  if (exp == 0)
    return sign * std::ldexp(mant, -24);
  return sign * std::ldexp(1024 + mant, exp - 25);
}

TEST(HalfConversion, DecodesEveryHalfExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = fp16ToFloat(static_cast<uint16_t>(h));
    int exp = (h >> 10) & 0x1f;
    if (exp == 0x1f) {
      if (h & 0x3ff)
        EXPECT_TRUE(std::isnan(f)) << h;
      else
        EXPECT_TRUE(std::isinf(f) && std::signbit(f) == bool(h & 0x8000)) << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), halfValue(h))
        << "half 0x" << std::hex << h;
    ASSERT_EQ(std::signbit(f), bool(h & 0x8000)) << h;
  }
}

uint16_t compilerHalf(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

TEST(HalfConversion, EncodesLikeTheCompiler) {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               -1.0f,
                               65504.0f,
                               65519.99f,
                               65520.0f,
                               1e10f,
                               -1e10f,
                               6.1e-5f,
                               6.0e-8f,
                               2.9e-8f,
                               3.0e-8f,
                               1e-30f,
                               INFINITY,
                               -INFINITY,
                               1.000488281f /*tie*/,
                               1.00146484375f /*tie*/};
  // Every half's value and the midpoints next to it.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    float v = fp16ToFloat(static_cast<uint16_t>(h));
    values.push_back(v);
    values.push_back(-v);
    values.push_back(std::nextafter(v, 1e9f));
    values.push_back(std::nextafter(v, 0.0f));
    float next = fp16ToFloat(static_cast<uint16_t>(h + 1));
    values.push_back(static_cast<float>((static_cast<double>(v) + next) / 2));
  }
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    float f = fromBits(bits(rng));
    if (!std::isnan(f))
      values.push_back(f);
  }
  for (float f : values)
    ASSERT_EQ(floatToFp16(f), compilerHalf(f))
        << "float " << f << " (0x" << std::hex << bitsOf(f) << ")";
  EXPECT_TRUE(std::isnan(fp16ToFloat(floatToFp16(NAN))));
}

// bfloat16 rounding modelled in double: pick the nearer neighbour, ties even.
uint16_t modelBf16(float f) {
  uint32_t u = bitsOf(f);
  uint16_t lo = static_cast<uint16_t>(u >> 16);
  uint16_t hi = static_cast<uint16_t>(lo + 1);
  double x = f;
  double dLo = std::fabs(x - bf16ToFloat(lo));
  double dHi = std::fabs(bf16ToFloat(hi) - x);
  if ((u & 0xffff) == 0)
    return lo;
  if (dLo < dHi)
    return lo;
  if (dHi < dLo)
    return hi;
  return (lo & 1) ? hi : lo;
}

TEST(BFloat16Conversion, RoundsToNearestEven) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = bits(rng);
    // Stay below the largest finite bf16 so the upper neighbour is finite.
    if ((u & 0x7fffffff) >= 0x7f7f0000)
      continue;
    float f = fromBits(u);
    ASSERT_EQ(floatToBf16(f), modelBf16(f)) << std::hex << u;
  }
  // Exact ties both ways.
  EXPECT_EQ(floatToBf16(fromBits(0x3f808000)), 0x3f80); // tie, even below
  EXPECT_EQ(floatToBf16(fromBits(0x3f818000)), 0x3f82); // tie, even above
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(NAN))));
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
}

} // namespace

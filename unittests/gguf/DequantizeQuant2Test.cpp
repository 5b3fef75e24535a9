//===- DequantizeQuant2Test.cpp - i-quants, ik and repacked types ---------===//
//
// Every block type of ../shared/fixtures/quant2 (the mainline i-quants, Q1_0,
// the peer's own types, the trellis types and the row-interleaved layouts)
// dequantized bit for bit as the peer's to_float did (deq/<type>.f32), and
// its geometry (id, block, row metadata, rows per group, family) as the
// fixture's json records it.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"
#include "unittests/gguf/SameBits.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cstring>
#include <random>
#include <set>

using namespace qn::gguf;

namespace {

struct Quant2Fixture {
  llvm::json::Value json = nullptr;
  std::unique_ptr<GGUFFile> file;
  int64_t rows = 0, cols = 0;
};

// Loads quant-types.json and quant-types.gguf; fails the test if absent.
void loadQuant2(Quant2Fixture &f) {
  auto jsonBuf = llvm::MemoryBuffer::getFile(
      qn::test::fixturePath("quant2/quant-types.json"));
  ASSERT_TRUE(bool(jsonBuf));
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*jsonBuf)->getBuffer());
  ASSERT_TRUE(bool(json)) << llvm::toString(json.takeError());
  f.json = std::move(*json);
  f.rows = *f.json.getAsObject()->getInteger("rows");
  f.cols = *f.json.getAsObject()->getInteger("cols");
  auto fileOr =
      GGUFFile::open(qn::test::fixturePath("quant2/quant-types.gguf"));
  ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
  f.file = std::move(*fileOr);
}

TEST(DequantizeQuant2, GeometryMatchesThePeer) {
  QN_REQUIRE_FIXTURES();
  Quant2Fixture f;
  ASSERT_NO_FATAL_FAILURE(loadQuant2(f));
  const llvm::json::Array *types = f.json.getAsObject()->getArray("types");
  ASSERT_NE(types, nullptr);
  EXPECT_GE(types->size(), 52u);
  for (const llvm::json::Value &entry : *types) {
    const llvm::json::Object &t = *entry.getAsObject();
    std::string name = t.getString("name")->str();
    SCOPED_TRACE(name);
    const GGMLType type = static_cast<GGMLType>(*t.getInteger("ggml_type"));
    const GGMLTypeInfo *info = getTypeInfo(type);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->name, name);
    EXPECT_EQ(parseTypeName(name), type);
    EXPECT_EQ(info->blockSize, *t.getInteger("block_size"));
    EXPECT_EQ(info->blockBytes, *t.getInteger("block_bytes"));
    EXPECT_EQ(info->rowMetaBytes, *t.getInteger("row_meta_bytes"));
    EXPECT_EQ(info->rowsPerGroup, *t.getInteger("rows_per_group"));
    EXPECT_EQ(getFamilyName(info->family), *t.getString("family"));
    EXPECT_EQ(static_cast<int64_t>(rowBytes(type, f.cols)),
              *t.getInteger("row_bytes"));
    const TensorInfo *tensor = f.file->findTensor(*t.getString("tensor"));
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(tensor->type, type);
    EXPECT_EQ(tensor->nbytes, rowBytes(type, f.cols) * f.rows);
  }
  // The ids the peer skipped are still known (and refused by the decoder
  // where it has no reference), apart from the ones qn does not read.
  for (const llvm::json::Value &entry :
       *f.json.getAsObject()->getArray("skipped")) {
    const llvm::json::Object &t = *entry.getAsObject();
    const uint32_t id = static_cast<uint32_t>(*t.getInteger("ggml_type"));
    SCOPED_TRACE(t.getString("name")->str());
    if (!getUnsupportedTypeNote(id).empty())
      continue;
    const GGMLTypeInfo *info = getTypeInfo(static_cast<GGMLType>(id));
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->name, *t.getString("name"));
  }
}

TEST(DequantizeQuant2, MatchesPeerBitForBitOnEveryFixtureType) {
  QN_REQUIRE_FIXTURES();
  Quant2Fixture f;
  ASSERT_NO_FATAL_FAILURE(loadQuant2(f));
  const int64_t rows = f.rows, cols = f.cols;
  std::set<std::string> exact;
  for (const llvm::json::Value &entry :
       *f.json.getAsObject()->getArray("types")) {
    const llvm::json::Object &t = *entry.getAsObject();
    std::string name = t.getString("name")->str();
    SCOPED_TRACE(name);
    const TensorInfo *tensor = f.file->findTensor(*t.getString("tensor"));
    ASSERT_NE(tensor, nullptr);
    ASSERT_TRUE(canDequantize(tensor->type));

    std::vector<float> ours(rows * cols);
    llvm::Error err =
        dequantizeRows(tensor->type, tensor->data, ours.data(), rows, cols);
    ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
    // Types without interleaving also decode row by row, as kernels do.
    if (rowsPerGroup(tensor->type) == 1) {
      std::vector<float> byRow(cols);
      const uint64_t rowSize = rowBytes(tensor->type, cols);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_FALSE(bool(dequantize(tensor->type, tensor->data + r * rowSize,
                                     byRow.data(), cols)));
        EXPECT_EQ(std::memcmp(byRow.data(), ours.data() + r * cols, 4 * cols),
                  0);
      }
    }

    qn::test::expectSameBitsAsFile(t.getString("dequantized")->str(), ours,
                                   cols);
  }
}

// TQ1_0 / TQ2_0 are mainline's and not in the fixtures: blocks are built
// here from the published layout (the encoder side, written independently of
// the decoder) out of random trits, and must decode to trit * d exactly.
std::vector<int> randomTrits(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int> t(256);
  for (int &v : t)
    v = static_cast<int>(rng() % 3) - 1;
  return t;
}

// Five (or four, then a zero digit) trits, first most significant, as the
// base-3 fraction byte ceil(v * 256 / 243).
uint8_t packTrits(const int *t, int count, int stride) {
  int v = 0;
  for (int n = 0; n < 5; ++n)
    v = 3 * v + (n < count ? t[n * stride] + 1 : 0);
  return static_cast<uint8_t>((v * 256 + 242) / 243);
}

TEST(DequantizeTernary, TQ1_0HandBuiltBlock) {
  const std::vector<int> t = randomTrits(7);
  uint8_t block[54] = {};
  for (int m = 0; m < 32; ++m) // weights 32n + m
    block[m] = packTrits(&t[m], 5, 32);
  for (int m = 0; m < 16; ++m) // weights 160 + 16n + m
    block[32 + m] = packTrits(&t[160 + m], 5, 16);
  for (int m = 0; m < 4; ++m) // weights 240 + 4n + m
    block[48 + m] = packTrits(&t[240 + m], 4, 4);
  block[52] = 0x00; // d = -0.75 (fp16 0xba00)
  block[53] = 0xba;
  float y[256];
  ASSERT_FALSE(bool(dequantize(GGMLType::TQ1_0, block, y, 256)));
  for (int e = 0; e < 256; ++e)
    EXPECT_EQ(y[e], t[e] * -0.75f) << "weight " << e;
}

TEST(DequantizeTernary, TQ2_0HandBuiltBlock) {
  const std::vector<int> t = randomTrits(8);
  uint8_t block[66] = {};
  for (int e = 0; e < 256; ++e) {
    const int half = e / 128, l = (e % 128) / 32, m = e % 32;
    block[32 * half + m] |= static_cast<uint8_t>((t[e] + 1) << (2 * l));
  }
  block[64] = 0x00; // d = 0.5 (fp16 0x3800)
  block[65] = 0x38;
  float y[256];
  ASSERT_FALSE(bool(dequantize(GGMLType::TQ2_0, block, y, 256)));
  for (int e = 0; e < 256; ++e)
    EXPECT_EQ(y[e], t[e] * 0.5f) << "weight " << e;
}

} // namespace

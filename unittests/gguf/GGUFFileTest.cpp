//===- GGUFFileTest.cpp - GGUF reader and writer --------------------------===//
//
// Round trips through the writer, hand-made broken files (each must give an
// error naming the problem, never a crash), and the real fixture files.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"

#include "gguf/GGUFFile.h"
#include "gguf/GGUFWriter.h"

#include "gtest/gtest.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <cstdio>
#include <cstring>
#include <random>

using namespace qn::gguf;

namespace {

std::unique_ptr<llvm::MemoryBuffer> bufferOf(const std::string &bytes) {
  return llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.gguf");
}

llvm::Expected<std::unique_ptr<GGUFFile>> parse(const std::string &bytes) {
  return GGUFFile::fromBuffer(bufferOf(bytes));
}

/// Expects parsing to fail with a message containing `needle`.
void expectParseError(const std::string &bytes, llvm::StringRef needle) {
  auto file = parse(bytes);
  ASSERT_FALSE(bool(file)) << "parsed a broken file; wanted: " << needle.str();
  std::string msg = llvm::toString(file.takeError());
  EXPECT_NE(msg.find(needle.str()), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("test.gguf: ", 0), 0u) << msg;
}

/// Little-endian byte builder for hand-made headers.
struct Bytes {
  std::string s;
  template <typename T> Bytes &put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    s.append(b, sizeof(T));
    return *this;
  }
  Bytes &str(llvm::StringRef v) {
    put<uint64_t>(v.size());
    s.append(v.data(), v.size());
    return *this;
  }
  Bytes &header(uint64_t nTensors, uint64_t nKV, uint32_t version = 3) {
    return put<uint32_t>(0x46554747).put(version).put(nTensors).put(nKV);
  }
  Bytes &padTo(size_t alignment) {
    s.resize((s.size() + alignment - 1) / alignment * alignment, '\0');
    return *this;
  }
};

std::vector<float> iota(size_t n, float start) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = start + static_cast<float>(i);
  return v;
}

GGUFWriter sampleWriter(uint64_t alignment) {
  GGUFWriter w(alignment);
  w.setValue("general.architecture", Value::makeString("qwen3next"));
  w.setValue("u8", Value::makeUInt(ValueType::UInt8, 200));
  w.setValue("i8", Value::makeInt(ValueType::Int8, -100));
  w.setValue("u16", Value::makeUInt(ValueType::UInt16, 60000));
  w.setValue("i16", Value::makeInt(ValueType::Int16, -30000));
  w.setValue("u32", Value::makeUInt(ValueType::UInt32, 4000000000u));
  w.setValue("i32", Value::makeInt(ValueType::Int32, -2000000000));
  w.setValue("u64", Value::makeUInt(ValueType::UInt64, 1ull << 60));
  w.setValue("i64", Value::makeInt(ValueType::Int64, -(1ll << 60)));
  w.setValue("f32", Value::makeFloat(ValueType::Float32, 1e-6));
  w.setValue("f64", Value::makeFloat(ValueType::Float64, 0.1));
  w.setValue("bool", Value::makeBool(true));
  w.setValue("empty", Value::makeString(""));
  w.setValue("strs", Value::makeArray(ValueType::String,
                                      {Value::makeString("a"),
                                       Value::makeString("\xc4\xa0hello"),
                                       Value::makeString("")}));
  w.setValue("u32s", Value::makeArray(ValueType::UInt32,
                                      {Value::makeUInt(ValueType::UInt32, 1),
                                       Value::makeUInt(ValueType::UInt32, 2)}));
  w.setValue("nested",
             Value::makeArray(ValueType::Array,
                              {Value::makeArray(ValueType::Bool,
                                                {Value::makeBool(false)})}));
  EXPECT_FALSE(bool(w.addTensorF32("a", {3, 2}, iota(6, 1.0f))));
  std::vector<uint8_t> q8(2 * 34, 0x11);
  EXPECT_FALSE(bool(w.addTensor("b.q8", GGMLType::Q8_0, {64}, q8)));
  EXPECT_FALSE(bool(w.addTensorF32("c", {5}, iota(5, -2.0f))));
  return w;
}

TEST(GGUFFile, WriterReaderRoundTrip) {
  for (uint64_t alignment : {32, 64}) {
    SCOPED_TRACE(alignment);
    std::string bytes = sampleWriter(alignment).serialize();
    auto fileOr = parse(bytes);
    ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
    const GGUFFile &f = **fileOr;
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), alignment);
    EXPECT_EQ(f.dataOffset() % alignment, 0u);

    EXPECT_EQ(*f.find("u8")->asUInt(), 200u);
    EXPECT_EQ(f.find("u8")->type(), ValueType::UInt8);
    EXPECT_EQ(*f.find("i8")->asInt(), -100);
    EXPECT_FALSE(f.find("i8")->asUInt().has_value());
    EXPECT_EQ(*f.find("u16")->asUInt(), 60000u);
    EXPECT_EQ(*f.find("i16")->asInt(), -30000);
    EXPECT_EQ(*f.getUInt("u32"), 4000000000u);
    EXPECT_EQ(*f.find("i32")->asInt(), -2000000000);
    EXPECT_EQ(*f.getUInt("u64"), 1ull << 60);
    EXPECT_EQ(*f.find("i64")->asInt(), -(1ll << 60));
    EXPECT_EQ(*f.getFloat("f32"), static_cast<double>(1e-6f));
    EXPECT_EQ(*f.getFloat("f64"), 0.1);
    EXPECT_EQ(*f.getBool("bool"), true);
    EXPECT_EQ(*f.getString("empty"), "");
    EXPECT_EQ(*f.getString("general.architecture"), "qwen3next");
    auto strs = f.getStringArray("strs");
    ASSERT_TRUE(bool(strs));
    ASSERT_EQ(strs->size(), 3u);
    EXPECT_EQ((*strs)[1], "\xc4\xa0hello");
    const Value *u32s = f.find("u32s");
    ASSERT_TRUE(u32s && u32s->isArray());
    EXPECT_EQ(u32s->arrayElementType(), ValueType::UInt32);
    EXPECT_EQ(*u32s->array()[1].asUInt(), 2u);
    const Value *nested = f.find("nested");
    ASSERT_EQ(nested->array()[0].arrayElementType(), ValueType::Bool);
    EXPECT_EQ(*nested->array()[0].array()[0].asBool(), false);
    EXPECT_EQ(f.metadata().front().first, "general.architecture");

    ASSERT_EQ(f.tensors().size(), 3u);
    const TensorInfo *a = f.findTensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shapeString(), "{3, 2}");
    EXPECT_EQ(a->numElements(), 6);
    EXPECT_EQ(a->nbytes, 24u);
    float got[6];
    std::memcpy(got, a->data, 24);
    EXPECT_EQ(got[5], 6.0f);
    const TensorInfo *b = f.findTensor("b.q8");
    EXPECT_EQ(b->type, GGMLType::Q8_0);
    EXPECT_EQ(b->nbytes, 68u);
    EXPECT_EQ(b->data[67], 0x11);
    const TensorInfo *c = f.findTensor("c");
    EXPECT_EQ(c->offset % alignment, 0u);
    std::memcpy(got, c->data, 20);
    EXPECT_EQ(got[0], -2.0f);
    EXPECT_EQ(got[4], 2.0f);
    EXPECT_EQ(f.findTensor("missing"), nullptr);
  }
}

TEST(GGUFFile, GetterErrorsNameTheKey) {
  auto fileOr = parse(sampleWriter(32).serialize());
  ASSERT_TRUE(bool(fileOr));
  const GGUFFile &f = **fileOr;
  auto missing = f.getUInt("no.such.key");
  ASSERT_FALSE(bool(missing));
  EXPECT_EQ(llvm::toString(missing.takeError()),
            "missing metadata key 'no.such.key'");
  auto wrong = f.getUInt("general.architecture");
  ASSERT_FALSE(bool(wrong));
  std::string msg = llvm::toString(wrong.takeError());
  EXPECT_NE(msg.find("'general.architecture'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("str"), std::string::npos) << msg;
  auto negative = f.getUInt("i8");
  EXPECT_FALSE(bool(negative));
  llvm::consumeError(negative.takeError());
  auto notStrings = f.getStringArray("u32s");
  EXPECT_FALSE(bool(notStrings));
  llvm::consumeError(notStrings.takeError());
  auto notString = f.getString("u8");
  EXPECT_FALSE(bool(notString));
  llvm::consumeError(notString.takeError());
}

TEST(GGUFFile, EveryTruncationIsAnError) {
  GGUFWriter w(32);
  w.setValue(
      "k", Value::makeArray(ValueType::String,
                            {Value::makeString("xy"), Value::makeString("z")}));
  // 8 floats = 32 bytes: the file ends exactly where the data ends.
  ASSERT_FALSE(bool(w.addTensorF32("t", {8}, iota(8, 0.0f))));
  std::string bytes = w.serialize();
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto file = parse(bytes.substr(0, len));
    EXPECT_FALSE(bool(file)) << "prefix of " << len << " bytes parsed";
    if (!file)
      llvm::consumeError(file.takeError());
  }
  auto whole = parse(bytes);
  EXPECT_TRUE(bool(whole));
  if (!whole)
    llvm::consumeError(whole.takeError());
}

TEST(GGUFFile, RandomCorruptionNeverCrashes) {
  std::string good = sampleWriter(32).serialize();
  std::mt19937 rng(4242);
  int parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string bytes = good;
    int flips = 1 + iter % 4;
    for (int i = 0; i < flips; ++i) {
      size_t pos = rng() % bytes.size();
      bytes[pos] = static_cast<char>(rng());
    }
    auto file = parse(bytes);
    if (file) {
      ++parsed;
      // Whatever parsed must be self-consistent: data inside the buffer.
      llvm::StringRef all = (*file)->bytes();
      const uint8_t *begin = reinterpret_cast<const uint8_t *>(all.begin());
      for (const TensorInfo &t : (*file)->tensors()) {
        EXPECT_GE(t.data, begin);
        EXPECT_LE(t.data + t.nbytes, begin + all.size());
      }
    } else {
      llvm::consumeError(file.takeError());
    }
  }
  // Flips inside tensor data leave a valid file; most others do not.
  EXPECT_GT(parsed, 0);
  EXPECT_LT(parsed, 3000);
}

TEST(GGUFFile, RejectsBadHeaders) {
  expectParseError("", "magic");
  expectParseError("GGML", "not a GGUF file");
  expectParseError(Bytes().header(0, 0, 1).s, "version 1");
  expectParseError(Bytes().header(0, 0, 4).s, "version 4");
  expectParseError(Bytes().header(0, 0, 0x03000000).s,
                   "big-endian GGUF files are not supported");
  expectParseError(Bytes().header(0, 1ull << 60).s, "metadata count");
  expectParseError(Bytes().header(1ull << 60, 0).s, "tensor count");
  // A file with no tensors and no metadata is valid.
  auto empty = parse(Bytes().header(0, 0).s);
  EXPECT_TRUE(bool(empty));
  if (!empty)
    llvm::consumeError(empty.takeError());
}

TEST(GGUFFile, RejectsBadMetadata) {
  // String length past the end.
  Bytes longKey;
  longKey.header(0, 1).put<uint64_t>(1000).s.append(40, 'k');
  expectParseError(longKey.s, "metadata key 0: needs 1000 bytes");
  expectParseError(Bytes().header(0, 1).str("k").put<uint32_t>(13).s,
                   "unknown value type 13");
  expectParseError(
      Bytes().header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2).s,
      "bool byte 2");
  // Array whose count cannot fit.
  expectParseError(Bytes()
                       .header(0, 1)
                       .str("k")
                       .put<uint32_t>(9)
                       .put<uint32_t>(4)
                       .put<uint64_t>(1ull << 40)
                       .s,
                   "cannot fit");
  expectParseError(Bytes()
                       .header(0, 1)
                       .str("k")
                       .put<uint32_t>(9)
                       .put<uint32_t>(77)
                       .put<uint64_t>(1)
                       .s,
                   "unknown array element type 77");
  // Arrays nested 9 deep.
  Bytes deep;
  deep.header(0, 1).str("k").put<uint32_t>(9);
  for (int i = 0; i < 9; ++i)
    deep.put<uint32_t>(9).put<uint64_t>(1);
  deep.put<uint32_t>(0).put<uint64_t>(0);
  expectParseError(deep.s, "nested deeper");
  Bytes dup;
  dup.header(0, 2);
  for (int i = 0; i < 2; ++i)
    dup.str("same").put<uint32_t>(4).put<uint32_t>(1);
  expectParseError(dup.s, "duplicate metadata key 'same'");
  expectParseError(Bytes()
                       .header(0, 1)
                       .str("general.alignment")
                       .put<uint32_t>(4)
                       .put<uint32_t>(24)
                       .s,
                   "power-of-two");
}

/// A one-tensor file with the given tensor-info fields.
std::string oneTensor(uint32_t nDims, llvm::ArrayRef<int64_t> ne, uint32_t type,
                      uint64_t offset, size_t dataBytes) {
  Bytes b;
  b.header(1, 0).str("w").put<uint32_t>(nDims);
  for (int64_t d : ne)
    b.put<int64_t>(d);
  b.put<uint32_t>(type).put<uint64_t>(offset).padTo(32);
  b.s.append(dataBytes, '\0');
  return b.s;
}

TEST(GGUFFile, RejectsTensorsWhoseTypeOverrunsTheirData) {
  // 'a' claims q8_0 (34 bytes for 32 elements) but 'b' starts 32 bytes in:
  // what a type id read as the wrong layout looks like.
  Bytes b;
  b.header(2, 0).str("a").put<uint32_t>(1).put<int64_t>(32);
  b.put<uint32_t>(8).put<uint64_t>(0);
  b.str("b").put<uint32_t>(1).put<int64_t>(8);
  b.put<uint32_t>(0).put<uint64_t>(32).padTo(32);
  b.s.append(64, '\0');
  expectParseError(b.s, "tensor 'a' (q8_0, ggml type id 8, {32}): its 34 "
                        "bytes at data offset 0 overlap tensor 'b'");
}

TEST(GGUFFile, RejectsBadTensorInfo) {
  // Sanity: the helper makes a valid file.
  auto ok = parse(oneTensor(2, {4, 2}, 0, 0, 32));
  ASSERT_TRUE(bool(ok)) << llvm::toString(ok.takeError());
  EXPECT_EQ((*ok)->findTensor("w")->nbytes, 32u);

  expectParseError(oneTensor(0, {}, 0, 0, 32), "0 dims");
  expectParseError(oneTensor(5, {1, 1, 1, 1, 1}, 0, 0, 32), "5 dims");
  expectParseError(oneTensor(2, {4, -2}, 0, 0, 32), "dim 1 is negative");
  expectParseError(oneTensor(1, {8}, 100, 0, 32), "unknown ggml type id 100");
  expectParseError(oneTensor(1, {8}, 100, 0, 32), "known types: f32, f16");
  // Ids one ecosystem defines that qn does not read say what they are.
  expectParseError(oneTensor(1, {8}, 40, 0, 32), "mainline llama.cpp's NVFP4");
  // Interleaved layouts need whole row groups.
  expectParseError(oneTensor(2, {32, 4}, 202, 0, 32),
                   "4 rows of q4_0_r8, which stores rows in groups of 8");
  expectParseError(oneTensor(1, {33}, 8, 0, 64),
                   "row length 33 is not a multiple of the q8_0 block size 32");
  expectParseError(oneTensor(1, {4}, 0, 8, 64), "not a multiple of the "
                                                "alignment 32");
  expectParseError(oneTensor(2, {4, 4}, 0, 0, 32),
                   "'w' (f32 {4, 4}): 64 bytes at data offset 0 run past");
  expectParseError(oneTensor(2, {1ll << 40, 1ll << 40}, 0, 0, 32), "too large");
  expectParseError(
      oneTensor(4, {1ll << 20, 1ll << 20, 1ll << 20, 1ll << 20}, 0, 0, 32),
      "too large");
  // One huge row: its byte size alone overflows 64 bits (f64, 8 bytes each).
  expectParseError(oneTensor(2, {1ll << 62, 1}, 28, 0, 32), "too large");
  // Empty tensors are fine, however large the other dims.
  auto empty = parse(oneTensor(3, {1ll << 40, 1ll << 40, 0}, 28, 0, 0));
  ASSERT_TRUE(bool(empty)) << llvm::toString(empty.takeError());
  EXPECT_EQ((*empty)->findTensor("w")->numElements(), 0);
  EXPECT_EQ((*empty)->findTensor("w")->nbytes, 0u);
  Bytes dup;
  dup.header(2, 0);
  for (int i = 0; i < 2; ++i)
    dup.str("t")
        .put<uint32_t>(1)
        .put<int64_t>(8)
        .put<uint32_t>(0)
        .put<uint64_t>(0);
  dup.padTo(32);
  dup.s.append(32, '\0');
  expectParseError(dup.s, "duplicate tensor name 't'");
}

TEST(GGUFFile, WriterRejectsInconsistentTensors) {
  GGUFWriter w;
  std::vector<uint8_t> bytes(10);
  llvm::Error wrongSize = w.addTensor("x", GGMLType::F32, {4}, bytes);
  ASSERT_TRUE(bool(wrongSize));
  EXPECT_NE(llvm::toString(std::move(wrongSize)).find("10 bytes given"),
            std::string::npos);
  llvm::Error badRow = w.addTensor("x", GGMLType::Q8_0, {16}, bytes);
  EXPECT_TRUE(bool(badRow));
  llvm::consumeError(std::move(badRow));
  llvm::Error noDims = w.addTensor("x", GGMLType::F32, {}, {});
  EXPECT_TRUE(bool(noDims));
  llvm::consumeError(std::move(noDims));
  ASSERT_FALSE(bool(w.addTensorF32("x", {1}, {1.0f})));
  llvm::Error dup = w.addTensorF32("x", {1}, {1.0f});
  EXPECT_TRUE(bool(dup));
  llvm::consumeError(std::move(dup));
}

/// Writes a 3-part split model (tensors t0..t5, two per part) into a fresh
/// directory and returns the first part's path.
std::string writeSplitModel(llvm::SmallString<128> &dir, int brokenPart = -1,
                            const char *brokenWhat = "") {
  EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("qn-split", dir));
  std::string first;
  for (int part = 0; part < 3; ++part) {
    GGUFWriter w;
    if (part == 0)
      w.setValue("general.architecture", Value::makeString("test"));
    uint64_t no = part;
    if (part == brokenPart && llvm::StringRef(brokenWhat) == "no")
      no = 0;
    w.setValue("split.no", Value::makeUInt(ValueType::UInt16, no));
    w.setValue("split.count", Value::makeUInt(ValueType::UInt16, 3));
    w.setValue("split.tensors.count", Value::makeInt(ValueType::Int32, 6));
    for (int i = 0; i < 2; ++i) {
      int id = 2 * part + i;
      if (part == brokenPart && llvm::StringRef(brokenWhat) == "dup" && i == 0)
        id = 0;
      EXPECT_FALSE(bool(w.addTensorF32("t" + std::to_string(id), {4},
                                       iota(4, 10.0f * (2 * part + i)))));
    }
    char name[64];
    std::snprintf(name, sizeof(name), "/m-%05d-of-%05d.gguf", part + 1, 3);
    std::string path = (dir + name).str();
    if (part == brokenPart && llvm::StringRef(brokenWhat) == "missing")
      continue;
    EXPECT_FALSE(bool(w.writeFile(path)));
    if (part == 0)
      first = path;
  }
  return first;
}

TEST(GGUFFile, OpensSplitModelsFromTheFirstPart) {
  llvm::SmallString<128> dir;
  std::string first = writeSplitModel(dir);
  auto file = GGUFFile::open(first);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->shardCount(), 3u);
  EXPECT_EQ(*(*file)->getString("general.architecture"), "test");
  ASSERT_EQ((*file)->tensors().size(), 6u);
  for (int id = 0; id < 6; ++id) {
    const TensorInfo *t = (*file)->findTensor("t" + std::to_string(id));
    ASSERT_NE(t, nullptr) << id;
    EXPECT_EQ(t->shard, static_cast<uint32_t>(id / 2));
    float v[4];
    std::memcpy(v, t->data, sizeof(v));
    EXPECT_EQ(v[0], 10.0f * id);
    EXPECT_EQ(v[3], 10.0f * id + 3);
  }
  // A later part alone: refused by open, readable by openSingleFile.
  std::string second = dir.str().str() + "/m-00002-of-00003.gguf";
  auto part = GGUFFile::open(second);
  ASSERT_FALSE(bool(part));
  EXPECT_NE(llvm::toString(part.takeError()).find("this is part 2 of a 3-part"),
            std::string::npos);
  auto single = GGUFFile::openSingleFile(second);
  ASSERT_TRUE(bool(single)) << llvm::toString(single.takeError());
  EXPECT_EQ((*single)->tensors().size(), 2u);
  llvm::sys::fs::remove_directories(dir);
}

TEST(GGUFFile, BrokenSplitModelsAreErrors) {
  struct Case {
    int part;
    const char *what;
    const char *needle;
  } cases[] = {
      {2, "missing", "split model part 3 of 3: "},
      {1, "no", "has split.no 0 / split.count 3, expected 1 / 3"},
      {2, "dup", "tensor 't0' is also in an earlier part"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    llvm::SmallString<128> dir;
    std::string first = writeSplitModel(dir, c.part, c.what);
    auto file = GGUFFile::open(first);
    ASSERT_FALSE(bool(file));
    std::string msg = llvm::toString(file.takeError());
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
    llvm::sys::fs::remove_directories(dir);
  }
  // A first part whose name does not follow the convention.
  llvm::SmallString<128> dir;
  std::string first = writeSplitModel(dir);
  std::string renamed = dir.str().str() + "/model.gguf";
  ASSERT_FALSE(llvm::sys::fs::rename(first, renamed));
  auto file = GGUFFile::open(renamed);
  ASSERT_FALSE(bool(file));
  EXPECT_NE(llvm::toString(file.takeError())
                .find("does not end in '-00001-of-00003.gguf'"),
            std::string::npos);
  llvm::sys::fs::remove_directories(dir);
}

TEST(GGUFFile, OpenMissingFileNamesThePath) {
  auto file = GGUFFile::open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(bool(file));
  std::string msg = llvm::toString(file.takeError());
  EXPECT_NE(msg.find("/nonexistent/dir/model.gguf"), std::string::npos) << msg;
}

TEST(GGUFFile, OpensTheFixtureModels) {
  QN_REQUIRE_FIXTURES();
  for (const char *name :
       {"models/tiny-f32.gguf", "models/tiny-f32-split.gguf",
        "models/small-f16.gguf", "models/small-q8_0.gguf",
        "models/small-q4_k_m.gguf", "tokenizer/vocab-qwen3.gguf",
        "quant/quant-types.gguf"}) {
    SCOPED_TRACE(name);
    auto file = GGUFFile::open(qn::test::fixturePath(name));
    ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
    EXPECT_EQ((*file)->version(), 3u);
    // Tensors tile the data section: each starts after the previous ends.
    uint64_t end = 0;
    for (const TensorInfo &t : (*file)->tensors()) {
      EXPECT_GE(t.offset, end) << t.name;
      end = t.offset + t.nbytes;
    }
  }
  auto tiny = GGUFFile::open(qn::test::fixturePath("models/tiny-f32.gguf"));
  ASSERT_TRUE(bool(tiny));
  const TensorInfo *embd = (*tiny)->findTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->shapeString(), "{64, 1024}");
  EXPECT_EQ(embd->type, GGMLType::F32);
  auto tokens = (*tiny)->getStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(bool(tokens)) << llvm::toString(tokens.takeError());
  EXPECT_EQ(tokens->size(), 1024u);
  EXPECT_EQ(tokens->back(), "<|im_end|>");
}

} // namespace

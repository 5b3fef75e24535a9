//===- ModelLoadTest.cpp - Model::open on altered copies of a fixture ----===//
//
// Copies tiny-f32.gguf through GGUFWriter with one metadata value changed
// and checks that Model::open refuses what the forward pass cannot run
// (with a message, never a crash), and that an unchanged copy runs exactly
// like the original.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"
#include "runtime/Context.h"
#include "runtime/Model.h"

#include "gguf/GGUFFile.h"
#include "gguf/GGUFWriter.h"

#include "llvm/Support/FileSystem.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

using namespace qn;
using namespace qn::runtime;

namespace {

class ModelLoadTest : public ::testing::Test {
protected:
  void SetUp() override {
    path = qn::test::fixturePath("models/tiny-f32.gguf");
    if (!llvm::sys::fs::exists(path))
      GTEST_SKIP() << "fixture missing: " << path;
    auto f = gguf::GGUFFile::open(path);
    ASSERT_TRUE(static_cast<bool>(f)) << llvm::toString(f.takeError());
    source = std::move(*f);
  }

  /// Writes a copy of the fixture with `key` set to the uint32 `value`
  /// (or unchanged when key is empty) and opens it as a Model.
  llvm::Expected<std::unique_ptr<Model>> openAltered(llvm::StringRef key,
                                                     uint32_t value) {
    gguf::GGUFWriter w;
    for (const auto &[k, v] : source->metadata())
      w.setValue(k, k == key
                        ? gguf::Value::makeUInt(gguf::ValueType::UInt32, value)
                        : v);
    for (const gguf::TensorInfo &t : source->tensors())
      if (llvm::Error err = w.addTensorView(
              t.name, t.type, t.ne,
              llvm::ArrayRef<uint8_t>(t.data, static_cast<size_t>(t.nbytes))))
        return std::move(err);
    llvm::SmallString<128> out;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("qn-model", "gguf", out))
      return llvm::errorCodeToError(ec);
    temp.push_back(out.str().str());
    if (llvm::Error err = w.writeFile(out))
      return std::move(err);
    return Model::open(out);
  }

  void TearDown() override {
    for (const std::string &p : temp)
      llvm::sys::fs::remove(p);
  }

  std::string path;
  std::unique_ptr<gguf::GGUFFile> source;
  std::vector<std::string> temp;
};

TEST_F(ModelLoadTest, UnchangedCopyRunsLikeTheOriginal) {
  auto copy = openAltered("", 0);
  ASSERT_TRUE(static_cast<bool>(copy)) << llvm::toString(copy.takeError());
  auto original = Model::open(path);
  ASSERT_TRUE(static_cast<bool>(original));
  std::vector<float> a, b;
  for (auto *m : {original->get(), copy->get()}) {
    auto ctx = Context::create(*m, ContextParams{});
    ASSERT_TRUE(static_cast<bool>(ctx));
    std::vector<BatchToken> batch;
    for (int32_t i = 0; i < 6; ++i)
      batch.push_back({100 * i + 7, i, 0, true});
    ASSERT_FALSE(static_cast<bool>((*ctx)->decode(batch)));
    std::vector<float> &dst = m == original->get() ? a : b;
    for (int64_t r = 0; r < (*ctx)->numOutputs(); ++r)
      dst.insert(dst.end(), (*ctx)->outputLogits(r),
                 (*ctx)->outputLogits(r) + (*ctx)->nVocab());
  }
  EXPECT_EQ(a, b);
}

TEST_F(ModelLoadTest, RefusesParametersTheForwardPassCannotRun) {
  // Each of these would divide by zero, index out of bounds or mis-shape a
  // tensor somewhere; the loader must say so instead.
  const std::pair<const char *, uint32_t> cases[] = {
      {"qwen3next.expert_used_count", 0},
      {"qwen3next.expert_used_count", 9}, // more than the 8 experts
      {"qwen3next.attention.head_count_kv", 0},
      {"qwen3next.attention.head_count_kv", 3}, // 4 heads not a multiple
      {"qwen3next.attention.key_length", 0},
      {"qwen3next.ssm.conv_kernel", 0},
      {"qwen3next.ssm.group_count", 0},
      {"qwen3next.ssm.time_step_rank", 0},
      {"qwen3next.ssm.state_size", 0},
      {"qwen3next.rope.dimension_count", 7},  // odd
      {"qwen3next.rope.dimension_count", 64}, // more than the head dim
      {"qwen3next.block_count", 0},
      {"qwen3next.block_count", 9}, // layers the file does not have
  };
  for (const auto &[key, value] : cases) {
    auto m = openAltered(key, value);
    EXPECT_FALSE(static_cast<bool>(m)) << key << " = " << value;
    if (!m) {
      std::string msg = llvm::toString(m.takeError());
      EXPECT_FALSE(msg.empty()) << key;
    }
  }
}

} // namespace

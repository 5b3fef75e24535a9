//===- StateFileChecksTest.cpp - state files from elsewhere are refused ---===//
//
// loadSequence accepts only a state saved from the same weights (the model
// fingerprint in the header, probe STATE_OTHERMODEL) with finite payload
// (probe STATE_NANPAYLOAD), and leaves the sequence unchanged when it
// refuses. Runs the direct engine on the tiny F32 fixture; the "other
// model" is a copy of it with one weight changed, so geometry and tensor
// table are identical and only the fingerprint can tell them apart.
//
//===----------------------------------------------------------------------===//

#include "gguf/GGUFFile.h"
#include "runtime/Context.h"
#include "runtime/Model.h"
#include "unittests/FixturePaths.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <vector>

using namespace qn::runtime;

namespace {

class StateFileChecksTest : public ::testing::Test {
protected:
  void SetUp() override {
    QN_REQUIRE_FIXTURES();
    fixture = qn::test::fixturePath("models/tiny-f32.gguf");
    model = openModel(fixture);
    ASSERT_TRUE(model);
    ASSERT_FALSE(
        llvm::sys::fs::createTemporaryFile("qn-state", "state", statePath));
    ASSERT_FALSE(
        llvm::sys::fs::createTemporaryFile("qn-other", "gguf", otherPath));
  }
  void TearDown() override {
    llvm::sys::fs::remove(statePath);
    llvm::sys::fs::remove(otherPath);
  }

  static std::unique_ptr<Model> openModel(const std::string &path) {
    auto m = Model::open(path);
    EXPECT_TRUE(static_cast<bool>(m)) << llvm::toString(m.takeError());
    return m ? std::move(*m) : nullptr;
  }

  static std::unique_ptr<Context> makeContext(const Model &m) {
    ContextParams p;
    p.nCtx = 64;
    p.nUBatch = 64;
    auto ctx = Context::create(m, p);
    EXPECT_TRUE(static_cast<bool>(ctx)) << llvm::toString(ctx.takeError());
    return ctx ? std::move(*ctx) : nullptr;
  }

  static void prefill(Context &ctx, int32_t n) {
    std::vector<BatchToken> batch;
    for (int32_t i = 0; i < n; ++i)
      batch.push_back({(i * 37 + 5) % 1000, i, 0, i == n - 1});
    llvm::Error err = ctx.decode(batch);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }

  /// Writes `to` with the bytes of `from`, `edit` applied.
  static void editFile(const std::string &from, llvm::StringRef to,
                       llvm::function_ref<void(std::string &)> edit) {
    auto buf = llvm::MemoryBuffer::getFile(from, /*IsText=*/false);
    ASSERT_TRUE(static_cast<bool>(buf));
    std::string bytes = (*buf)->getBuffer().str();
    buf->reset();
    edit(bytes);
    std::error_code ec;
    llvm::raw_fd_ostream os(to, ec);
    ASSERT_FALSE(ec) << ec.message();
    os << bytes;
  }

  static std::string message(llvm::Error err) {
    EXPECT_TRUE(static_cast<bool>(err));
    return llvm::toString(std::move(err));
  }

  std::string fixture;
  std::unique_ptr<Model> model;
  llvm::SmallString<128> statePath, otherPath;
};

TEST_F(StateFileChecksTest, SameWeightsLoadAgain) {
  auto ctx = makeContext(*model);
  prefill(*ctx, 6);
  ASSERT_FALSE(static_cast<bool>(ctx->saveSequence(0, statePath)));
  // Another Model object of the same file has the same fingerprint.
  auto again = openModel(fixture);
  auto ctx2 = makeContext(*again);
  llvm::Error err = ctx2->loadSequence(0, statePath);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  EXPECT_EQ(ctx2->seqLength(0), 6);
}

TEST_F(StateFileChecksTest, OtherWeightsOfSameGeometryAreRefused) {
  // One float of the last tensor changed: same keys, same tensor table.
  const qn::gguf::TensorInfo &last = model->file().tensors().back();
  const uint64_t at = model->file().dataOffset() + last.offset;
  editFile(fixture, otherPath, [&](std::string &bytes) {
    float f;
    std::memcpy(&f, &bytes[at], 4);
    f += 1.0f;
    std::memcpy(&bytes[at], &f, 4);
  });
  auto other = openModel(std::string(otherPath));
  ASSERT_TRUE(other);

  auto ctx = makeContext(*model);
  prefill(*ctx, 6);
  ASSERT_FALSE(static_cast<bool>(ctx->saveSequence(0, statePath)));
  auto otherCtx = makeContext(*other);
  prefill(*otherCtx, 3);
  std::string msg = message(otherCtx->loadSequence(0, statePath));
  EXPECT_NE(msg.find("saved from another model of the same geometry"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find(std::string(statePath)), std::string::npos) << msg;
  EXPECT_EQ(otherCtx->seqLength(0), 3); // unchanged
}

TEST_F(StateFileChecksTest, NonFinitePayloadIsRefused) {
  auto ctx = makeContext(*model);
  prefill(*ctx, 6);
  ASSERT_FALSE(static_cast<bool>(ctx->saveSequence(0, statePath)));
  const std::string saved(statePath);
  // The payload starts after the magic and 13 header words; layer 0 of the
  // tiny model is recurrent, so its first bytes are an F32 conv window.
  const size_t payload = 8 + 13 * 8;
  editFile(saved, saved, [&](std::string &bytes) {
    std::memset(&bytes[payload], 0xFF, 4); // an F32 NaN
  });
  auto fresh = makeContext(*model);
  prefill(*fresh, 2);
  std::string msg = message(fresh->loadSequence(0, statePath));
  EXPECT_NE(msg.find("holds NaN or Inf (layer 0, element 0)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(fresh->seqLength(0), 2);

  // The last bytes are the attention layer's F16 V rows: an F16 Inf there.
  ASSERT_FALSE(static_cast<bool>(ctx->saveSequence(0, statePath)));
  editFile(saved, saved, [&](std::string &bytes) {
    bytes[bytes.size() - 2] = 0x00;
    bytes[bytes.size() - 1] = 0x7C; // +Inf in F16, little-endian
  });
  msg = message(fresh->loadSequence(0, statePath));
  EXPECT_NE(msg.find("holds NaN or Inf (layer 3"), std::string::npos) << msg;
  EXPECT_EQ(fresh->seqLength(0), 2);
}

} // namespace

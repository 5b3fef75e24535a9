//===- StateFileOutputTest.cpp - saveSequence never destroys its inputs ---===//
//
// Context::saveSequence writes through support::OutputFile: a path that is
// the mapped model (by any name) is refused with the model intact, a full
// disk is an error naming the path, and a failed save leaves an older state
// file as it was. The model is a copy in a temporary directory, so a
// regression damages the copy, never the fixture.
//
//===----------------------------------------------------------------------===//

#include "runtime/Context.h"
#include "runtime/Model.h"

#include "../FixturePaths.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace qn::runtime;

namespace {

class StateFileOutputTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string fixture = qn::test::fixturePath("models/tiny-f32.gguf");
    if (!llvm::sys::fs::exists(fixture))
      GTEST_SKIP() << "fixture missing: " << fixture;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qn-state-out", dir));
    modelPath = path("m.gguf");
    ASSERT_FALSE(llvm::sys::fs::copy_file(fixture, modelPath));
    original = bytes(modelPath);
    auto m = Model::open(modelPath);
    ASSERT_TRUE(static_cast<bool>(m)) << llvm::toString(m.takeError());
    model = std::move(*m);
    ContextParams p;
    p.nCtx = 64;
    auto c = Context::create(*model, p);
    ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
    ctx = std::move(*c);
    std::vector<BatchToken> batch;
    for (int32_t i = 0; i < 5; ++i)
      batch.push_back({i + 1, i, 0, true});
    llvm::Error err = ctx->decode(batch);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  void TearDown() override {
    ctx.reset();
    model.reset();
    if (!dir.empty())
      llvm::sys::fs::remove_directories(dir);
  }

  std::string path(llvm::StringRef name) const {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
  static std::string bytes(llvm::StringRef file) {
    auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false,
                                           /*IsVolatile=*/true);
    return buf ? (*buf)->getBuffer().str() : "<missing>";
  }

  llvm::SmallString<128> dir;
  std::string modelPath, original;
  std::unique_ptr<Model> model;
  std::unique_ptr<Context> ctx;
};

// STATE_SAMEPATH: saving over the mapped model truncated it under the
// weights (SIGBUS, model cut to 110 KB).
TEST_F(StateFileOutputTest, RefusesTheMappedModelByAnyName) {
  ASSERT_FALSE(llvm::sys::fs::create_hard_link(modelPath, path("hard.gguf")));
  ASSERT_FALSE(llvm::sys::fs::create_link(modelPath, path("link.gguf")));
  for (const std::string &target :
       {modelPath, path("hard.gguf"), path("link.gguf")}) {
    llvm::Error err = ctx->saveSequence(0, target);
    ASSERT_TRUE(static_cast<bool>(err)) << target;
    std::string msg = llvm::toString(std::move(err));
    EXPECT_NE(msg.find("is the same file as the input"), std::string::npos)
        << msg;
  }
  EXPECT_TRUE(bytes(modelPath) == original);
  // The context still works on the intact weights.
  std::vector<BatchToken> next = {{6, 5, 0, true}};
  llvm::Error err = ctx->decode(next);
  EXPECT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
}

// STATE_FULL: a full disk ended in LLVM's fatal "IO failure on output
// stream"; a failed save must also leave an older state file intact.
TEST_F(StateFileOutputTest, WriteErrorsAreErrorsAndKeepTheOldState) {
  const std::string state = path("st.bin");
  llvm::Error err = ctx->saveSequence(0, state);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  const std::string saved = bytes(state);

  if (llvm::sys::fs::exists("/dev/full")) {
    err = ctx->saveSequence(0, "/dev/full");
    ASSERT_TRUE(static_cast<bool>(err));
    EXPECT_EQ(llvm::toString(std::move(err)),
              "state file: cannot write '/dev/full': No space left on device");
  }
  err = ctx->saveSequence(0, path("missing/st.bin"));
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("missing/st.bin"),
            std::string::npos);
  // A bad sequence id fails before the old file is touched.
  err = ctx->saveSequence(7, state);
  ASSERT_TRUE(static_cast<bool>(err));
  llvm::consumeError(std::move(err));
  EXPECT_TRUE(bytes(state) == saved);
}

} // namespace

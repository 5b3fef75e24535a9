//===- SequenceStateTest.cpp - sequence slots, batching, save/load -------===//
//
// The state contract of the runtime on the tiny F32 fixture model: however a
// sequence's tokens are cut into batches, interleaved with other sequences,
// copied, or saved and restored, its logits are those of one plain run.
// Every case runs on both engines: the direct one (the runtime's layer loop)
// and the compiled one (the plans codegen builds from the model's qn IR,
// run by the plan executor).
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"
#include "runtime/Context.h"
#include "runtime/Model.h"
#include "unittests/FixturePaths.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

using namespace qn::runtime;

namespace {

enum class Engine { Direct, Compiled };

class SequenceStateTest : public ::testing::TestWithParam<Engine> {
protected:
  void SetUp() override {
    std::string path = qn::test::fixturePath("models/tiny-f32.gguf");
    if (!llvm::sys::fs::exists(path))
      GTEST_SKIP() << "fixture missing: " << path;
    auto m = Model::open(path);
    ASSERT_TRUE(static_cast<bool>(m)) << llvm::toString(m.takeError());
    model = std::move(*m);
    V = model->hparams().nVocab;
    if (GetParam() == Engine::Compiled) {
      compiledF16 = compile(qn::frontend::KVCacheType::F16);
      compiledF32 = compile(qn::frontend::KVCacheType::F32);
      ASSERT_TRUE(compiledF16 && compiledF32);
    }
  }

  std::unique_ptr<qn::codegen::CompiledModel>
  compile(qn::frontend::KVCacheType kv) {
    qn::codegen::CompileOptions options;
    options.kvType = kv;
    options.jitCacheDir = ""; // no files outside the test's control
    auto compiled = qn::codegen::compileModel(model->description(), options);
    EXPECT_TRUE(static_cast<bool>(compiled))
        << llvm::toString(compiled.takeError());
    return compiled ? std::move(*compiled) : nullptr;
  }

  /// Points `p` at the compiled plans for its KV type (compiled engine).
  void useEngine(ContextParams &p) const {
    if (GetParam() != Engine::Compiled)
      return;
    const qn::codegen::CompiledModel &c =
        p.kvType == KVType::F32 ? *compiledF32 : *compiledF16;
    p.prefillProgram = &c.prefill();
    p.decodeProgram = &c.decode();
  }

  std::unique_ptr<Context> makeContext(int64_t nSeq, int64_t nUBatch,
                                       int64_t nCtx = 256) {
    ContextParams p;
    p.nSeqMax = nSeq;
    p.nUBatch = nUBatch;
    p.nCtx = nCtx;
    useEngine(p);
    auto ctx = Context::create(*model, p);
    EXPECT_TRUE(static_cast<bool>(ctx)) << llvm::toString(ctx.takeError());
    return ctx ? std::move(*ctx) : nullptr;
  }

  /// Evaluates tokens[from, to) of `seq` (positions from..to-1) in one
  /// decode call and appends every position's logits to `out`.
  void run(Context &ctx, const std::vector<int32_t> &tokens, size_t from,
           size_t to, int32_t seq, std::vector<float> &out) {
    std::vector<BatchToken> batch;
    for (size_t i = from; i < to; ++i)
      batch.push_back({tokens[i], static_cast<int32_t>(i), seq, true});
    llvm::Error err = ctx.decode(batch);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    for (int64_t r = 0; r < ctx.numOutputs(); ++r)
      out.insert(out.end(), ctx.outputLogits(r), ctx.outputLogits(r) + V);
  }

  /// One fresh sequence, the whole prompt in one ubatch.
  std::vector<float> plainRun(const std::vector<int32_t> &tokens) {
    auto ctx = makeContext(1, 512);
    std::vector<float> out;
    run(*ctx, tokens, 0, tokens.size(), 0, out);
    return out;
  }

  static double maxAbsDiff(const std::vector<float> &a,
                           const std::vector<float> &b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
  }

  std::unique_ptr<Model> model;
  std::unique_ptr<qn::codegen::CompiledModel> compiledF16, compiledF32;
  int64_t V = 0;
  // Arbitrary ids below the tiny vocabulary (1024); two distinct prompts.
  const std::vector<int32_t> promptA = {989, 796, 451, 119, 7,    92, 932,
                                        965, 13,  500, 1,   1000, 77, 640,
                                        321, 2,   88,  901, 45,   700};
  const std::vector<int32_t> promptB = {5,    17, 999, 256, 128, 64,  32,
                                        1023, 0,  311, 412, 513, 614, 715};
};

// Differences here come only from accumulation order in the kernels.
constexpr double kTol = 1e-4;

TEST_P(SequenceStateTest, PrefillThenDecodeEqualsOnePrefill) {
  std::vector<float> expected = plainRun(promptA);
  auto ctx = makeContext(1, 512);
  std::vector<float> got;
  run(*ctx, promptA, 0, 9, 0, got); // prefill
  for (size_t i = 9; i < promptA.size(); ++i)
    run(*ctx, promptA, i, i + 1, 0, got); // decode one token at a time
  EXPECT_EQ(ctx->seqLength(0), static_cast<int64_t>(promptA.size()));
  EXPECT_LT(maxAbsDiff(expected, got), kTol);
}

TEST_P(SequenceStateTest, SmallUBatchesEqualOnePrefill) {
  std::vector<float> expected = plainRun(promptA);
  auto ctx = makeContext(1, 3);
  std::vector<float> got;
  run(*ctx, promptA, 0, promptA.size(), 0, got);
  EXPECT_LT(maxAbsDiff(expected, got), kTol);
}

TEST_P(SequenceStateTest, InterleavedSequencesEqualEachAlone) {
  std::vector<float> aloneA = plainRun(promptA), aloneB = plainRun(promptB);
  // One batch alternating the two sequences, cut into ubatches of 5 so that
  // ubatches hold unequal shares of each sequence.
  auto ctx = makeContext(2, 5);
  std::vector<BatchToken> batch;
  size_t ia = 0, ib = 0;
  while (ia < promptA.size() || ib < promptB.size()) {
    if (ia < promptA.size()) {
      batch.push_back({promptA[ia], static_cast<int32_t>(ia), 0, true});
      ++ia;
    }
    if (ib < promptB.size() && (ia % 3 != 0 || ia >= promptA.size())) {
      batch.push_back({promptB[ib], static_cast<int32_t>(ib), 1, true});
      ++ib;
    }
  }
  llvm::Error err = ctx->decode(batch);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  std::vector<float> gotA, gotB;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::vector<float> &dst = batch[i].seq == 0 ? gotA : gotB;
    dst.insert(dst.end(), ctx->outputLogits(i), ctx->outputLogits(i) + V);
  }
  EXPECT_LT(maxAbsDiff(aloneA, gotA), kTol);
  EXPECT_LT(maxAbsDiff(aloneB, gotB), kTol);
}

TEST_P(SequenceStateTest, OneDecodeStepForManySequencesEqualsEachAlone) {
  // Three sequences prefilled, then one batch with the next token of each:
  // the rows share every matmul but keep their own state.
  const std::vector<std::vector<int32_t>> prompts = {
      promptA, promptB, {7, 8, 9, 10, 11, 12, 13, 14, 15}};
  auto ctx = makeContext(3, 512);
  std::vector<float> ignored;
  for (int32_t s = 0; s < 3; ++s)
    run(*ctx, prompts[s], 0, prompts[s].size() - 1, s, ignored);
  std::vector<BatchToken> step;
  for (int32_t s = 0; s < 3; ++s)
    step.push_back({prompts[s].back(),
                    static_cast<int32_t>(prompts[s].size() - 1), s, true});
  llvm::Error err = ctx->decode(step);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  for (int32_t s = 0; s < 3; ++s) {
    std::vector<float> alone = plainRun(prompts[s]);
    std::vector<float> lastAlone(alone.end() - V, alone.end());
    std::vector<float> got(ctx->outputLogits(s), ctx->outputLogits(s) + V);
    EXPECT_LT(maxAbsDiff(lastAlone, got), kTol) << "sequence " << s;
  }
}

TEST_P(SequenceStateTest, RestartInsideOneBatchEqualsFreshRun) {
  // Sequence 0 runs promptA, then restarts at position 0 with promptB, all
  // in one decode call: the second half must not see the first.
  auto ctx = makeContext(1, 512);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < promptA.size(); ++i)
    batch.push_back({promptA[i], static_cast<int32_t>(i), 0, false});
  for (size_t i = 0; i < promptB.size(); ++i)
    batch.push_back({promptB[i], static_cast<int32_t>(i), 0, true});
  llvm::Error err = ctx->decode(batch);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  std::vector<float> got;
  for (int64_t r = 0; r < ctx->numOutputs(); ++r)
    got.insert(got.end(), ctx->outputLogits(r), ctx->outputLogits(r) + V);
  EXPECT_LT(maxAbsDiff(plainRun(promptB), got), kTol);
}

TEST_P(SequenceStateTest, SaveLoadContinueEqualsRunningOn) {
  std::vector<float> expected = plainRun(promptA);
  const size_t cut = 11;
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("qn-seq", "state", path));
  {
    auto ctx = makeContext(1, 512);
    std::vector<float> ignored;
    run(*ctx, promptA, 0, cut, 0, ignored);
    llvm::Error err = ctx->saveSequence(0, path);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  }
  // A fresh context, another slot: load and continue.
  auto ctx = makeContext(2, 512);
  llvm::Error err = ctx->loadSequence(1, path);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  EXPECT_EQ(ctx->seqLength(1), static_cast<int64_t>(cut));
  std::vector<float> got;
  run(*ctx, promptA, cut, promptA.size(), 1, got);
  std::vector<float> tail(expected.begin() + cut * V, expected.end());
  EXPECT_LT(maxAbsDiff(tail, got), kTol);
  llvm::sys::fs::remove(path);
}

TEST_P(SequenceStateTest, CopyThenContinueEqualsRunningOn) {
  std::vector<float> expected = plainRun(promptA);
  auto ctx = makeContext(2, 512);
  std::vector<float> ignored;
  run(*ctx, promptA, 0, 6, 0, ignored);
  llvm::Error err = ctx->seqCopy(0, 1);
  ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
  ctx->seqReset(0);
  EXPECT_EQ(ctx->seqLength(0), 0);
  std::vector<float> got;
  run(*ctx, promptA, 6, promptA.size(), 1, got);
  std::vector<float> tail(expected.begin() + 6 * V, expected.end());
  EXPECT_LT(maxAbsDiff(tail, got), kTol);
}

TEST_P(SequenceStateTest, SeqAddHandsOutFreeSlotsOnly) {
  auto ctx = makeContext(3, 512);
  std::vector<float> ignored;
  run(*ctx, promptA, 0, 3, 1, ignored); // slot 1 used directly
  auto a = ctx->seqAdd();
  ASSERT_TRUE(static_cast<bool>(a));
  EXPECT_EQ(*a, 0);
  auto b = ctx->seqAdd();
  ASSERT_TRUE(static_cast<bool>(b));
  EXPECT_EQ(*b, 2);
  auto full = ctx->seqAdd();
  ASSERT_FALSE(static_cast<bool>(full));
  EXPECT_NE(llvm::toString(full.takeError()).find("all 3 sequence slots"),
            std::string::npos);
  ctx->seqRemove(1);
  EXPECT_EQ(ctx->seqLength(1), 0);
  auto again = ctx->seqAdd();
  ASSERT_TRUE(static_cast<bool>(again));
  EXPECT_EQ(*again, 1);
}

TEST_P(SequenceStateTest, PositionZeroRestartsASequence) {
  std::vector<float> expected = plainRun(promptB);
  auto ctx = makeContext(1, 512);
  std::vector<float> ignored, got;
  run(*ctx, promptA, 0, promptA.size(), 0, ignored);
  run(*ctx, promptB, 0, promptB.size(), 0, got);
  EXPECT_LT(maxAbsDiff(expected, got), kTol);
}

TEST_P(SequenceStateTest, RejectsBadBatchesWithoutChangingState) {
  auto ctx = makeContext(2, 512, 16);
  std::vector<float> ignored;
  run(*ctx, promptA, 0, 4, 0, ignored);
  auto expectError = [&](std::vector<BatchToken> batch, const char *what) {
    llvm::Error err = ctx->decode(batch);
    ASSERT_TRUE(static_cast<bool>(err)) << "accepted: " << what;
    std::string msg = llvm::toString(std::move(err));
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(ctx->seqLength(0), 4);
  };
  expectError({}, "empty batch");
  expectError({{1, 4, 0, true}, {1, 6, 0, true}}, "expected 5");
  expectError({{1, 2, 0, true}}, "expected 4");
  expectError({{static_cast<int32_t>(V), 4, 0, true}}, "out of range");
  expectError({{-1, 4, 0, true}}, "out of range");
  expectError({{1, 0, 2, true}}, "sequence id 2");
  expectError({{1, 16, 1, true}}, "does not fit the context");
}

TEST_P(SequenceStateTest, LoadRejectsForeignOrDamagedFiles) {
  auto ctx = makeContext(1, 512);
  std::vector<float> ignored;
  run(*ctx, promptA, 0, 5, 0, ignored);
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("qn-seq", "state", path));
  ASSERT_FALSE(static_cast<bool>(ctx->saveSequence(0, path)));

  // Another KV type means another layout: refused.
  ContextParams p32;
  p32.kvType = KVType::F32;
  p32.nCtx = 256;
  useEngine(p32);
  auto ctx32 = Context::create(*model, p32);
  ASSERT_TRUE(static_cast<bool>(ctx32));
  llvm::Error err = (*ctx32)->loadSequence(0, path);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("another model or KV type"),
            std::string::npos);

  // Truncated: refused, and the slot keeps its state.
  {
    auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
    ASSERT_TRUE(static_cast<bool>(buf));
    std::string bytes = (*buf)->getBuffer().drop_back(4).str();
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << bytes;
  }
  err = ctx->loadSequence(0, path);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("truncated"),
            std::string::npos);
  EXPECT_EQ(ctx->seqLength(0), 5);

  // Not a state file at all.
  err = ctx->loadSequence(0, qn::test::fixturePath("models/tiny-f32.gguf"));
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("not a qn sequence state"),
            std::string::npos);
  llvm::sys::fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Engines, SequenceStateTest,
                         ::testing::Values(Engine::Direct, Engine::Compiled),
                         [](const ::testing::TestParamInfo<Engine> &info) {
                           return info.param == Engine::Direct ? "Direct"
                                                               : "Compiled";
                         });

} // namespace

//===- ContextPlanTest.cpp - Context running compiled plans ---------------===//
//
// Context with a prefill and a decode plan (hand-built: embed -> ssm_in ->
// causal conv over layer 0's window -> output matmul, the prefill plan
// gathering the rows that want logits): the logits of interleaved
// sequences, cut into any ubatches, equal a per-sequence reference built
// from the runtime's ops; single-token ubatches that want logits run the
// decode plan, the others the prefill plan; a bad plan fails create.
//
//===----------------------------------------------------------------------===//

#include "PlanTestUtil.h"

#include "runtime/Context.h"
#include "runtime/ops/Conv.h"

using namespace qn::plantest;

namespace {

class ContextPlanTest : public TinyModelTest {
protected:
  /// The conv program; `decode`: static single-token shapes, all rows'
  /// logits; prefill: only the output rows'.
  Program convProgram(bool decode) {
    const int64_t D = hp().nEmbd, V = hp().nVocab;
    const int64_t C = hp().convChannels(), Kc = hp().convKernel;
    const int64_t P = 2 * hp().keyDim() + 2 * hp().ssmInner;
    const int64_t T = decode ? int64_t{1} : int64_t{kTokens};
    ProgramBuilder pb(decode ? "decode" : "prefill");
    int32_t tok = pb.input(ValueKind::Tokens, {T});
    int32_t x = pb.op(DispatchKind::Embed,
                      decode ? "inp_embd.decode" : "inp_embd.prefill",
                      {pb.weight("token_embd.weight", {V, D}), tok}, {T, D});
    int32_t p = pb.op(DispatchKind::Matmul, "qkvz",
                      {x, pb.weight("blk.0.ssm_in.weight", {P, D})}, {T, P});
    int32_t u = pb.op(DispatchKind::Copy, "u",
                      {pb.view("u.view", p, {T, C}, 0, {P, 1})}, {T, C});
    int32_t st = pb.state(StateKind::ConvWindow, 0, {C, Kc - 1});
    int32_t y = pb.scratch("conv", {T, C});
    pb.dispatch(DispatchKind::Conv1dCausal, "conv",
                {u, pb.weight("blk.0.ssm_conv1d.weight", {C, Kc}), st},
                {y, st});
    int32_t h = pb.op(DispatchKind::Copy, "h",
                      {pb.view("h.view", y, {T, D}, 0, {C, 1})}, {T, D});
    int32_t ow = pb.weight("output.weight", {V, D});
    if (decode) {
      pb.program().logits =
          pb.op(DispatchKind::Matmul, "result_output.decode", {h, ow}, {1, V});
      pb.program().singleToken = true;
    } else {
      int32_t rows = pb.input(ValueKind::OutputRows, {kOutputRows});
      int32_t g =
          pb.op(DispatchKind::Embed, "h.rows", {h, rows}, {kOutputRows, D});
      pb.program().logits = pb.op(DispatchKind::Matmul, "result_output",
                                  {g, ow}, {kOutputRows, V});
    }
    return pb.program();
  }

  /// The program's function for one whole sequence from a fresh state:
  /// the logits after every token.
  std::vector<float> reference(const std::vector<int32_t> &tokens) {
    const int64_t D = hp().nEmbd, C = hp().convChannels();
    const int64_t Kc = hp().convKernel;
    const int64_t P = 2 * hp().keyDim() + 2 * hp().ssmInner;
    const int64_t T = static_cast<int64_t>(tokens.size());
    std::vector<float> pr =
        matmulRef(model->layers()[0].ssmIn, embedRows(tokens), T);
    std::vector<float> u(T * C), y(T * C), h(T * D);
    for (int64_t t = 0; t < T; ++t)
      std::copy_n(pr.data() + t * P, C, u.data() + t * C);
    std::vector<float> state((Kc - 1) * C, 0.0f);
    causalConv1d(u.data(), T, C, Kc, model->layers()[0].ssmConv1d.data(),
                 state.data(), y.data());
    for (int64_t t = 0; t < T; ++t)
      std::copy_n(y.data() + t * C, D, h.data() + t * D);
    return matmulRef(model->output(), h, T);
  }

  std::unique_ptr<Context> makeContext(const Program *prefill,
                                       const Program *decode, int64_t nUBatch,
                                       std::string dumpDir = "") {
    ContextParams cp;
    cp.nCtx = 64;
    cp.nSeqMax = 2;
    cp.nUBatch = nUBatch;
    cp.prefillProgram = prefill;
    cp.decodeProgram = decode;
    cp.dumpDir = std::move(dumpDir);
    auto ctx = Context::create(*model, cp);
    EXPECT_TRUE(static_cast<bool>(ctx)) << llvm::toString(ctx.takeError());
    return ctx ? std::move(*ctx) : nullptr;
  }
};

TEST_F(ContextPlanTest, InterleavedSequencesMatchTheReference) {
  const int64_t V = hp().nVocab;
  Program prefill = convProgram(false), decode = convProgram(true);
  const std::vector<int32_t> s0 = {4, 8, 15, 16, 23, 42};
  const std::vector<int32_t> s1 = {100, 200, 300, 400};
  const std::vector<float> r0 = reference(s0), r1 = reference(s1);
  for (int64_t nUBatch : {1, 3, 16}) {
    SCOPED_TRACE(nUBatch);
    auto ctx = makeContext(&prefill, &decode, nUBatch);
    ASSERT_TRUE(ctx);
    // Prompt: 4 of s0 and 3 of s1 interleaved, logits of some rows only.
    std::vector<BatchToken> batch;
    for (int32_t i = 0; i < 4; ++i) {
      batch.push_back({s0[i], i, 0, i == 1 || i == 3});
      if (i < 3)
        batch.push_back({s1[i], i, 1, i == 2});
    }
    llvm::Error err = ctx->decode(batch);
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    ASSERT_EQ(ctx->numOutputs(), 3);
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(0), r0.data() + 1 * V, V), 0.0);
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(1), r1.data() + 2 * V, V), 0.0);
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(2), r0.data() + 3 * V, V), 0.0);
    // Decode steps: both sequences in one batch, then one alone.
    err = ctx->decode({{s0[4], 4, 0, true}, {s1[3], 3, 1, true}});
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(0), r0.data() + 4 * V, V), 0.0);
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(1), r1.data() + 3 * V, V), 0.0);
    err = ctx->decode({{s0[5], 5, 0, true}});
    ASSERT_FALSE(static_cast<bool>(err)) << llvm::toString(std::move(err));
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(0), r0.data() + 5 * V, V), 0.0);
  }
}

TEST_F(ContextPlanTest, SingleTokensWantingLogitsRunTheDecodePlan) {
  Program prefill = convProgram(false), decode = convProgram(true);
  DumpDir dir;
  auto ctx = makeContext(&prefill, &decode, 8, dir.str());
  ASSERT_TRUE(ctx);
  auto ran = [&](const char *name) {
    return !readDump(dir.str(), name).empty();
  };
  ASSERT_FALSE(static_cast<bool>(ctx->decode({{1, 0, 0, false}})));
  EXPECT_TRUE(ran("inp_embd.prefill"));
  EXPECT_FALSE(ran("inp_embd.decode"));
  EXPECT_FALSE(ran("result_output")); // no row wants logits
  ASSERT_FALSE(static_cast<bool>(ctx->decode({{2, 1, 0, true}})));
  EXPECT_TRUE(ran("inp_embd.decode"));
  EXPECT_TRUE(ran("result_output.decode"));
}

TEST_F(ContextPlanTest, PrefillPlanAloneRunsEveryUbatch) {
  const int64_t V = hp().nVocab;
  Program prefill = convProgram(false);
  const std::vector<int32_t> s = {9, 8, 7};
  const std::vector<float> r = reference(s);
  auto ctx = makeContext(&prefill, nullptr, 2);
  ASSERT_TRUE(ctx);
  ASSERT_FALSE(static_cast<bool>(
      ctx->decode({{9, 0, 0, true}, {8, 1, 0, true}, {7, 2, 0, true}})));
  ASSERT_EQ(ctx->numOutputs(), 3);
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(maxAbsDiff(ctx->outputLogits(i), r.data() + i * V, V), 0.0);
}

TEST_F(ContextPlanTest, BadPlanFailsCreate) {
  Program prefill = convProgram(false);
  ASSERT_EQ(prefill.values[1].kind, ValueKind::Weight);
  prefill.values[1].name = "blk.9.missing.weight";
  ContextParams cp;
  cp.nCtx = 64;
  cp.prefillProgram = &prefill;
  auto ctx = Context::create(*model, cp);
  ASSERT_FALSE(static_cast<bool>(ctx));
  std::string message = llvm::toString(ctx.takeError());
  EXPECT_NE(message.find("plan 'prefill'"), std::string::npos) << message;
  EXPECT_NE(message.find("blk.9.missing.weight"), std::string::npos) << message;
}

TEST_F(ContextPlanTest, SingleTokenPlanCannotPrefillLargerUbatches) {
  Program decode = convProgram(true);
  ContextParams cp;
  cp.nCtx = 64;
  cp.nUBatch = 4;
  cp.prefillProgram = &decode;
  auto ctx = Context::create(*model, cp);
  ASSERT_FALSE(static_cast<bool>(ctx));
  EXPECT_NE(llvm::toString(ctx.takeError()).find("takes one token"),
            std::string::npos);
}

} // namespace

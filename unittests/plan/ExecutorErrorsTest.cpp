//===- ExecutorErrorsTest.cpp - a bad program is an error, not a crash ----===//
//
// Each test breaks one thing in a small valid program and expects
// Executor::create to fail with a message naming the value or dispatch and
// the problem.
//
//===----------------------------------------------------------------------===//

#include "PlanTestUtil.h"

using namespace qn::plantest;

namespace {

class ExecutorErrorsTest : public TinyModelTest {
protected:
  /// tokens -> embed -> rms_norm -> matmul(output) as logits.
  void SetUp() override {
    TinyModelTest::SetUp();
    if (IsSkipped())
      return;
    D = hp().nEmbd, V = hp().nVocab;
    tok = pb.tokens();
    emb = pb.weight("token_embd.weight", {V, D});
    x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
    nw = pb.weight("output_norm.weight", {D});
    n = pb.op(DispatchKind::RmsNorm, "result_norm", {x, nw}, {kTokens, D});
    ow = pb.weight("output.weight", {V, D});
    logits =
        pb.op(DispatchKind::Matmul, "result_output", {n, ow}, {kTokens, V});
    pb.program().logits = logits;
  }

  Program &p() { return pb.program(); }
  Value &value(int32_t id) { return p().values[id]; }
  Dispatch &dispatch(size_t i) { return p().dispatches[i]; }

  /// Expects create to fail with every one of `parts` in the message.
  void expectError(std::initializer_list<const char *> parts,
                   KVType kv = KVType::F16) {
    std::string message = createError(p(), kv);
    ASSERT_FALSE(message.empty()) << "the program was accepted";
    for (const char *part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "'" << part << "' not in: " << message;
  }

  ProgramBuilder pb;
  int64_t D = 0, V = 0;
  int32_t tok = -1, emb = -1, x = -1, nw = -1, n = -1, ow = -1, logits = -1;
};

TEST_F(ExecutorErrorsTest, TheBaseProgramIsValid) {
  EXPECT_EQ(createError(p()), "");
}

TEST_F(ExecutorErrorsTest, UnknownWeightName) {
  value(nw).name = "blk.0.no_such.weight";
  expectError({"value #", "'blk.0.no_such.weight'", "no tensor named"});
}

TEST_F(ExecutorErrorsTest, WeightShapeMismatch) {
  value(ow).shape = {D, V};
  expectError({"'output.weight'", "shape [64, 1024]",
               "GGUF tensor is "
               "[1024, 64]"});
}

TEST_F(ExecutorErrorsTest, WeightElementTypeMismatch) {
  value(ow).type = ElementType::F16;
  expectError({"'output.weight'", "element type f16", "is f32"});
}

TEST_F(ExecutorErrorsTest, ViewPastTheEndOfItsStorage) {
  int32_t v = pb.view("shifted", x, {kTokens, D}, 1, {D, 1});
  dispatch(1).operands[0] = v;
  expectError({"'shifted'", "reach past the end of 'inp_embd'"});
}

TEST_F(ExecutorErrorsTest, ViewOfAValueThatDoesNotExist) {
  int32_t v = pb.view("dangling", x, {kTokens, D}, 0, {D, 1});
  value(v).base = 999;
  expectError({"'dangling'", "#999", "does not exist"});
}

TEST_F(ExecutorErrorsTest, ViewsInACycle) {
  int32_t a = pb.view("a", x, {kTokens, D}, 0, {D, 1});
  int32_t b = pb.view("b", a, {kTokens, D}, 0, {D, 1});
  value(a).base = b;
  expectError({"cycle"});
}

TEST_F(ExecutorErrorsTest, ElementwiseWithoutKernel) {
  int32_t y = pb.op(DispatchKind::Elementwise, "z_silu-0", {x}, {kTokens, D});
  dispatch(3).get<KernelParams>().kernelName = "prefill.z_silu-0";
  dispatch(1).operands[0] = y;
  expectError({"dispatch #3 'z_silu-0' (elementwise)",
               "kernel 'prefill.z_silu-0' has no address"});
}

TEST_F(ExecutorErrorsTest, StridedOperandOutsideCopy) {
  int32_t wide =
      pb.op(DispatchKind::Matmul, "wide",
            {x, pb.weight("blk.0.ssm_in.weight", {384, D})}, {kTokens, 384});
  dispatch(1).operands[0] = pb.view("slice", wide, {kTokens, D}, 0, {384, 1});
  expectError({"'result_norm' (rms_norm)", "'slice'", "strided view"});
}

TEST_F(ExecutorErrorsTest, ResultSharingTheSlotOfAnOperand) {
  value(logits).slot = value(n).slot;
  expectError({"'result_output' (matmul)", "shares scratch slot"});
}

TEST_F(ExecutorErrorsTest, ScratchSlotOutOfRange) {
  value(n).slot = p().numSlots;
  expectError({"'result_norm'", "slot 3 out of range"});
}

TEST_F(ExecutorErrorsTest, MatmulOperandShapesDisagree) {
  value(ow).name = "blk.0.ssm_out.weight";
  value(ow).shape = {D, 128};
  expectError({"'result_output' (matmul)", "does not fit the weight"});
}

TEST_F(ExecutorErrorsTest, WrongOperandCount) {
  dispatch(1).operands.push_back(nw);
  expectError({"'result_norm' (rms_norm)", "3 operands"});
}

TEST_F(ExecutorErrorsTest, UnknownValueIdInADispatch) {
  dispatch(2).operands[1] = 12345;
  expectError({"'result_output'", "#12345 does not exist"});
}

TEST_F(ExecutorErrorsTest, LogitsNotOverTheVocabulary) {
  p().logits = n;
  expectError({"'result_norm'", "logits"});
}

TEST_F(ExecutorErrorsTest, ConvStateOfAFullAttentionLayer) {
  const int64_t C = hp().convChannels(), Kc = hp().convKernel;
  pb.state(StateKind::ConvWindow, 3, {C, Kc - 1});
  expectError({"conv_window of layer 3", "full-attention layer"});
}

TEST_F(ExecutorErrorsTest, CacheTypeDisagreesWithTheContext) {
  pb.state(StateKind::KeyCache, 3, {kContextRows, hp().nHeadKV, hp().headDim},
           ElementType::F16);
  expectError({"key_cache", "f16", "f32"}, KVType::F32);
}

TEST_F(ExecutorErrorsTest, ConvKernelOfTheWrongShape) {
  const int64_t C = hp().convChannels(), Kc = hp().convKernel;
  int32_t st = pb.state(StateKind::ConvWindow, 0, {C, Kc - 1});
  int32_t u = pb.scratch("u", {kTokens, C});
  int32_t y = pb.scratch("y", {kTokens, C});
  // u is never written: fine for create, which checks shapes only.
  pb.dispatch(DispatchKind::Conv1dCausal, "conv_output_raw-0",
              {u, pb.weight("blk.0.ssm_dt.bias", {hp().ssmTimeStepRank}), st},
              {y, st});
  expectError({"'conv_output_raw-0' (conv1d_causal)", "the kernel"});
}

TEST_F(ExecutorErrorsTest, StateReadByAStatelessDispatch) {
  int32_t st = pb.state(StateKind::DeltaMatrix, 0,
                        {hp().ssmTimeStepRank, hp().ssmState, hp().headVDim()});
  pb.op(DispatchKind::Copy, "peek", {st},
        {hp().ssmTimeStepRank, hp().ssmState, hp().headVDim()});
  expectError({"'peek' (copy)", "is a state"});
}

TEST_F(ExecutorErrorsTest, AttentionPositionsThatAreNotThePositionsInput) {
  const int64_t Hq = hp().nHead, Hkv = hp().nHeadKV, Dh = hp().headDim;
  int32_t qa = pb.scratch("Qaux-3", {kTokens, 2 * Hq * Dh});
  int32_t k = pb.scratch("Kcur-3", {kTokens, Hkv * Dh});
  int32_t v = pb.scratch("Vcur-3", {kTokens, Hkv * Dh});
  int32_t kc = pb.state(StateKind::KeyCache, 3, {kContextRows, Hkv, Dh},
                        ElementType::F16);
  int32_t vc = pb.state(StateKind::ValueCache, 3, {kContextRows, Hkv, Dh},
                        ElementType::F16);
  int32_t o = pb.scratch("qkv_gated-3", {kTokens, Hq * Dh});
  Dispatch &ga =
      pb.dispatch(DispatchKind::GatedAttention, "qkv_gated-3",
                  {qa, k, v, pb.weight("blk.3.attn_q_norm.weight", {Dh}),
                   pb.weight("blk.3.attn_k_norm.weight", {Dh}), tok, kc, vc},
                  {o, kc, vc});
  auto &gp = ga.get<AttentionParams>();
  gp.numHeads = Hq, gp.numKvHeads = Hkv, gp.headDim = Dh;
  gp.ropeDims = hp().ropeDims;
  // The token ids would index the caches' rows.
  expectError({"'qkv_gated-3' (gated_attention)", "'tokens'",
               "not the positions input"});
  p().dispatches.back().operands[5] = pb.positions();
  EXPECT_EQ(createError(p()), "");
}

TEST_F(ExecutorErrorsTest, UnknownDispatchKind) {
  dispatch(1).kind = static_cast<DispatchKind>(99);
  expectError({"unknown dispatch kind 99"});
}

} // namespace

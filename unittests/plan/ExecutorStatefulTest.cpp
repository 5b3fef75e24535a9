//===- ExecutorStatefulTest.cpp - per-sequence dispatches -----------------===//
//
// Conv1dCausal, GatedDeltaNet and GatedAttention over ubatches of two
// sequences with their own (random) state, against the runtime's reference
// ops (causalConv1d, deltaHeadRecurrent) or the direct engine's attention
// block, called per sequence.
//
//===----------------------------------------------------------------------===//

#include "PlanTestUtil.h"

#include "runtime/ThreadPool.h"
#include "runtime/layers/Layers.h"
#include "runtime/ops/Conv.h"
#include "runtime/ops/Norms.h"

using namespace qn::plantest;

namespace {

template <int R> struct Memref {
  float *allocated, *aligned;
  int64_t offset;
  int64_t sizes[R], strides[R];
};

/// out = 1 / (1 + exp(-in)) over a contiguous [n x m].
extern "C" void testSigmoid(Memref<2> *in, Memref<2> *out) {
  const int64_t n = out->sizes[0] * out->sizes[1];
  for (int64_t i = 0; i < n; ++i)
    out->aligned[i] = 1.0f / (1.0f + std::exp(-in->aligned[i]));
}

/// out = -log(1 + exp(in)): a log-decay <= 0.
extern "C" void testDecay(Memref<2> *in, Memref<2> *out) {
  const int64_t n = out->sizes[0] * out->sizes[1];
  for (int64_t i = 0; i < n; ++i)
    out->aligned[i] = -std::log(1.0f + std::exp(in->aligned[i]));
}

double worstRelative(const std::vector<float> &a, const std::vector<float> &b) {
  double scale = 0;
  for (float x : b)
    scale = std::max(scale, std::fabs(static_cast<double>(x)));
  return maxAbsDiff(a.data(), b.data(), b.size()) / std::max(scale, 1e-30);
}

using ExecutorStatefulTest = TinyModelTest;

TEST_F(ExecutorStatefulTest, ConvPerGroupWithCarriedWindows) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  const int64_t C = hp().convChannels(), Kc = hp().convKernel;
  const int64_t P = hp().ssmInner * 2 + hp().keyDim() * 2; // ssm_in rows
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t win = pb.weight("blk.0.ssm_in.weight", {P, D});
  int32_t p = pb.op(DispatchKind::Matmul, "qkvz", {x, win}, {kTokens, P});
  int32_t uv = pb.view("u.view", p, {kTokens, C}, 0, {P, 1});
  int32_t u = pb.op(DispatchKind::Copy, "u", {uv}, {kTokens, C});
  int32_t cw = pb.weight("blk.0.ssm_conv1d.weight", {C, Kc});
  int32_t st = pb.state(StateKind::ConvWindow, 0, {C, Kc - 1});
  int32_t y = pb.scratch("conv_output_raw-0", {kTokens, C});
  pb.dispatch(DispatchKind::Conv1dCausal, "conv_output_raw-0", {u, cw, st},
              {y, st});
  int32_t y2 =
      pb.op(DispatchKind::Copy, "y2",
            {pb.view("y2.view", y, {kTokens, D}, 0, {C, 1})}, {kTokens, D});
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {y2, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  // Two sequences with random carried windows: rows 0-2 and 3-4.
  SequenceSlot a = freshSlot(64), b = freshSlot(64);
  a.conv[0] = randomFloats(a.conv[0].size(), 1);
  b.conv[0] = randomFloats(b.conv[0].size(), 2);
  std::vector<float> stateA = a.conv[0], stateB = b.conv[0];
  const std::vector<int32_t> tokens = {3, 1000, 42, 77, 512};
  const std::vector<int32_t> pos = {7, 8, 9, 0, 1};
  std::vector<SeqGroup> groups = {{&a, 0, 3}, {&b, 3, 2}};
  std::vector<float> logits(V);
  DumpDir dir;
  e->run(tokens, pos, groups, {4}, logits.data(), nullptr, dir.dumper());

  const int64_t T = 5;
  std::vector<float> pr =
      matmulRef(model->layers()[0].ssmIn, embedRows(tokens), T);
  std::vector<float> ur(static_cast<size_t>(T * C)), yr(ur.size());
  for (int64_t t = 0; t < T; ++t)
    std::copy_n(pr.data() + t * P, C, ur.data() + t * C);
  const float *w = model->layers()[0].ssmConv1d.data();
  causalConv1d(ur.data(), 3, C, Kc, w, stateA.data(), yr.data());
  causalConv1d(ur.data() + 3 * C, 2, C, Kc, w, stateB.data(),
               yr.data() + 3 * C);
  std::vector<float> yd = readDump(dir.str(), "conv_output_raw-0");
  ASSERT_EQ(yd.size(), yr.size());
  EXPECT_LE(maxAbsDiff(yd.data(), yr.data(), yr.size()), 1e-6);
  EXPECT_EQ(a.conv[0], stateA);
  EXPECT_EQ(b.conv[0], stateB);
}

/// The delta net program: q, k, v from ssm_in, g and beta from ssm_ba
/// through hand-written elementwise kernels, then GatedDeltaNet (impl,
/// recurrent below).
class DeltaNetDispatchTest
    : public TinyModelTest,
      public ::testing::WithParamInterface<std::pair<int, int>> {};

TEST_P(DeltaNetDispatchTest, MatchesRecurrentReferencePerGroup) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  const int64_t Hk = hp().ssmGroupCount, Hv = hp().ssmTimeStepRank;
  const int64_t dk = hp().ssmState, dv = hp().headVDim();
  const int64_t Ck = hp().keyDim(), Cv = hp().ssmInner;
  const int64_t P = 2 * Ck + 2 * Cv;
  ASSERT_EQ(Hk, 1) << "the views below assume the tiny model's one key head";
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t p =
      pb.op(DispatchKind::Matmul, "qkvz",
            {x, pb.weight("blk.0.ssm_in.weight", {P, D})}, {kTokens, P});
  auto piece = [&](const char *name, int64_t offset, int64_t heads,
                   int64_t size) {
    int32_t v = pb.view(std::string(name) + ".view", p, {kTokens, heads, size},
                        offset, {P, size, 1});
    return pb.op(DispatchKind::Copy, name, {v}, {kTokens, heads, size});
  };
  int32_t qc = piece("q_raw", 0, Hk, dk), kc = piece("k_raw", Ck, Hk, dk);
  int32_t v = piece("v", 2 * Ck, Hv, dv);
  const float eps = static_cast<float>(hp().rmsEps);
  int32_t q = pb.op(DispatchKind::L2Norm, "q_fused-0", {qc}, {kTokens, Hk, dk});
  pb.program().dispatches.back().get<NormParams>().epsilon = eps;
  int32_t k = pb.op(DispatchKind::L2Norm, "k_fused-0", {kc}, {kTokens, Hk, dk});
  pb.program().dispatches.back().get<NormParams>().epsilon = eps;
  int32_t ba = pb.op(DispatchKind::Matmul, "ba",
                     {x, pb.weight("blk.0.ssm_ba.weight", {2 * Hv, D})},
                     {kTokens, 2 * Hv});
  int32_t br = pb.op(DispatchKind::Copy, "b_raw",
                     {pb.view("b.view", ba, {kTokens, Hv}, 0, {2 * Hv, 1})},
                     {kTokens, Hv});
  int32_t ar = pb.op(DispatchKind::Copy, "a_raw",
                     {pb.view("a.view", ba, {kTokens, Hv}, Hv, {2 * Hv, 1})},
                     {kTokens, Hv});
  int32_t beta =
      pb.op(DispatchKind::Elementwise, "beta-0", {br}, {kTokens, Hv});
  pb.program().dispatches.back().get<KernelParams>().kernel =
      reinterpret_cast<void *>(&testSigmoid);
  int32_t g = pb.op(DispatchKind::Elementwise, "g_in-0", {ar}, {kTokens, Hv});
  pb.program().dispatches.back().get<KernelParams>().kernel =
      reinterpret_cast<void *>(&testDecay);
  int32_t st = pb.state(StateKind::DeltaMatrix, 0, {Hv, dk, dv});
  int32_t o = pb.scratch("attn_output-0", {kTokens, Hv, dv});
  Dispatch &dn = pb.dispatch(DispatchKind::GatedDeltaNet, "attn_output-0",
                             {q, k, v, g, beta, st}, {o, st});
  auto &dp = dn.get<DeltaNetParams>();
  dp.impl = static_cast<DeltaImpl>(GetParam().first);
  dp.recurrentBelow = GetParam().second;
  dp.stateClamp = 1e6f;
  int32_t o2 = pb.view("o2", o, {kTokens, Hv * dv}, 0, {Hv * dv, 1});
  int32_t m =
      pb.op(DispatchKind::Matmul, "linear_attn_out-0",
            {o2, pb.weight("blk.0.ssm_out.weight", {D, Cv})}, {kTokens, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output",
            {m, pb.weight("output.weight", {V, D})}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  // Heads spread over a pool.
  ThreadPool pool(2);
  SequenceSlot a = freshSlot(64), b = freshSlot(64);
  a.delta[0] = randomFloats(a.delta[0].size(), 3, 0.1f);
  b.delta[0] = randomFloats(b.delta[0].size(), 4, 0.1f);
  std::vector<float> stateA = a.delta[0], stateB = b.delta[0];
  const std::vector<int32_t> tokens = {9, 99, 999, 19, 29, 39, 49};
  const std::vector<int32_t> pos = {0, 1, 2, 3, 10, 11, 12};
  std::vector<SeqGroup> groups = {{&a, 0, 4}, {&b, 4, 3}};
  std::vector<float> logits(V);
  DumpDir dir;
  e->run(tokens, pos, groups, {6}, logits.data(), &pool, dir.dumper());

  // Reference: the inputs by hand, then the recurrent form per head.
  const int64_t T = 7;
  std::vector<float> xr = embedRows(tokens);
  std::vector<float> pr = matmulRef(model->layers()[0].ssmIn, xr, T);
  std::vector<float> bar = matmulRef(model->layers()[0].ssmBA, xr, T);
  std::vector<float> qr(T * dk), kr(T * dk), vr(T * Hv * dv), gr(T * Hv),
      betar(T * Hv), outr(T * Hv * dv);
  for (int64_t t = 0; t < T; ++t) {
    l2Norm(pr.data() + t * P, dk, eps, qr.data() + t * dk);
    l2Norm(pr.data() + t * P + Ck, dk, eps, kr.data() + t * dk);
    std::copy_n(pr.data() + t * P + 2 * Ck, Hv * dv, vr.data() + t * Hv * dv);
    for (int64_t h = 0; h < Hv; ++h) {
      betar[t * Hv + h] = 1.0f / (1.0f + std::exp(-bar[t * 2 * Hv + h]));
      gr[t * Hv + h] = -std::log(1.0f + std::exp(bar[t * 2 * Hv + Hv + h]));
    }
  }
  for (auto [begin, count, state] :
       {std::tuple{int64_t{0}, int64_t{4}, &stateA}, {4, 3, &stateB}})
    for (int64_t h = 0; h < Hv; ++h) {
      DeltaHeadArgs r;
      r.T = count, r.dk = dk, r.dv = dv;
      r.q = qr.data() + begin * dk, r.k = kr.data() + begin * dk;
      r.qkStride = dk;
      r.v = vr.data() + begin * Hv * dv + h * dv, r.vStride = Hv * dv;
      r.g = gr.data() + begin * Hv + h, r.beta = betar.data() + begin * Hv + h;
      r.gStride = Hv;
      r.M = state->data() + h * dk * dv;
      r.out = outr.data() + begin * Hv * dv + h * dv, r.outStride = Hv * dv;
      deltaHeadRecurrent(r);
    }
  std::vector<float> od = readDump(dir.str(), "attn_output-0");
  ASSERT_EQ(od.size(), outr.size());
  EXPECT_LE(worstRelative(od, outr), 1e-5);
  EXPECT_LE(worstRelative(a.delta[0], stateA), 1e-5);
  EXPECT_LE(worstRelative(b.delta[0], stateB), 1e-5);
  if (GetParam().first == 0) { // the same function: exactly
    EXPECT_EQ(od, outr);
    EXPECT_EQ(a.delta[0], stateA);
  }
}

// impl: recurrent, chunked, fused; fused with groups of fewer than 3 (the
// CPU cost table's threshold) or 4 tokens recurrent.
INSTANTIATE_TEST_SUITE_P(Impls, DeltaNetDispatchTest,
                         ::testing::Values(std::pair{0, 0}, std::pair{1, 0},
                                           std::pair{2, 0}, std::pair{2, 3},
                                           std::pair{2, 4}));

/// GatedAttention between the projections of layer 3, against the direct
/// engine's fullAttention block, over two calls (the caches carry over).
class AttentionDispatchTest : public TinyModelTest,
                              public ::testing::WithParamInterface<KVType> {};

TEST_P(AttentionDispatchTest, MatchesDirectBlockAcrossUbatches) {
  const KVType kv = GetParam();
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  const int64_t Hq = hp().nHead, Hkv = hp().nHeadKV, Dh = hp().headDim;
  ASSERT_FALSE(hp().isRecurrent[3]);
  const float eps = static_cast<float>(hp().rmsEps);
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t pos = pb.positions();
  int32_t x =
      pb.op(DispatchKind::Embed, "inp_embd",
            {pb.weight("token_embd.weight", {V, D}), tok}, {kTokens, D});
  int32_t n =
      pb.op(DispatchKind::RmsNorm, "attn_norm-3",
            {x, pb.weight("blk.3.attn_norm.weight", {D})}, {kTokens, D});
  pb.program().dispatches.back().get<NormParams>().epsilon = eps;
  auto proj = [&](const char *name, const char *w, int64_t rows) {
    return pb.op(DispatchKind::Matmul, name,
                 {n, pb.weight(std::string("blk.3.") + w, {rows, D})},
                 {kTokens, rows});
  };
  int32_t qa = proj("Qaux-3", "attn_q.weight", 2 * Hq * Dh);
  int32_t k = proj("Kcur-3", "attn_k.weight", Hkv * Dh);
  int32_t v = proj("Vcur-3", "attn_v.weight", Hkv * Dh);
  const ElementType cacheType =
      kv == KVType::F16 ? ElementType::F16 : ElementType::F32;
  int32_t kc =
      pb.state(StateKind::KeyCache, 3, {kContextRows, Hkv, Dh}, cacheType);
  int32_t vc =
      pb.state(StateKind::ValueCache, 3, {kContextRows, Hkv, Dh}, cacheType);
  int32_t o = pb.scratch("qkv_gated-3", {kTokens, Hq * Dh});
  Dispatch &ga =
      pb.dispatch(DispatchKind::GatedAttention, "qkv_gated-3",
                  {qa, k, v, pb.weight("blk.3.attn_q_norm.weight", {Dh}),
                   pb.weight("blk.3.attn_k_norm.weight", {Dh}), pos, kc, vc},
                  {o, kc, vc});
  auto &gp = ga.get<AttentionParams>();
  gp.numHeads = Hq, gp.numKvHeads = Hkv, gp.headDim = Dh;
  gp.ropeDims = hp().ropeDims;
  gp.ropeBase = static_cast<float>(hp().ropeBase), gp.epsilon = eps;
  int32_t out = pb.op(DispatchKind::Matmul, "attn_out-3",
                      {o, pb.weight("blk.3.attn_output.weight", {D, Hq * Dh})},
                      {kTokens, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output",
            {out, pb.weight("output.weight", {V, D})}, {kTokens, V});
  const int64_t nCtx = 64;
  // Attention items over a pool of two threads (scratch for two).
  auto created = Executor::create(*model, pb.program(), 16, kv, nCtx, 2);
  ASSERT_TRUE(static_cast<bool>(created))
      << llvm::toString(created.takeError());
  std::unique_ptr<Executor> e = std::move(*created);
  ThreadPool pool(2);

  // Plan slots and direct-engine slots, each pair starting equal.
  SequenceSlot a = freshSlot(nCtx, kv), b = freshSlot(nCtx, kv);
  SequenceSlot ra = freshSlot(nCtx, kv), rb = freshSlot(nCtx, kv);
  Workspace ws;
  ws.allocate(hp(), 16, nCtx, 1);
  struct Step {
    std::vector<int32_t> tokens, pos;
    int64_t countA;
  };
  const Step steps[] = {{{5, 6, 7, 8, 9}, {0, 1, 2, 0, 1}, 3},
                        {{10, 11}, {3, 2}, 1}};
  for (const Step &s : steps) {
    const int64_t T = static_cast<int64_t>(s.tokens.size());
    std::vector<SeqGroup> groups = {{&a, 0, s.countA},
                                    {&b, s.countA, T - s.countA}};
    std::vector<float> logits(V);
    DumpDir dir;
    e->run(s.tokens, s.pos, groups, {0}, logits.data(), nullptr, dir.dumper());

    std::vector<float> xr = embedRows(s.tokens), nr(xr.size()), outr(xr.size());
    rmsNormRows(xr.data(), model->layers()[3].attnNorm.data(), T, D, eps,
                nr.data());
    std::vector<SeqGroup> refGroups = {{&ra, 0, s.countA},
                                       {&rb, s.countA, T - s.countA}};
    const Dumper none;
    LayerContext lc{*model, model->layers()[3], 3, refGroups, ws, nullptr, none,
                    kv};
    fullAttention(lc, nr.data(), s.pos.data(), T, outr.data());
    std::vector<float> od = readDump(dir.str(), "attn_out-3");
    ASSERT_EQ(od.size(), outr.size());
    EXPECT_EQ(od, outr);
  }
  EXPECT_EQ(a.keys[3], ra.keys[3]);
  EXPECT_EQ(a.values[3], ra.values[3]);
  EXPECT_EQ(b.keys[3], rb.keys[3]);
  EXPECT_EQ(b.values[3], rb.values[3]);
}

INSTANTIATE_TEST_SUITE_P(KV, AttentionDispatchTest,
                         ::testing::Values(KVType::F16, KVType::F32));

} // namespace

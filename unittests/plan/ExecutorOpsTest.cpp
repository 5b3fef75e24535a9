//===- ExecutorOpsTest.cpp - stateless dispatches vs the runtime's ops ----===//
//
// Hand-built programs on the tiny F32 model; each expected value comes from
// the runtime's ops called directly on the same inputs (Model::embed,
// rmsNormRows, matmul with the model's own weight views, moeFFN), so a
// wrong binding, operand order, view offset, stride or row count shows.
//
//===----------------------------------------------------------------------===//

#include "PlanTestUtil.h"

#include "runtime/layers/Layers.h"
#include "runtime/ops/Norms.h"

#include <cstring>

using namespace qn::plantest;

namespace {

/// A memref descriptor of rank R as MLIR's C interface passes it.
template <int R> struct Memref {
  float *allocated, *aligned;
  int64_t offset;
  int64_t sizes[R], strides[R];
};

Memref<2> seenX, seenOut;
Memref<1> seenBias;

/// out = (x + bias) * 2, bias broadcast over rows; records its descriptors.
extern "C" void testAddBiasTwice(Memref<2> *x, Memref<1> *bias,
                                 Memref<2> *out) {
  seenX = *x, seenBias = *bias, seenOut = *out;
  for (int64_t i = 0; i < out->sizes[0]; ++i)
    for (int64_t j = 0; j < out->sizes[1]; ++j)
      out->aligned[out->offset + i * out->strides[0] + j * out->strides[1]] =
          (x->aligned[x->offset + i * x->strides[0] + j * x->strides[1]] +
           bias->aligned[bias->offset + j * bias->strides[0]]) *
          2.0f;
}

/// out[t][h][j] = a[t][h][j] * b[t][h][j] + c[0][j] (rank 3, c broadcast).
extern "C" void testMulAdd3(Memref<3> *a, Memref<3> *b, Memref<2> *c,
                            Memref<3> *out) {
  for (int64_t t = 0; t < out->sizes[0]; ++t)
    for (int64_t h = 0; h < out->sizes[1]; ++h)
      for (int64_t j = 0; j < out->sizes[2]; ++j) {
        auto at = [&](auto *m) {
          return m->aligned[m->offset + t * m->strides[0] + h * m->strides[1] +
                            j * m->strides[2]];
        };
        out->aligned[out->offset + t * out->strides[0] + h * out->strides[1] +
                     j * out->strides[2]] =
            at(a) * at(b) + c->aligned[c->offset + j * c->strides[1]];
      }
}

class ExecutorOpsTest : public TinyModelTest {
protected:
  /// One sequence, positions 0..T-1, a fresh slot.
  std::vector<float> run(Executor &e, const std::vector<int32_t> &tokens,
                         const std::vector<int32_t> &rows,
                         const Dumper &dump = Dumper()) {
    std::vector<int32_t> pos(tokens.size());
    for (size_t t = 0; t < pos.size(); ++t)
      pos[t] = static_cast<int32_t>(t);
    SequenceSlot slot = freshSlot(64);
    SeqGroup g{&slot, 0, static_cast<int64_t>(tokens.size())};
    std::vector<float> logits(std::max<size_t>(rows.size(), 1) * hp().nVocab);
    e.run(tokens, pos, g, rows, logits.data(), nullptr, dump);
    logits.resize(rows.size() * hp().nVocab);
    return logits;
  }
};

TEST_F(ExecutorOpsTest, EmbedNormViewCopyMatmul) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t nw = pb.weight("blk.0.attn_norm.weight", {D});
  int32_t n =
      pb.op(DispatchKind::RmsNorm, "attn_norm-0", {x, nw}, {kTokens, D});
  pb.program().dispatches.back().get<NormParams>().epsilon =
      static_cast<float>(hp().rmsEps);
  int32_t win = pb.weight("blk.0.ssm_in.weight", {384, D});
  int32_t p = pb.op(DispatchKind::Matmul, "qkvz-0", {n, win}, {kTokens, 384});
  int32_t sl = pb.view("key-0", p, {kTokens, D}, 64, {384, 1});
  int32_t c = pb.op(DispatchKind::Copy, "key-0.copy", {sl}, {kTokens, D});
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {c, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {5, 900, 17, 3, 256};
  DumpDir dir;
  std::vector<float> got = run(*e, tokens, {1, 4}, dir.dumper());

  // Reference: the same steps with the runtime's functions.
  const int64_t T = static_cast<int64_t>(tokens.size());
  std::vector<float> xr = embedRows(tokens), nr(xr.size());
  rmsNormRows(xr.data(), model->layers()[0].attnNorm.data(), T, D,
              static_cast<float>(hp().rmsEps), nr.data());
  std::vector<float> pr = matmulRef(model->layers()[0].ssmIn, nr, T);
  std::vector<float> cr(static_cast<size_t>(T * D));
  for (int64_t t = 0; t < T; ++t)
    std::copy_n(pr.data() + t * 384 + 64, D, cr.data() + t * D);
  std::vector<float> lr = matmulRef(model->output(), cr, T);
  ASSERT_EQ(got.size(), static_cast<size_t>(2 * V));
  EXPECT_EQ(maxAbsDiff(got.data(), lr.data() + 1 * V, V), 0.0);
  EXPECT_EQ(maxAbsDiff(got.data() + V, lr.data() + 4 * V, V), 0.0);

  // Dumps: each dispatch's result under its name.
  std::vector<float> dn = readDump(dir.str(), "attn_norm-0");
  ASSERT_EQ(dn.size(), nr.size());
  EXPECT_EQ(maxAbsDiff(dn.data(), nr.data(), nr.size()), 0.0);
  EXPECT_EQ(readDump(dir.str(), "result_output").size(),
            static_cast<size_t>(T * V));
}

// A matmul with a fused residual (qn-fuse-epilogues): r + x W^T in one
// dispatch, against the plain product plus r; a residual of the wrong
// shape is refused at bind time.
TEST_F(ExecutorOpsTest, MatmulWithResidualAddsTheProduct) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t win = pb.weight("blk.0.ssm_in.weight", {384, D});
  int32_t p = pb.op(DispatchKind::Matmul, "qkvz-0", {x, win}, {kTokens, 384});
  int32_t c = pb.op(DispatchKind::Copy, "v-0",
                    {pb.view("v.view", p, {kTokens, 128}, 128, {384, 1})},
                    {kTokens, 128});
  int32_t wo = pb.weight("blk.0.ssm_out.weight", {D, 128});
  int32_t h =
      pb.op(DispatchKind::Matmul, "ssm_output-0", {c, wo, x}, {kTokens, D});
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {h, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {5, 900, 17, 3, 256, 77, 1};
  std::vector<float> got = run(*e, tokens, {0, 6});
  const int64_t T = static_cast<int64_t>(tokens.size());
  std::vector<float> xr = embedRows(tokens);
  std::vector<float> pr = matmulRef(model->layers()[0].ssmIn, xr, T);
  std::vector<float> cr(static_cast<size_t>(T * 128));
  for (int64_t t = 0; t < T; ++t)
    std::copy_n(pr.data() + t * 384 + 128, 128, cr.data() + t * 128);
  std::vector<float> hr = matmulRef(model->layers()[0].ssmOut, cr, T);
  for (size_t i = 0; i < hr.size(); ++i)
    hr[i] += xr[i];
  std::vector<float> lr = matmulRef(model->output(), hr, T);
  ASSERT_EQ(got.size(), static_cast<size_t>(2 * V));
  // The sum is formed in another order (r first): a few ulp of O(1) values.
  EXPECT_LT(maxAbsDiff(got.data(), lr.data(), V), 1e-4);
  EXPECT_LT(maxAbsDiff(got.data() + V, lr.data() + 6 * V, V), 1e-4);

  // A residual that is not the result's shape.
  pb.program().dispatches[3].operands[2] = c;
  EXPECT_NE(createError(pb.program()).find("the residual"), std::string::npos)
      << createError(pb.program());
}

TEST_F(ExecutorOpsTest, OutputRowsGatherActivationRows) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t rows = pb.input(ValueKind::OutputRows, {kOutputRows});
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t g =
      pb.op(DispatchKind::Embed, "l_out-3.rows", {x, rows}, {kOutputRows, D});
  int32_t nw = pb.weight("output_norm.weight", {D});
  int32_t n =
      pb.op(DispatchKind::RmsNorm, "result_norm", {g, nw}, {kOutputRows, D});
  pb.program().dispatches.back().get<NormParams>().epsilon =
      static_cast<float>(hp().rmsEps);
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {n, ow}, {kOutputRows, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {11, 12, 13, 14};
  std::vector<float> got = run(*e, tokens, {0, 3});
  std::vector<float> xr = embedRows({11, 14}), nr(xr.size());
  rmsNormRows(xr.data(), model->outputNorm().data(), 2, D,
              static_cast<float>(hp().rmsEps), nr.data());
  std::vector<float> lr = matmulRef(model->output(), nr, 2);
  ASSERT_EQ(got.size(), lr.size());
  EXPECT_EQ(maxAbsDiff(got.data(), lr.data(), lr.size()), 0.0);

  // No row wants logits: the head's dispatches have nothing to do.
  EXPECT_TRUE(run(*e, tokens, {}).empty());
}

TEST_F(ExecutorOpsTest, ElementwiseKernelGetsRankExactDescriptors) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t bias = pb.weight("blk.0.attn_norm.weight", {D});
  int32_t y =
      pb.op(DispatchKind::Elementwise, "biased", {x, bias}, {kTokens, D});
  pb.program().dispatches.back().get<KernelParams>().kernelName =
      "testAddBiasTwice";
  pb.program().dispatches.back().get<KernelParams>().kernel =
      reinterpret_cast<void *>(&testAddBiasTwice);
  // A rank-3 kernel of three operands over views of y and x (contiguous
  // reshapes) and a broadcast [1, 32] operand.
  int32_t y3 = pb.view("y3", y, {kTokens, 2, 32}, 0, {64, 32, 1});
  int32_t x3 = pb.view("x3", x, {kTokens, 2, 32}, 0, {64, 32, 1});
  int32_t qn = pb.weight("blk.3.attn_q_norm.weight", {32});
  int32_t c = pb.view("c", qn, {1, 32}, 0, {32, 1});
  int32_t z =
      pb.op(DispatchKind::Elementwise, "muladd", {y3, x3, c}, {kTokens, 2, 32});
  pb.program().dispatches.back().get<KernelParams>().kernel =
      reinterpret_cast<void *>(&testMulAdd3);
  int32_t z2 = pb.view("z2", z, {kTokens, D}, 0, {64, 1});
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {z2, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {7, 8, 9};
  std::vector<float> got = run(*e, tokens, {0, 1, 2});
  const int64_t T = 3;
  EXPECT_EQ(seenX.sizes[0], T);
  EXPECT_EQ(seenX.sizes[1], D);
  EXPECT_EQ(seenX.strides[0], D);
  EXPECT_EQ(seenX.strides[1], 1);
  EXPECT_EQ(seenX.offset, 0);
  EXPECT_EQ(seenX.allocated, seenX.aligned);
  EXPECT_EQ(seenBias.sizes[0], D);
  EXPECT_EQ(seenBias.strides[0], 1);
  // An F32 weight is read in place from the mapping.
  EXPECT_EQ(static_cast<const void *>(seenBias.aligned),
            static_cast<const void *>(
                model->file().findTensor("blk.0.attn_norm.weight")->data));
  EXPECT_EQ(seenOut.sizes[0], T);

  std::vector<float> xr = embedRows(tokens), zr(xr.size());
  const std::vector<float> &b = model->layers()[0].attnNorm;
  const std::vector<float> &q = model->layers()[3].attnQNorm;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) {
      const float yv = (xr[t * D + i] + b[i]) * 2.0f;
      zr[t * D + i] = yv * xr[t * D + i] + q[i % 32];
    }
  std::vector<float> lr = matmulRef(model->output(), zr, T);
  EXPECT_EQ(maxAbsDiff(got.data(), lr.data(), lr.size()), 0.0);
}

TEST_F(ExecutorOpsTest, ConcatByCopiesIntoViews) {
  const int64_t D = hp().nEmbd, V = hp().nVocab;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  int32_t nw = pb.weight("blk.1.attn_norm.weight", {D});
  int32_t n =
      pb.op(DispatchKind::RmsNorm, "attn_norm-1", {x, nw}, {kTokens, D});
  pb.program().dispatches.back().get<NormParams>().epsilon =
      static_cast<float>(hp().rmsEps);
  // whole = concat(n, x) along 1: one Copy per piece into a view of it.
  int32_t whole = pb.scratch("whole", {kTokens, 2 * D});
  int32_t p0 = pb.view("whole.part0", whole, {kTokens, D}, 0, {2 * D, 1});
  int32_t p1 = pb.view("whole.part1", whole, {kTokens, D}, D, {2 * D, 1});
  pb.dispatch(DispatchKind::Copy, "whole.part0", {n}, {p0});
  pb.dispatch(DispatchKind::Copy, "whole.part1", {x}, {p1});
  int32_t so = pb.weight("blk.0.ssm_out.weight", {D, 2 * D});
  int32_t m = pb.op(DispatchKind::Matmul, "mixed", {whole, so}, {kTokens, D});
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {m, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {100, 200};
  DumpDir dir;
  std::vector<float> got = run(*e, tokens, {0, 1}, dir.dumper());
  const int64_t T = 2;
  std::vector<float> xr = embedRows(tokens), nr(xr.size());
  rmsNormRows(xr.data(), model->layers()[1].attnNorm.data(), T, D,
              static_cast<float>(hp().rmsEps), nr.data());
  std::vector<float> wr(static_cast<size_t>(T * 2 * D));
  for (int64_t t = 0; t < T; ++t) {
    std::copy_n(nr.data() + t * D, D, wr.data() + t * 2 * D);
    std::copy_n(xr.data() + t * D, D, wr.data() + t * 2 * D + D);
  }
  std::vector<float> mr = matmulRef(model->layers()[0].ssmOut, wr, T);
  std::vector<float> lr = matmulRef(model->output(), mr, T);
  EXPECT_EQ(maxAbsDiff(got.data(), lr.data(), lr.size()), 0.0);
  // A piece's dump is the whole value under the whole's name.
  std::vector<float> dw = readDump(dir.str(), "whole");
  ASSERT_EQ(dw.size(), wr.size());
  EXPECT_EQ(maxAbsDiff(dw.data(), wr.data(), wr.size()), 0.0);
}

TEST_F(ExecutorOpsTest, MoEMatchesTheDirectBlock) {
  const int64_t D = hp().nEmbd, V = hp().nVocab, E = hp().nExpert;
  const int64_t F = hp().expertFF, Fs = hp().sharedExpertFF;
  ProgramBuilder pb;
  int32_t tok = pb.tokens();
  int32_t emb = pb.weight("token_embd.weight", {V, D});
  int32_t x = pb.op(DispatchKind::Embed, "inp_embd", {emb, tok}, {kTokens, D});
  const std::string L = "blk.2.";
  std::vector<int32_t> ops = {x,
                              pb.weight(L + "ffn_gate_inp.weight", {E, D}),
                              pb.weight(L + "ffn_gate_exps.weight", {E, F, D}),
                              pb.weight(L + "ffn_up_exps.weight", {E, F, D}),
                              pb.weight(L + "ffn_down_exps.weight", {E, D, F}),
                              pb.weight(L + "ffn_gate_inp_shexp.weight", {D}),
                              pb.weight(L + "ffn_gate_shexp.weight", {Fs, D}),
                              pb.weight(L + "ffn_up_shexp.weight", {Fs, D}),
                              pb.weight(L + "ffn_down_shexp.weight", {D, Fs})};
  int32_t m = pb.op(DispatchKind::MoE, "ffn_moe_out-2", ops, {kTokens, D});
  pb.program().dispatches.back().get<MoEParams>() = {hp().nExpertUsed, true};
  int32_t ow = pb.weight("output.weight", {V, D});
  pb.program().logits =
      pb.op(DispatchKind::Matmul, "result_output", {m, ow}, {kTokens, V});
  auto e = create(pb.program());
  ASSERT_TRUE(e);

  const std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6, 7};
  std::vector<float> got = run(*e, tokens, {0, 1, 2, 3, 4, 5, 6});
  const int64_t T = 7;
  std::vector<float> xr = embedRows(tokens), mr(xr.size());
  MoEScratch s;
  s.allocate(moeDims(hp()), T);
  moeFFN(moeWeights(model->layers()[2]), hp().nExpertUsed, xr.data(), T, s,
         nullptr, Dumper(), 2, mr.data());
  std::vector<float> lr = matmulRef(model->output(), mr, T);
  EXPECT_EQ(maxAbsDiff(got.data(), lr.data(), lr.size()), 0.0);
}

} // namespace

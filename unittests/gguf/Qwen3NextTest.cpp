//===- Qwen3NextTest.cpp - qwen3next hyper-parameters and tensors ---------===//
//
// The fixture models against the dims their README gives, the legacy ssm_in
// gather against the split file made from the same weights, and hand-made
// models broken one tensor or key at a time.
//
//===----------------------------------------------------------------------===//

#include "unittests/FixturePaths.h"

#include "gguf/GGUFWriter.h"
#include "gguf/Qwen3Next.h"

#include "gtest/gtest.h"

#include <cstring>
#include <map>

using namespace qn::gguf;

namespace {

struct ExpectedDims {
  const char *file;
  int64_t D, L, E, k, Hk, Hv, dk, dv, Hq, Hkv, Dh, R, V;
  LinearLayout layout;
};

TEST(Qwen3Next, DescribesEveryFixtureModel) {
  QN_REQUIRE_FIXTURES();
  // From ../shared/fixtures/README.md.
  const ExpectedDims models[] = {
      {"tiny-f32", 64, 4, 8, 2, 1, 2, 64, 64, 4, 2, 32, 8, 1024,
       LinearLayout::Legacy},
      {"tiny-f32-split", 64, 4, 8, 2, 1, 2, 64, 64, 4, 2, 32, 8, 1024,
       LinearLayout::Split},
      {"small-f16", 256, 8, 16, 4, 2, 4, 64, 64, 8, 2, 64, 16, 4096,
       LinearLayout::Legacy},
      {"small-q8_0", 256, 8, 16, 4, 2, 4, 64, 64, 8, 2, 64, 16, 4096,
       LinearLayout::Split},
      {"small-q4_k_m", 256, 8, 16, 4, 2, 4, 64, 64, 8, 2, 64, 16, 4096,
       LinearLayout::Split},
  };
  for (const ExpectedDims &m : models) {
    SCOPED_TRACE(m.file);
    auto file = GGUFFile::open(
        qn::test::fixturePath(std::string("models/") + m.file + ".gguf"));
    ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
    auto model = describeQwen3Next(**file);
    ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
    const Qwen3NextHParams &hp = model->hp;
    EXPECT_EQ(hp.nEmbd, m.D);
    EXPECT_EQ(hp.nLayer, m.L);
    EXPECT_EQ(hp.nExpert, m.E);
    EXPECT_EQ(hp.nExpertUsed, m.k);
    EXPECT_EQ(hp.ssmGroupCount, m.Hk);
    EXPECT_EQ(hp.ssmTimeStepRank, m.Hv);
    EXPECT_EQ(hp.ssmState, m.dk);
    EXPECT_EQ(hp.headVDim(), m.dv);
    EXPECT_EQ(hp.nHead, m.Hq);
    EXPECT_EQ(hp.nHeadKV, m.Hkv);
    EXPECT_EQ(hp.headDim, m.Dh);
    EXPECT_EQ(hp.ropeDims, m.R);
    EXPECT_EQ(hp.nVocab, m.V);
    EXPECT_EQ(hp.convChannels(), 2 * m.Hk * m.dk + m.Hv * m.dv);
    EXPECT_GT(hp.expertFF, 0);
    EXPECT_GT(hp.rmsEps, 0.0);
    EXPECT_EQ(model->layout, m.layout);
    EXPECT_FALSE(model->tiedOutput);
    ASSERT_EQ(model->layers.size(), static_cast<size_t>(m.L));
    for (int64_t il = 0; il < m.L; ++il) {
      SCOPED_TRACE(il);
      const Qwen3NextLayer &l = model->layers[il];
      bool full = (il + 1) % 4 == 0; // README: layers 3, 7, ... attend fully
      EXPECT_EQ(hp.isRecurrent[il], !full);
      EXPECT_EQ(l.attnQ != nullptr, full);
      EXPECT_EQ(l.ssmBA != nullptr, !full);
      EXPECT_EQ(l.ssmIn != nullptr, !full && m.layout == LinearLayout::Legacy);
      EXPECT_EQ(l.attnQKV != nullptr, !full && m.layout == LinearLayout::Split);
      EXPECT_TRUE(l.hasSharedExpert()); // README: gated shared expert
      EXPECT_NE(l.ffnDownExps, nullptr);
    }
  }
}

std::vector<float> rowsOf(const TensorInfo &t) {
  std::vector<float> v(t.numElements());
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

TEST(Qwen3Next, LegacyRowOrderReproducesTheSplitFile) {
  QN_REQUIRE_FIXTURES();
  auto legacyFile =
      GGUFFile::open(qn::test::fixturePath("models/tiny-f32.gguf"));
  auto splitFile =
      GGUFFile::open(qn::test::fixturePath("models/tiny-f32-split.gguf"));
  ASSERT_TRUE(bool(legacyFile) && bool(splitFile));
  auto legacy = describeQwen3Next(**legacyFile);
  auto split = describeQwen3Next(**splitFile);
  ASSERT_TRUE(bool(legacy) && bool(split));
  const Qwen3NextHParams &hp = legacy->hp;
  std::vector<int64_t> order = legacyQKVZRowOrder(hp);
  const int64_t D = hp.nEmbd, Cc = hp.convChannels();
  ASSERT_EQ(order.size(), static_cast<size_t>(Cc + hp.ssmInner));
  int checkedLayers = 0;
  for (int64_t il = 0; il < hp.nLayer; ++il) {
    if (!hp.isRecurrent[il])
      continue;
    SCOPED_TRACE(il);
    std::vector<float> in = rowsOf(*legacy->layers[il].ssmIn);
    std::vector<float> qkv = rowsOf(*split->layers[il].attnQKV);
    std::vector<float> gate = rowsOf(*split->layers[il].attnGate);
    for (size_t row = 0; row < order.size(); ++row) {
      const float *want =
          row < static_cast<size_t>(Cc) ? &qkv[row * D] : &gate[(row - Cc) * D];
      ASSERT_EQ(std::memcmp(&in[order[row] * D], want, D * sizeof(float)), 0)
          << "split row " << row << " is not ssm_in row " << order[row];
    }
    ++checkedLayers;
  }
  EXPECT_EQ(checkedLayers, 3);
}

// The spec's description of ssm_in (§2.3) as block slicing, written without
// index arithmetic: label each legacy row, then read q/k/v/z blocks out of
// each key-head group the way a reshape + slice would.
TEST(Qwen3Next, LegacyRowOrderMatchesTheGroupedLayout) {
  Qwen3NextHParams hp;
  hp.ssmGroupCount = 2;   // Hk
  hp.ssmTimeStepRank = 6; // Hv, r = 3
  hp.ssmState = 4;        // dk
  hp.ssmInner = 6 * 2;    // dv = 2
  const int64_t Hk = 2, r = 3, dk = 4, dv = 2;
  std::vector<std::vector<int64_t>> groups(Hk);
  int64_t label = 0;
  for (auto &g : groups)
    for (int64_t i = 0; i < 2 * dk + 2 * r * dv; ++i)
      g.push_back(label++);
  std::vector<int64_t> q, k, v, z;
  for (auto &g : groups) {
    auto it = g.begin();
    q.insert(q.end(), it, it + dk);
    k.insert(k.end(), it + dk, it + 2 * dk);
    v.insert(v.end(), it + 2 * dk, it + 2 * dk + r * dv);
    z.insert(z.end(), it + 2 * dk + r * dv, g.end());
  }
  std::vector<int64_t> want;
  for (auto *part : {&q, &k, &v, &z})
    want.insert(want.end(), part->begin(), part->end());
  EXPECT_EQ(legacyQKVZRowOrder(hp), want);

  // ssm_ba: per key head [b (r) | a (r)].
  std::vector<int64_t> b, a;
  for (int64_t g = 0; g < Hk; ++g)
    for (int64_t i = 0; i < 2 * r; ++i)
      (i < r ? b : a).push_back(g * 2 * r + i);
  std::vector<int64_t> wantBA = b;
  wantBA.insert(wantBA.end(), a.begin(), a.end());
  EXPECT_EQ(baRowOrder(hp), wantBA);
}

//===----------------------------------------------------------------------===//
// Hand-made models
//===----------------------------------------------------------------------===//

/// A tiny valid qwen3next: D=8, 2 layers (interval 2: layer 0 linear, layer 1
/// full), E=2 k=1 F=4 Fs=4, Hq=2 Hkv=1 Dh=4 R=2, Hk=1 Hv=2 dk=4 dv=4 (Cv=8,
/// Cc=16), Kc=4, V=16. Tests edit the maps before writing.
struct ModelSpec {
  std::map<std::string, Value> keys;
  std::map<std::string, std::vector<int64_t>> tensors;
  std::map<std::string, GGMLType> types;

  ModelSpec() {
    auto u32 = [](uint64_t v) { return Value::makeUInt(ValueType::UInt32, v); };
    keys["general.architecture"] = Value::makeString("qwen3next");
    keys["qwen3next.block_count"] = u32(2);
    keys["qwen3next.context_length"] = u32(1024);
    keys["qwen3next.embedding_length"] = u32(8);
    keys["qwen3next.attention.head_count"] = u32(2);
    keys["qwen3next.attention.head_count_kv"] = u32(1);
    keys["qwen3next.attention.key_length"] = u32(4);
    keys["qwen3next.attention.value_length"] = u32(4);
    keys["qwen3next.rope.dimension_count"] = u32(2);
    keys["qwen3next.rope.freq_base"] =
        Value::makeFloat(ValueType::Float32, 1e6);
    keys["qwen3next.attention.layer_norm_rms_epsilon"] =
        Value::makeFloat(ValueType::Float32, 1e-6);
    keys["qwen3next.ssm.conv_kernel"] = u32(4);
    keys["qwen3next.ssm.inner_size"] = u32(8);
    keys["qwen3next.ssm.state_size"] = u32(4);
    keys["qwen3next.ssm.time_step_rank"] = u32(2);
    keys["qwen3next.ssm.group_count"] = u32(1);
    keys["qwen3next.expert_count"] = u32(2);
    keys["qwen3next.expert_used_count"] = u32(1);
    keys["qwen3next.expert_feed_forward_length"] = u32(4);
    keys["qwen3next.expert_shared_feed_forward_length"] = u32(4);
    keys["qwen3next.full_attention_interval"] = u32(2);

    tensors["token_embd.weight"] = {8, 16};
    tensors["output_norm.weight"] = {8};
    tensors["output.weight"] = {8, 16};
    for (int il = 0; il < 2; ++il) {
      std::string p = "blk." + std::to_string(il) + ".";
      tensors[p + "attn_norm.weight"] = {8};
      tensors[p + "post_attention_norm.weight"] = {8};
      tensors[p + "ffn_gate_inp.weight"] = {8, 2};
      tensors[p + "ffn_gate_exps.weight"] = {8, 4, 2};
      tensors[p + "ffn_up_exps.weight"] = {8, 4, 2};
      tensors[p + "ffn_down_exps.weight"] = {4, 8, 2};
      tensors[p + "ffn_gate_inp_shexp.weight"] = {8};
      tensors[p + "ffn_gate_shexp.weight"] = {8, 4};
      tensors[p + "ffn_up_shexp.weight"] = {8, 4};
      tensors[p + "ffn_down_shexp.weight"] = {4, 8};
    }
    tensors["blk.0.attn_qkv.weight"] = {8, 16};
    tensors["blk.0.attn_gate.weight"] = {8, 8};
    tensors["blk.0.ssm_ba.weight"] = {8, 4};
    tensors["blk.0.ssm_conv1d.weight"] = {4, 16};
    tensors["blk.0.ssm_dt.bias"] = {2};
    tensors["blk.0.ssm_a"] = {2};
    tensors["blk.0.ssm_norm.weight"] = {4};
    tensors["blk.0.ssm_out.weight"] = {8, 8};
    tensors["blk.1.attn_q.weight"] = {8, 16};
    tensors["blk.1.attn_k.weight"] = {8, 4};
    tensors["blk.1.attn_v.weight"] = {8, 4};
    tensors["blk.1.attn_output.weight"] = {8, 8};
    tensors["blk.1.attn_q_norm.weight"] = {4};
    tensors["blk.1.attn_k_norm.weight"] = {4};
  }

  std::unique_ptr<GGUFFile> build() const {
    GGUFWriter w;
    for (const auto &kv : keys)
      w.setValue(kv.first, kv.second);
    for (const auto &t : tensors) {
      GGMLType type = GGMLType::F32;
      if (auto it = types.find(t.first); it != types.end())
        type = it->second;
      uint64_t bytes = rowBytes(type, t.second[0]);
      for (size_t d = 1; d < t.second.size(); ++d)
        bytes *= t.second[d];
      std::vector<uint8_t> data(bytes);
      llvm::Error err = w.addTensor(t.first, type, t.second, data);
      EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
    }
    auto file = GGUFFile::fromBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(w.serialize(), "model.gguf"));
    EXPECT_TRUE(bool(file));
    if (!file) {
      llvm::consumeError(file.takeError());
      return nullptr;
    }
    return std::move(*file);
  }
};

/// Expects describeQwen3Next to fail with a message containing `needle`.
void expectDescribeError(const ModelSpec &spec, const std::string &needle) {
  std::unique_ptr<GGUFFile> file = spec.build();
  ASSERT_NE(file, nullptr);
  auto model = describeQwen3Next(*file);
  ASSERT_FALSE(bool(model)) << "accepted; wanted error: " << needle;
  std::string msg = llvm::toString(model.takeError());
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
}

TEST(Qwen3Next, AcceptsTheHandMadeModel) {
  ModelSpec spec;
  std::unique_ptr<GGUFFile> file = spec.build();
  ASSERT_NE(file, nullptr);
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->hp.isRecurrent, (std::vector<bool>{true, false}));
  EXPECT_EQ(model->layout, LinearLayout::Split);
  EXPECT_EQ(model->hp.ropeBase, 1e6);
  EXPECT_EQ(model->hp.convChannels(), 16);
  EXPECT_EQ(model->layers[0].attnQ, nullptr);
  EXPECT_EQ(model->layers[1].ssmA, nullptr);
  EXPECT_EQ(model->layers[0].ssmA->name, "blk.0.ssm_a");
  EXPECT_EQ(model->output->name, "output.weight");
}

TEST(Qwen3Next, TiedOutputFallsBackToTheEmbedding) {
  ModelSpec spec;
  spec.tensors.erase("output.weight");
  std::unique_ptr<GGUFFile> file = spec.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_TRUE(model->tiedOutput);
  EXPECT_EQ(model->output, model->tokenEmbd);
}

TEST(Qwen3Next, SharedExpertIsOptionalAsAWhole) {
  ModelSpec spec;
  for (const char *t : {"ffn_gate_inp_shexp", "ffn_gate_shexp", "ffn_up_shexp",
                        "ffn_down_shexp"})
    for (int il = 0; il < 2; ++il)
      spec.tensors.erase("blk." + std::to_string(il) + "." + t + ".weight");
  std::unique_ptr<GGUFFile> file = spec.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_FALSE(model->layers[0].hasSharedExpert());

  ModelSpec partial;
  partial.tensors.erase("blk.1.ffn_up_shexp.weight");
  expectDescribeError(partial, "layer 1 has only some of the shared-expert");
}

TEST(Qwen3Next, LegacyLayoutAndLayoutMixing) {
  ModelSpec legacy;
  legacy.tensors.erase("blk.0.attn_qkv.weight");
  legacy.tensors.erase("blk.0.attn_gate.weight");
  legacy.tensors["blk.0.ssm_in.weight"] = {8, 24}; // 2Ck + 2Cv
  std::unique_ptr<GGUFFile> file = legacy.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->layout, LinearLayout::Legacy);
  EXPECT_NE(model->layers[0].ssmIn, nullptr);

  ModelSpec both;
  both.tensors["blk.0.ssm_in.weight"] = {8, 24};
  expectDescribeError(both, "has both ssm_in and attn_qkv");

  // Three linear layers (interval 4), the last one in the other layout.
  ModelSpec mixed;
  mixed.keys["qwen3next.block_count"] = Value::makeUInt(ValueType::UInt32, 4);
  mixed.keys["qwen3next.full_attention_interval"] =
      Value::makeUInt(ValueType::UInt32, 4);
  ModelSpec base;
  for (int il = 0; il < 4; ++il) {
    std::string p = "blk." + std::to_string(il) + ".";
    std::string from = il == 3 ? "blk.1." : "blk.0.";
    for (const auto &t : base.tensors)
      if (llvm::StringRef(t.first).starts_with(from))
        mixed.tensors[p + t.first.substr(from.size())] = t.second;
  }
  mixed.tensors.erase("blk.2.attn_qkv.weight");
  mixed.tensors.erase("blk.2.attn_gate.weight");
  mixed.tensors["blk.2.ssm_in.weight"] = {8, 24};
  expectDescribeError(mixed, "layer 2 uses a different linear-layer layout");
}

TEST(Qwen3Next, ErrorsNameTheTensorAndBothShapes) {
  ModelSpec conv;
  conv.tensors["blk.0.ssm_conv1d.weight"] = {3, 16};
  expectDescribeError(conv, "tensor 'blk.0.ssm_conv1d.weight' has shape "
                            "{3, 16}, expected {4, 16}");
  ModelSpec q;
  q.tensors["blk.1.attn_q.weight"] = {8, 8}; // forgot the gate half
  expectDescribeError(q, "'blk.1.attn_q.weight' has shape {8, 8}, expected "
                         "{8, 16}");
  ModelSpec down;
  down.tensors["blk.1.ffn_down_exps.weight"] = {8, 4, 2}; // transposed
  expectDescribeError(down, "expected {4, 8, 2}");
  ModelSpec missing;
  missing.tensors.erase("blk.0.ssm_a");
  expectDescribeError(missing, "missing tensor 'blk.0.ssm_a' (expected shape "
                               "{2})");
  ModelSpec norm;
  norm.types["blk.0.attn_norm.weight"] = GGMLType::F16;
  expectDescribeError(norm,
                      "'blk.0.attn_norm.weight' has type f16, expected f32");
  ModelSpec merged;
  merged.tensors.erase("blk.0.ffn_gate_exps.weight");
  merged.tensors.erase("blk.0.ffn_up_exps.weight");
  merged.tensors["blk.0.ffn_gate_up_exps.weight"] = {8, 8, 2};
  expectDescribeError(merged, "merged ffn_gate_up_exps");
  // A {D, 1} shared-expert gate is the same layout as {D}.
  ModelSpec gate2d;
  gate2d.tensors["blk.0.ffn_gate_inp_shexp.weight"] = {8, 1};
  std::unique_ptr<GGUFFile> file = gate2d.build();
  auto model = describeQwen3Next(*file);
  EXPECT_TRUE(bool(model));
  if (!model)
    llvm::consumeError(model.takeError());
}

TEST(Qwen3Next, HyperParameterErrors) {
  ModelSpec arch;
  arch.keys["general.architecture"] = Value::makeString("llama");
  expectDescribeError(arch, "general.architecture is 'llama', expected "
                            "'qwen3next'");
  ModelSpec key;
  key.keys.erase("qwen3next.attention.key_length");
  expectDescribeError(key, "missing required metadata key "
                           "'qwen3next.attention.key_length'");
  ModelSpec type;
  type.keys["qwen3next.block_count"] = Value::makeString("2");
  expectDescribeError(type, "'qwen3next.block_count' should be a "
                            "non-negative integer, found str");
  ModelSpec heads;
  heads.keys["qwen3next.attention.head_count_kv"] =
      Value::makeUInt(ValueType::UInt32, 3);
  expectDescribeError(heads, "head_count (2) must be a multiple of "
                             "head_count_kv (3)");
  ModelSpec ssm;
  ssm.keys["qwen3next.ssm.inner_size"] = Value::makeUInt(ValueType::UInt32, 7);
  expectDescribeError(ssm, "ssm.inner_size (7)");
  ModelSpec perLayer;
  perLayer.keys["qwen3next.attention.head_count"] = Value::makeArray(
      ValueType::UInt32, {Value::makeUInt(ValueType::UInt32, 2),
                          Value::makeUInt(ValueType::UInt32, 4)});
  expectDescribeError(perLayer, "differs between layers");
}

TEST(Qwen3Next, PerLayerArraysAndRecurrentFlags) {
  ModelSpec spec;
  spec.keys["qwen3next.attention.head_count_kv"] = Value::makeArray(
      ValueType::UInt32, {Value::makeUInt(ValueType::UInt32, 1),
                          Value::makeUInt(ValueType::UInt32, 1)});
  // Explicit flags win over the interval (here they agree with it).
  spec.keys["qwen3next.attention.recurrent_layers"] = Value::makeArray(
      ValueType::Bool, {Value::makeBool(true), Value::makeBool(false)});
  std::unique_ptr<GGUFFile> file = spec.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->hp.nHeadKV, 1);

  // Flags that disagree with the tensors: layer 1 marked linear.
  spec.keys["qwen3next.attention.recurrent_layers"] = Value::makeArray(
      ValueType::Bool, {Value::makeBool(true), Value::makeBool(true)});
  expectDescribeError(spec, "missing tensor 'blk.1.attn_qkv.weight'");
  spec.keys["qwen3next.attention.recurrent_layers"] =
      Value::makeArray(ValueType::Bool, {Value::makeBool(true)});
  expectDescribeError(spec, "array of 2 bools");
}

TEST(Qwen3Next, FeedForwardWidthsComeFromTensorsWhenKeysAreAbsent) {
  ModelSpec spec;
  spec.keys.erase("qwen3next.expert_feed_forward_length");
  spec.keys.erase("qwen3next.expert_shared_feed_forward_length");
  // Widths unlike any default: F = 6, Fs = 10.
  for (int il = 0; il < 2; ++il) {
    std::string p = "blk." + std::to_string(il) + ".";
    spec.tensors[p + "ffn_gate_exps.weight"] = {8, 6, 2};
    spec.tensors[p + "ffn_up_exps.weight"] = {8, 6, 2};
    spec.tensors[p + "ffn_down_exps.weight"] = {6, 8, 2};
    spec.tensors[p + "ffn_gate_shexp.weight"] = {8, 10};
    spec.tensors[p + "ffn_up_shexp.weight"] = {8, 10};
    spec.tensors[p + "ffn_down_shexp.weight"] = {10, 8};
  }
  std::unique_ptr<GGUFFile> file = spec.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->hp.expertFF, 6);
  EXPECT_EQ(model->hp.sharedExpertFF, 10);
}

TEST(Qwen3Next, PerLayerHeadCountsSkipZeros) {
  // Hybrid converters write 0 KV heads for layers without attention.
  ModelSpec spec;
  spec.keys["qwen3next.attention.head_count_kv"] = Value::makeArray(
      ValueType::UInt32, {Value::makeUInt(ValueType::UInt32, 0),
                          Value::makeUInt(ValueType::UInt32, 1)});
  std::unique_ptr<GGUFFile> file = spec.build();
  auto model = describeQwen3Next(*file);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->hp.nHeadKV, 1);
  spec.keys["qwen3next.attention.head_count_kv"] = Value::makeArray(
      ValueType::UInt32, {Value::makeUInt(ValueType::UInt32, 0),
                          Value::makeUInt(ValueType::UInt32, 0)});
  expectDescribeError(spec, "holds no non-zero value");
}

TEST(Qwen3Next, VocabularyOnlyFileHasHyperParameters) {
  QN_REQUIRE_FIXTURES();
  auto file =
      GGUFFile::open(qn::test::fixturePath("tokenizer/vocab-qwen3.gguf"));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  auto hp = readQwen3NextHParams(**file);
  ASSERT_TRUE(bool(hp)) << llvm::toString(hp.takeError());
  // The real model's per-layer dims (spec §7; the file has fewer layers and
  // experts), vocabulary padded to 151936 rows.
  EXPECT_EQ(hp->nEmbd, 2048);
  EXPECT_EQ(hp->ropeBase, 1e7);
  EXPECT_EQ(hp->headDim, 256);
  EXPECT_EQ(hp->ropeDims, 64);
  EXPECT_EQ(hp->convChannels(), 8192);
  EXPECT_EQ(hp->nVocab, 151936);
  auto model = describeQwen3Next(**file);
  ASSERT_FALSE(bool(model));
  EXPECT_NE(llvm::toString(model.takeError()).find("token_embd.weight"),
            std::string::npos);
}

} // namespace

//===- GenerateTest.cpp - generated models and the built-in vocabulary ----===//
//
// The generator's weights have the statistics that keep activations sane
// (checked on the written file, read back by the reader), and the built-in
// vocabulary is a consistent BPE table.
//
//===----------------------------------------------------------------------===//

#include "gguf/Generate.h"
#include "gguf/BuiltinVocab.h"
#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"

#include "llvm/Support/FileSystem.h"

#include "gtest/gtest.h"

#include <cmath>
#include <set>

using namespace qn::gguf;

namespace {

TEST(BuiltinVocab, MergesAreConsistentAndSpecialsAtTheEnd) {
  BuiltinVocab v = makeBuiltinVocab(1000);
  ASSERT_EQ(v.tokens.size(), 1000u);
  ASSERT_EQ(v.tokenTypes.size(), v.tokens.size());
  std::set<std::string> seen(v.tokens.begin(), v.tokens.end());
  EXPECT_EQ(seen.size(), v.tokens.size()) << "duplicate tokens";
  EXPECT_GT(v.merges.size(), 100u);
  for (const std::string &m : v.merges) {
    size_t sp = m.find(' ');
    ASSERT_NE(sp, std::string::npos) << m;
    std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    EXPECT_TRUE(seen.count(a) && seen.count(b) && seen.count(a + b)) << m;
  }
  EXPECT_EQ(v.tokens[v.bosId], "<|endoftext|>");
  EXPECT_EQ(v.tokens[v.bosId + 1], "<|im_start|>");
  EXPECT_EQ(v.tokens[v.eosId], "<|im_end|>");
  EXPECT_EQ(v.tokenTypes[v.eosId], 3);
  EXPECT_EQ(v.tokens.back(), "[PAD999]");
  EXPECT_EQ(v.tokenTypes.back(), 5);
  // Byte tokens first, in GPT-2 order: '!' is byte 33, 'Ā' (U+0100) byte 0.
  EXPECT_EQ(v.tokens[0], "!");
  EXPECT_EQ(v.tokens[188], "\xC4\x80");
  // Same input, same table.
  EXPECT_EQ(makeBuiltinVocab(1000).merges, v.merges);
}

struct Stats {
  double mean = 0, std = 0, min = 1e30, max = -1e30;
};

Stats statsOf(const TensorInfo &t) {
  std::vector<float> x(t.numElements());
  llvm::Error err = dequantize(t.type, t.data, x.data(), x.size());
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  Stats s;
  for (float v : x) {
    s.mean += v;
    s.min = std::min(s.min, double(v));
    s.max = std::max(s.max, double(v));
  }
  s.mean /= x.size();
  for (float v : x)
    s.std += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(s.std / x.size());
  return s;
}

TEST(Generate, WeightStatisticsOfTheSmallPreset) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("qn-gen", "gguf", path));
  GenOptions opts;
  opts.shape = *presetShape("small");
  opts.type = GenType::Q8_0;
  opts.seed = 11;
  opts.name = "test";
  llvm::Error err = generateQwen3Next(opts, path);
  ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
  auto fileOr = GGUFFile::open(path);
  ASSERT_TRUE(bool(fileOr)) << llvm::toString(fileOr.takeError());
  const GGUFFile &f = **fileOr;

  auto tensor = [&](const char *name) -> const TensorInfo & {
    const TensorInfo *t = f.findTensor(name);
    EXPECT_NE(t, nullptr) << name;
    static TensorInfo none;
    return t ? *t : none;
  };
  // Matrices: N(0, 1/fan_in).
  for (const char *name :
       {"blk.0.attn_qkv.weight", "blk.1.ffn_down_exps.weight",
        "blk.3.attn_output.weight", "output.weight"}) {
    SCOPED_TRACE(name);
    const TensorInfo &t = tensor(name);
    Stats s = statsOf(t);
    double expected = 1.0 / std::sqrt(double(t.ne[0]));
    EXPECT_NEAR(s.mean, 0.0, 0.05 * expected);
    EXPECT_NEAR(s.std, expected, 0.05 * expected);
  }
  EXPECT_NEAR(statsOf(tensor("token_embd.weight")).std, 1.0, 0.02);
  // Norm weights near 1; the gated norm too.
  for (const char *name :
       {"output_norm.weight", "blk.0.attn_norm.weight", "blk.0.ssm_norm.weight",
        "blk.3.attn_q_norm.weight"}) {
    SCOPED_TRACE(name);
    Stats s = statsOf(tensor(name));
    EXPECT_NEAR(s.mean, 1.0, 0.05);
    EXPECT_GT(s.min, 0.4);
    EXPECT_LT(s.max, 1.6);
  }
  // Decays: a < 0, dt small, conv taps around 0.5 in magnitude.
  Stats a = statsOf(tensor("blk.0.ssm_a"));
  EXPECT_LT(a.max, 0.0);
  EXPECT_GT(a.min, -20.0);
  Stats dt = statsOf(tensor("blk.0.ssm_dt.bias"));
  EXPECT_LT(std::max(std::fabs(dt.min), std::fabs(dt.max)), 0.5);
  Stats conv = statsOf(tensor("blk.0.ssm_conv1d.weight"));
  EXPECT_NEAR(conv.std, 0.5, 0.05);
  // The converter's F32 forcing.
  for (const char *name :
       {"blk.0.ssm_conv1d.weight", "blk.0.ffn_gate_inp.weight",
        "blk.0.ffn_gate_inp_shexp.weight", "blk.0.ssm_a", "blk.0.ssm_dt.bias",
        "blk.0.attn_norm.weight"})
    EXPECT_EQ(tensor(name).type, GGMLType::F32) << name;
  EXPECT_EQ(tensor("blk.0.attn_qkv.weight").type, GGMLType::Q8_0);
  llvm::sys::fs::remove(path);
}

TEST(Generate, RejectsBadShapes) {
  GenShape s = *presetShape("tiny");
  s.ssmGroups = 3;
  llvm::Error err = validateGenShape(s);
  ASSERT_TRUE(bool(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("multiple of ssm-groups"),
            std::string::npos);
  s = *presetShape("tiny");
  s.nVocab = int64_t(1) << 40;
  llvm::Error big = validateGenShape(s);
  EXPECT_TRUE(bool(big)) << "absurd vocab accepted";
  llvm::consumeError(std::move(big));
  EXPECT_FALSE(presetShape("huge").has_value());
  EXPECT_FALSE(parseGenType("q3_k").has_value());
}

} // namespace

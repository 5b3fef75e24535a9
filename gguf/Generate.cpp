//===- Generate.cpp - seeded random qwen3next models ----------------------===//

#include "gguf/Generate.h"

#include "gguf/BuiltinVocab.h"
#include "gguf/GGUFWriter.h"
#include "gguf/Quantize.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <thread>

namespace qn::gguf {

/// The Qwen3.5 variant of a preset: two key heads with Hv/Hk = 2 (3 for
/// the tiny qwen35moe), so the tiled v-head order matters, dk = dv, rope
/// sections, the dense FFN width of the fixtures.
static void makeQwen35(GenShape &s, llvm::StringRef name, Arch arch) {
  s.arch = arch;
  const bool small = name == "small";
  s.ssmGroups = 2;
  s.ssmHeadsV = arch == Arch::Qwen35Moe && !small ? 6 : 4;
  s.ssmHeadV = s.ssmStateK;
  s.ropeSections = small ? std::array<int64_t, 4>{3, 3, 2, 0}
                         : std::array<int64_t, 4>{2, 1, 1, 0};
  if (name == "bench")
    s.ropeSections = {11, 11, 10, 0};
  if (arch == Arch::Qwen35)
    s.denseFF = small ? 512 : name == "bench" ? 12288 : 128;
}

static std::optional<GenShape> qwen3nextPreset(llvm::StringRef name);

std::optional<GenShape> presetShape(llvm::StringRef name, Arch arch) {
  std::optional<GenShape> s = qwen3nextPreset(name);
  if (s && arch != Arch::Qwen3Next)
    makeQwen35(*s, name, arch);
  return s;
}

static std::optional<GenShape> qwen3nextPreset(llvm::StringRef name) {
  GenShape s;
  if (name == "tiny") {
    // As ../shared/fixtures tiny: D=64, 4 layers, 8 experts top-2.
    s.nLayer = 4, s.nEmbd = 64, s.nVocab = 1024;
    s.nHead = 4, s.nHeadKV = 2, s.headDim = 32, s.ropeDims = 8;
    s.ssmGroups = 1, s.ssmHeadsV = 2, s.ssmStateK = 64, s.ssmHeadV = 64;
    s.nExpert = 8, s.nExpertUsed = 2, s.expertFF = 32, s.sharedFF = 64;
    return s;
  }
  if (name == "small") {
    s.nLayer = 8, s.nEmbd = 256, s.nVocab = 4096;
    s.nHead = 8, s.nHeadKV = 2, s.headDim = 64, s.ropeDims = 16;
    s.ssmGroups = 2, s.ssmHeadsV = 4, s.ssmStateK = 64, s.ssmHeadV = 64;
    s.nExpert = 16, s.nExpertUsed = 4, s.expertFF = 96, s.sharedFF = 128;
    return s;
  }
  if (name == "bench") {
    // Per-layer dims of Qwen3-Next-80B-A3B (spec §7), 8 layers, 64 experts.
    s.nLayer = 8, s.nEmbd = 2048, s.nVocab = 151936;
    s.nHead = 16, s.nHeadKV = 2, s.headDim = 256, s.ropeDims = 64;
    s.ssmGroups = 16, s.ssmHeadsV = 32, s.ssmStateK = 128, s.ssmHeadV = 128;
    s.nExpert = 64, s.nExpertUsed = 10, s.expertFF = 512, s.sharedFF = 512;
    return s;
  }
  return std::nullopt;
}

std::optional<GenType> parseGenType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<GenType>>(name.lower())
      .Case("f32", GenType::F32)
      .Case("f16", GenType::F16)
      .Case("bf16", GenType::BF16)
      .Case("q8_0", GenType::Q8_0)
      .Case("q4_0", GenType::Q4_0)
      .Case("q4_k", GenType::Q4_K)
      .Case("q4_k_m", GenType::Q4_K_M)
      .Default(std::nullopt);
}

llvm::Error validateGenShape(const GenShape &s) {
  auto positive = [](const char *what, int64_t v) -> llvm::Error {
    if (v > 0 && v <= (int64_t(1) << 24))
      return llvm::Error::success();
    return llvm::createStringError(
        llvm::formatv("{0} must be in [1, 2^24], got {1}", what, v).str());
  };
  struct Field {
    const char *name;
    int64_t value;
  } fields[] = {{"layers", s.nLayer},
                {"embd", s.nEmbd},
                {"vocab", s.nVocab},
                {"heads", s.nHead},
                {"heads-kv", s.nHeadKV},
                {"head-dim", s.headDim},
                {"rope-dims", s.ropeDims},
                {"conv-kernel", s.convKernel},
                {"ssm-groups", s.ssmGroups},
                {"ssm-heads", s.ssmHeadsV},
                {"ssm-state", s.ssmStateK},
                {"ssm-head-v", s.ssmHeadV},
                {"experts", s.nExpert},
                {"experts-used", s.nExpertUsed},
                {"expert-ff", s.expertFF},
                {"shared-ff", s.sharedFF},
                {"interval", s.fullAttentionInterval}};
  const bool dense = s.arch == Arch::Qwen35;
  for (const Field &f : fields) {
    const llvm::StringRef n = f.name;
    if (dense && (n.starts_with("expert") || n == "shared-ff"))
      continue; // qwen35 has no experts
    if (llvm::Error err = positive(f.name, f.value))
      return err;
  }
  if (dense)
    if (llvm::Error err = positive("dense-ff", s.denseFF))
      return err;
  if (s.arch != Arch::Qwen3Next) {
    if (s.ssmStateK != s.ssmHeadV)
      return llvm::createStringError(
          llvm::formatv("{0} needs ssm-state (dk = {1}) == ssm-head-v (dv = "
                        "{2})",
                        getArchName(s.arch), s.ssmStateK, s.ssmHeadV)
              .str());
    if (s.nMtp < 0 || s.nMtp > 16)
      return llvm::createStringError(
          llvm::formatv("mtp must be in [0, 16], got {0}", s.nMtp).str());
    if (s.arch == Arch::Qwen35Moe && !s.sharedExpert)
      return llvm::createStringError(
          "qwen35moe requires the shared expert (no --no-shared-expert)");
  }
  // Written as a u32 key: a negative or larger value would wrap.
  if (s.contextLength < 1 || s.contextLength > 4294967295)
    return llvm::createStringError(
        llvm::formatv("context-length must be in [1, 4294967295], got {0}",
                      s.contextLength)
            .str());
  if (s.nLayer > 4096 || s.nExpert > 512)
    return llvm::createStringError("at most 4096 layers and 512 experts");
  if (s.ssmHeadsV % s.ssmGroups != 0)
    return llvm::createStringError(
        llvm::formatv("ssm-heads ({0}) must be a multiple of ssm-groups ({1})",
                      s.ssmHeadsV, s.ssmGroups)
            .str());
  if (s.nHead % s.nHeadKV != 0)
    return llvm::createStringError(
        llvm::formatv("heads ({0}) must be a multiple of heads-kv ({1})",
                      s.nHead, s.nHeadKV)
            .str());
  if (!dense && s.nExpertUsed > s.nExpert)
    return llvm::createStringError(
        llvm::formatv("experts-used ({0}) exceeds experts ({1})", s.nExpertUsed,
                      s.nExpert)
            .str());
  if (s.ropeDims > s.headDim || s.ropeDims % 2 != 0)
    return llvm::createStringError(
        llvm::formatv("rope-dims ({0}) must be even and at most head-dim ({1})",
                      s.ropeDims, s.headDim)
            .str());
  // Keep the largest tensor well under what one machine can stream.
  double biggest = std::max({double(s.nEmbd) * s.nVocab,
                             double(s.nEmbd) * s.expertFF * s.nExpert,
                             double(s.nEmbd) * 2 * s.nHead * s.headDim});
  if (biggest > double(int64_t(1) << 34))
    return llvm::createStringError("model too large: a tensor would exceed "
                                   "2^34 elements");
  return llvm::Error::success();
}

namespace {

bool kBlocksFit(GGMLType t, int64_t ne0) { return isValidRowLength(t, ne0); }

/// llama-quantize's fallbacks for rows that are not whole 256-blocks.
GGMLType withFallback(GGMLType t, int64_t ne0) {
  if (kBlocksFit(t, ne0))
    return t;
  GGMLType fb = t;
  switch (t) {
  case GGMLType::Q4_K:
    fb = GGMLType::Q5_0;
    break;
  case GGMLType::Q5_K:
    fb = GGMLType::Q5_1;
    break;
  case GGMLType::Q6_K:
    fb = GGMLType::Q8_0;
    break;
  default:
    break;
  }
  if (kBlocksFit(fb, ne0))
    return fb;
  return GGMLType::F16;
}

/// llama-quantize's use_more_bits: the first and last eighth of the layers
/// and every third layer in between.
bool useMoreBits(int64_t layer, int64_t nLayer) {
  return layer < nLayer / 8 || layer >= 7 * nLayer / 8 ||
         (layer - nLayer / 8) % 3 == 2;
}

uint32_t fileType(GenType t) {
  switch (t) {
  case GenType::F32:
    return 0;
  case GenType::F16:
    return 1;
  case GenType::Q4_0:
    return 2;
  case GenType::Q8_0:
    return 7;
  case GenType::Q4_K:
    return 14; // LLAMA_FTYPE_MOSTLY_Q4_K_S
  case GenType::Q4_K_M:
    return 15;
  case GenType::BF16:
    return 32;
  }
  return 0;
}

} // namespace

GGMLType chooseGenTensorType(GenType type, llvm::StringRef role, int64_t layer,
                             int64_t nLayer, int64_t ne0) {
  switch (type) {
  case GenType::F32:
    return GGMLType::F32;
  case GenType::F16:
    return GGMLType::F16;
  case GenType::BF16:
    return GGMLType::BF16;
  case GenType::Q8_0:
    return withFallback(GGMLType::Q8_0, ne0);
  case GenType::Q4_0:
    return withFallback(GGMLType::Q4_0, ne0);
  case GenType::Q4_K:
    return withFallback(GGMLType::Q4_K, ne0);
  case GenType::Q4_K_M:
    break;
  }
  GGMLType t = GGMLType::Q4_K;
  if (role == "output")
    t = GGMLType::Q6_K;
  else if (role == "attn_k" || role == "attn_v")
    t = GGMLType::Q8_0; // small KV projections: the peer keeps them at 8 bits
  else if (role == "attn_output")
    t = GGMLType::Q5_K;
  else if ((role == "ffn_down_exps" || role == "ffn_down_shexp") &&
           useMoreBits(layer, nLayer))
    t = GGMLType::Q6_K;
  return withFallback(t, ne0);
}

namespace {

enum class Init {
  Normal,  // std * N(0,1)
  NearOne, // 1 + std * N(0,1): norm weights
  SsmA,    // -exp(0.5 * N(0,1)): decay rates around -1
};

struct TensorPlan {
  std::string name;
  llvm::SmallVector<int64_t, 4> ne;
  GGMLType type = GGMLType::F32;
  Init init = Init::Normal;
  double std = 1.0;
  std::string rngKey;          // the logical tensor the rows are drawn for
  std::vector<int64_t> rowMap; // output row -> logical row; empty: identity
};

uint64_t fnv1a(llvm::StringRef s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t splitmix(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Fills `out` with the values of logical row `row` of `plan`.
void fillRow(const TensorPlan &plan, uint64_t seed, uint64_t keyHash,
             int64_t row, float *out, int64_t n) {
  uint64_t state = seed * 0xD1B54A32D192ED03ull ^ keyHash;
  state ^= splitmix(state) + static_cast<uint64_t>(row);
  splitmix(state);
  const double twoPi = 6.283185307179586;
  for (int64_t i = 0; i < n; i += 2) {
    // Box-Muller: two normals from two uniforms in (0, 1].
    double u1 = (static_cast<double>(splitmix(state) >> 11) + 1.0) * 0x1p-53;
    double u2 = static_cast<double>(splitmix(state) >> 11) * 0x1p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    double z[2] = {r * std::cos(twoPi * u2), r * std::sin(twoPi * u2)};
    for (int64_t j = 0; j < 2 && i + j < n; ++j) {
      double v = z[j];
      switch (plan.init) {
      case Init::Normal:
        v *= plan.std;
        break;
      case Init::NearOne:
        v = 1.0 + plan.std * v;
        break;
      case Init::SsmA:
        v = -std::exp(0.5 * v);
        break;
      }
      out[i + j] = static_cast<float>(v);
    }
  }
}

void produceRows(const TensorPlan &plan, uint64_t seed, unsigned threads,
                 int64_t begin, int64_t end, uint8_t *dst) {
  const int64_t ne0 = plan.ne[0];
  const uint64_t rowSize = rowBytes(plan.type, ne0);
  const uint64_t keyHash = fnv1a(plan.rngKey);
  auto work = [&](int64_t b, int64_t e) {
    std::vector<float> buf(static_cast<size_t>(ne0));
    for (int64_t r = b; r < e; ++r) {
      int64_t src = plan.rowMap.empty() ? r : plan.rowMap[r];
      fillRow(plan, seed, keyHash, src, buf.data(), ne0);
      uint8_t *out = dst + static_cast<uint64_t>(r - begin) * rowSize;
      if (plan.type == GGMLType::F32)
        std::memcpy(out, buf.data(), rowSize);
      else
        quantizeRowUnchecked(plan.type, buf.data(), out, ne0);
    }
  };
  const int64_t rows = end - begin;
  if (threads <= 1 || rows < 2 || rows * ne0 < (int64_t(1) << 16)) {
    work(begin, end);
    return;
  }
  std::vector<std::thread> pool;
  int64_t per = (rows + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    int64_t b = begin + t * per, e = std::min(end, b + per);
    if (b < e)
      pool.emplace_back(work, b, e);
  }
  for (std::thread &th : pool)
    th.join();
}

class Planner {
public:
  Planner(const GenOptions &opts) : opts(opts), s(opts.shape) {}

  std::vector<TensorPlan> plan() {
    matrix("token_embd.weight", "token_embd", -1, {s.nEmbd, s.nVocab},
           s.tiedOutput ? 1.0 / std::sqrt(double(s.nEmbd)) : 1.0);
    norm("output_norm.weight", s.nEmbd);
    if (!s.tiedOutput)
      matrix("output.weight", "output", -1, {s.nEmbd, s.nVocab});
    Qwen3NextHParams hp = hparams();
    std::vector<int64_t> qkvzOrder = legacyQKVZRowOrder(hp);
    const int64_t Ck = s.ssmGroups * s.ssmStateK;
    const int64_t Cv = s.ssmHeadsV * s.ssmHeadV;
    const int64_t Cc = 2 * Ck + Cv;
    const bool q35 = s.arch != Arch::Qwen3Next;
    // The MTP blocks follow the main ones (qwen35 spec §2.3): full
    // attention, the FFN and the nextn.* tensors.
    for (int64_t il = 0; il < s.nLayer + s.nMtp; ++il) {
      std::string p = "blk." + std::to_string(il) + ".";
      norm(p + "attn_norm.weight", s.nEmbd);
      norm(p + "post_attention_norm.weight", s.nEmbd);
      bool recurrent = il < s.nLayer && (il + 1) % s.fullAttentionInterval != 0;
      if (recurrent && q35) {
        // Already in the file's (tiled) head order: random weights need
        // no permutation, only the split projections.
        matrix(p + "attn_qkv.weight", "ssm_in", il, {s.nEmbd, Cc});
        matrix(p + "attn_gate.weight", "ssm_in", il, {s.nEmbd, Cv});
        matrix(p + "ssm_beta.weight", "ssm_ba", il, {s.nEmbd, s.ssmHeadsV});
        matrix(p + "ssm_alpha.weight", "ssm_ba", il, {s.nEmbd, s.ssmHeadsV});
        linearTail(p, Cc, Cv, il);
      } else if (recurrent) {
        if (opts.layout == LinearLayout::Legacy) {
          matrix(p + "ssm_in.weight", "ssm_in", il, {s.nEmbd, 2 * Ck + 2 * Cv});
        } else {
          matrix(p + "attn_qkv.weight", "ssm_in", il, {s.nEmbd, Cc});
          plans.back().rngKey = p + "ssm_in.weight";
          plans.back().rowMap.assign(qkvzOrder.begin(), qkvzOrder.begin() + Cc);
          matrix(p + "attn_gate.weight", "ssm_in", il, {s.nEmbd, Cv});
          plans.back().rngKey = p + "ssm_in.weight";
          plans.back().rowMap.assign(qkvzOrder.begin() + Cc, qkvzOrder.end());
        }
        matrix(p + "ssm_ba.weight", "ssm_ba", il, {s.nEmbd, 2 * s.ssmHeadsV});
        linearTail(p, Cc, Cv, il);
      } else {
        matrix(p + "attn_q.weight", "attn_q", il,
               {s.nEmbd, 2 * s.nHead * s.headDim});
        matrix(p + "attn_k.weight", "attn_k", il,
               {s.nEmbd, s.nHeadKV * s.headDim});
        matrix(p + "attn_v.weight", "attn_v", il,
               {s.nEmbd, s.nHeadKV * s.headDim});
        matrix(p + "attn_output.weight", "attn_output", il,
               {s.nHead * s.headDim, s.nEmbd});
        norm(p + "attn_q_norm.weight", s.headDim);
        norm(p + "attn_k_norm.weight", s.headDim);
      }
      if (il >= s.nLayer) {
        matrix(p + "nextn.eh_proj.weight", "attn_output", il,
               {2 * s.nEmbd, s.nEmbd});
        norm(p + "nextn.enorm.weight", s.nEmbd);
        norm(p + "nextn.hnorm.weight", s.nEmbd);
        norm(p + "nextn.shared_head_norm.weight", s.nEmbd);
      }
      if (s.arch == Arch::Qwen35) {
        matrix(p + "ffn_gate.weight", "ffn_gate_shexp", il,
               {s.nEmbd, s.denseFF});
        matrix(p + "ffn_up.weight", "ffn_up_shexp", il, {s.nEmbd, s.denseFF});
        matrix(p + "ffn_down.weight", "ffn_down_shexp", il,
               {s.denseFF, s.nEmbd});
        continue;
      }
      f32(p + "ffn_gate_inp.weight", {s.nEmbd, s.nExpert}, Init::Normal,
          1.0 / std::sqrt(double(s.nEmbd)));
      matrix(p + "ffn_gate_exps.weight", "ffn_gate_exps", il,
             {s.nEmbd, s.expertFF, s.nExpert});
      matrix(p + "ffn_up_exps.weight", "ffn_up_exps", il,
             {s.nEmbd, s.expertFF, s.nExpert});
      matrix(p + "ffn_down_exps.weight", "ffn_down_exps", il,
             {s.expertFF, s.nEmbd, s.nExpert});
      if (s.sharedExpert) {
        f32(p + "ffn_gate_inp_shexp.weight", {s.nEmbd}, Init::Normal,
            1.0 / std::sqrt(double(s.nEmbd)));
        matrix(p + "ffn_gate_shexp.weight", "ffn_gate_shexp", il,
               {s.nEmbd, s.sharedFF});
        matrix(p + "ffn_up_shexp.weight", "ffn_up_shexp", il,
               {s.nEmbd, s.sharedFF});
        matrix(p + "ffn_down_shexp.weight", "ffn_down_shexp", il,
               {s.sharedFF, s.nEmbd});
      }
    }
    return std::move(plans);
  }

  Qwen3NextHParams hparams() const {
    Qwen3NextHParams hp;
    hp.nLayer = s.nLayer;
    hp.nEmbd = s.nEmbd;
    hp.ssmGroupCount = s.ssmGroups;
    hp.ssmTimeStepRank = s.ssmHeadsV;
    hp.ssmState = s.ssmStateK;
    hp.ssmInner = s.ssmHeadsV * s.ssmHeadV;
    return hp;
  }

private:
  /// The linear-layer tensors after the input projections (both archs).
  void linearTail(const std::string &p, int64_t Cc, int64_t Cv, int64_t il) {
    // Depthwise taps of about 0.5: a channel's conv output keeps the
    // input's scale over Kc = 4 taps.
    f32(p + "ssm_conv1d.weight", {s.convKernel, Cc}, Init::Normal, 0.5);
    f32(p + "ssm_dt.bias", {s.ssmHeadsV}, Init::Normal, 0.1);
    f32(p + "ssm_a", {s.ssmHeadsV}, Init::SsmA, 0.0);
    norm(p + "ssm_norm.weight", s.ssmHeadV);
    matrix(p + "ssm_out.weight", "ssm_out", il, {Cv, s.nEmbd});
  }

  void add(std::string name, llvm::ArrayRef<int64_t> ne, GGMLType type,
           Init init, double std) {
    TensorPlan t;
    t.rngKey = name;
    t.name = std::move(name);
    t.ne.assign(ne.begin(), ne.end());
    t.type = type;
    t.init = init;
    t.std = std;
    plans.push_back(std::move(t));
  }
  /// A weight matrix: N(0, 1/fan_in) (fan_in = ne0) unless `std` is given,
  /// stored in the type the requested format picks for its role.
  void matrix(std::string name, llvm::StringRef role, int64_t layer,
              llvm::ArrayRef<int64_t> ne, double std = 0.0) {
    if (std == 0.0)
      std = 1.0 / std::sqrt(double(ne[0]));
    add(std::move(name), ne,
        chooseGenTensorType(opts.type, role, layer, s.nLayer, ne[0]),
        Init::Normal, std);
  }
  void norm(std::string name, int64_t n) {
    add(std::move(name), {n}, GGMLType::F32, Init::NearOne, 0.1);
  }
  void f32(std::string name, llvm::ArrayRef<int64_t> ne, Init init,
           double std) {
    add(std::move(name), ne, GGMLType::F32, init, std);
  }

  const GenOptions &opts;
  const GenShape &s;
  std::vector<TensorPlan> plans;
};

Value u32(int64_t v) {
  return Value::makeUInt(ValueType::UInt32, static_cast<uint64_t>(v));
}

Value stringArray(const std::vector<std::string> &strings) {
  std::vector<Value> values;
  values.reserve(strings.size());
  for (const std::string &s : strings)
    values.push_back(Value::makeString(s));
  return Value::makeArray(ValueType::String, std::move(values));
}

const char *const kChatMLTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + "
    "'\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}";

/// Adds tokenizer.* keys; returns the vocabulary size.
llvm::Expected<int64_t> addTokenizer(GGUFWriter &w, const GenOptions &opts) {
  if (!opts.vocabFrom.empty()) {
    auto fileOr = GGUFFile::open(opts.vocabFrom);
    if (!fileOr)
      return llvm::createStringError("--vocab-from " + opts.vocabFrom + ": " +
                                     llvm::toString(fileOr.takeError()));
    const GGUFFile &f = **fileOr;
    const Value *tokens = f.find("tokenizer.ggml.tokens");
    if (!tokens || !tokens->isArray() || tokens->arraySize() == 0 ||
        tokens->arrayElementType() != ValueType::String)
      return llvm::createStringError("--vocab-from " + opts.vocabFrom +
                                     ": no tokenizer.ggml.tokens string array");
    for (const auto &kv : f.metadata())
      if (llvm::StringRef(kv.first).starts_with("tokenizer."))
        w.setValue(kv.first, kv.second);
    return static_cast<int64_t>(tokens->arraySize());
  }
  const int64_t size = opts.shape.nVocab;
  BuiltinVocab v = makeBuiltinVocab(size, std::max<int64_t>(0, size - 259));
  w.setValue("tokenizer.ggml.model", Value::makeString("gpt2"));
  // The Qwen3.5 files' pre-tokenizer name (qwen35 spec §6).
  w.setValue("tokenizer.ggml.pre",
             Value::makeString(opts.shape.arch == Arch::Qwen3Next ? "qwen2"
                                                                  : "qwen35"));
  w.setValue("tokenizer.ggml.tokens", stringArray(v.tokens));
  std::vector<Value> types;
  for (int32_t t : v.tokenTypes)
    types.push_back(Value::makeInt(ValueType::Int32, t));
  w.setValue("tokenizer.ggml.token_type",
             Value::makeArray(ValueType::Int32, std::move(types)));
  w.setValue("tokenizer.ggml.merges", stringArray(v.merges));
  w.setValue("tokenizer.ggml.eos_token_id", u32(v.eosId));
  w.setValue("tokenizer.ggml.padding_token_id", u32(v.bosId));
  w.setValue("tokenizer.ggml.bos_token_id", u32(v.bosId));
  w.setValue("tokenizer.ggml.add_bos_token", Value::makeBool(false));
  w.setValue("tokenizer.chat_template", Value::makeString(kChatMLTemplate));
  return static_cast<int64_t>(v.tokens.size());
}

void addHParams(GGUFWriter &w, const GenShape &s) {
  const std::string a = getArchName(s.arch).str() + ".";
  const bool dense = s.arch == Arch::Qwen35;
  auto put = [&](const char *key, int64_t v) { w.setValue(a + key, u32(v)); };
  // block_count counts the MTP blocks (qwen35 spec §1.1).
  put("block_count", s.nLayer + s.nMtp);
  if (s.nMtp > 0)
    put("nextn_predict_layers", s.nMtp);
  if (s.arch != Arch::Qwen3Next) {
    std::vector<Value> sections;
    for (int64_t x : s.ropeSections)
      sections.push_back(Value::makeInt(ValueType::Int32, x));
    w.setValue(a + "rope.dimension_sections",
               Value::makeArray(ValueType::Int32, std::move(sections)));
  }
  put("context_length", s.contextLength);
  put("embedding_length", s.nEmbd);
  put("feed_forward_length", dense ? s.denseFF : s.expertFF);
  put("vocab_size", s.nVocab);
  put("attention.head_count", s.nHead);
  put("attention.head_count_kv", s.nHeadKV);
  put("attention.key_length", s.headDim);
  put("attention.value_length", s.headDim);
  w.setValue(a + "attention.layer_norm_rms_epsilon",
             Value::makeFloat(ValueType::Float32, s.rmsEps));
  w.setValue(a + "rope.freq_base",
             Value::makeFloat(ValueType::Float32, s.ropeBase));
  put("rope.dimension_count", s.ropeDims);
  if (!dense) {
    put("expert_count", s.nExpert);
    put("expert_used_count", s.nExpertUsed);
    put("expert_feed_forward_length", s.expertFF);
    put("expert_shared_feed_forward_length", s.sharedFF);
  }
  put("ssm.conv_kernel", s.convKernel);
  put("ssm.state_size", s.ssmStateK);
  put("ssm.group_count", s.ssmGroups);
  put("ssm.time_step_rank", s.ssmHeadsV);
  put("ssm.inner_size", s.ssmHeadsV * s.ssmHeadV);
  put("full_attention_interval", s.fullAttentionInterval);
}

} // namespace

llvm::Error generateQwen3Next(const GenOptions &optsIn, llvm::StringRef path) {
  GenOptions opts = optsIn;
  if (llvm::Error err = validateGenShape(opts.shape))
    return err;
  GGUFWriter w(32);
  w.setValue("general.architecture",
             Value::makeString(getArchName(opts.shape.arch).str()));
  w.setValue("general.name", Value::makeString(opts.name));
  w.setValue("general.alignment", u32(32));
  auto vocabOr = addTokenizer(w, opts);
  if (!vocabOr)
    return vocabOr.takeError();
  opts.shape.nVocab = *vocabOr;
  if (llvm::Error err = validateGenShape(opts.shape))
    return err;
  addHParams(w, opts.shape);
  if (opts.type != GenType::F32) {
    w.setValue("general.quantization_version", u32(2));
    w.setValue("general.file_type", u32(fileType(opts.type)));
  }

  Planner planner(opts);
  auto plans = std::make_shared<std::vector<TensorPlan>>(planner.plan());
  const uint64_t seed = opts.seed;
  const unsigned threads = std::max(1u, opts.threads);
  for (const TensorPlan &t : *plans) {
    if (t.type != GGMLType::F32 && !canQuantize(t.type))
      return llvm::createStringError(
          llvm::formatv("tensor '{0}': cannot write type {1} yet", t.name,
                        getTypeName(t.type))
              .str());
    const TensorPlan *tp = &t;
    if (llvm::Error err = w.addTensorProduced(
            t.name, t.type, t.ne,
            [plans, tp, seed, threads](int64_t b, int64_t e, uint8_t *dst) {
              produceRows(*tp, seed, threads, b, e, dst);
            }))
      return err;
  }
  return w.writeFile(path, {opts.vocabFrom});
}

} // namespace qn::gguf

//===- Qwen3Next.cpp - the qwen3next model as stored in GGUF --------------===//
//
// Key names, defaults and tensor shapes follow
// ../shared/docs/qwen3next-model.md §1 (keys) and §2 (tensors).
//
//===----------------------------------------------------------------------===//

#include "gguf/Qwen3Next.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace qn::gguf {

namespace {

/// "1e-06", "-10000", "nan": as the value was written, for messages.
std::string shortNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(msg.str());
}

/// Reads a required or optional positive-or-zero integer key. A per-layer
/// array (allowed for head counts) must hold one value for every layer.
class KeyReader {
public:
  KeyReader(const GGUFFile &file, llvm::StringRef arch)
      : file(file), arch(arch) {}

  std::string archKey(llvm::StringRef suffix) const {
    return (arch + "." + suffix).str();
  }

  llvm::Expected<int64_t> required(llvm::StringRef suffix) {
    std::string key = archKey(suffix);
    const Value *v = file.find(key);
    if (!v)
      return makeError(arch + ": missing required metadata key '" + key + "'");
    return toInt(key, *v);
  }

  llvm::Expected<int64_t> optional(llvm::StringRef suffix, int64_t dflt) {
    std::string key = archKey(suffix);
    const Value *v = file.find(key);
    if (!v)
      return dflt;
    return toInt(key, *v);
  }

  llvm::Expected<double> optionalFloat(llvm::StringRef suffix,
                                       std::optional<double> dflt) {
    std::string key = archKey(suffix);
    const Value *v = file.find(key);
    if (!v) {
      if (dflt)
        return *dflt;
      return makeError(arch + ": missing required metadata key '" + key + "'");
    }
    if (std::optional<double> f = v->asFloat())
      return *f;
    return makeError(arch + ": metadata key '" + key +
                     "' should be a number, found " +
                     getValueTypeName(v->type()) + " " + v->toString(4));
  }

private:
  llvm::Expected<int64_t> toInt(const std::string &key, const Value &v) {
    if (v.isArray()) {
      // Per-layer form: qn supports it only when every layer agrees. Zeros
      // mean "not used by this layer" (hybrid converters write 0 KV heads
      // for recurrent layers), so they are skipped.
      std::optional<int64_t> first;
      for (const Value &e : v.array()) {
        std::optional<int64_t> x = e.asInt();
        if (!x || *x < 0)
          return makeError(arch + ": metadata key '" + key +
                           "' should hold non-negative integers, found " +
                           v.toString(4));
        if (*x == 0)
          continue;
        if (first && *first != *x)
          return makeError(arch + ": metadata key '" + key +
                           "' differs between layers (" + v.toString(8) +
                           "); qn needs one value for all layers");
        first = *x;
      }
      if (!first)
        return makeError(arch + ": metadata key '" + key +
                         "' holds no non-zero value");
      return *first;
    }
    std::optional<int64_t> x = v.asInt();
    if (!x || *x < 0)
      return makeError(arch + ": metadata key '" + key +
                       "' should be a non-negative integer, found " +
                       getValueTypeName(v.type()) + " " + v.toString(4));
    return *x;
  }

  const GGUFFile &file;
  llvm::StringRef arch;
};

/// rope.dimension_sections: exactly four non-negative integers (a 3-entry
/// array is the Qwen2-VL form the peer rejects, qwen35 spec §1.1), at
/// least one of the t/h/w sections positive.
llvm::Error readRopeSections(const GGUFFile &file, const std::string &key,
                             llvm::StringRef arch,
                             std::array<int64_t, 4> &sections) {
  const Value *v = file.find(key);
  if (!v)
    return makeError(arch + ": missing required metadata key '" + key + "'");
  if (!v->isArray() || v->arraySize() != 4)
    return makeError(arch + ": metadata key '" + key +
                     "' should be an array of 4 integers (t, h, w, e), found " +
                     getValueTypeName(v->type()) + " " + v->toString(8));
  for (size_t i = 0; i < 4; ++i) {
    std::optional<int64_t> x = v->array()[i].asInt();
    if (!x || *x < 0)
      return makeError(arch + ": metadata key '" + key +
                       "' should hold non-negative integers, found " +
                       v->toString(8));
    sections[i] = *x;
  }
  if (sections[0] + sections[1] + sections[2] == 0)
    return makeError(arch + ": metadata key '" + key +
                     "' has no positive t, h or w section: " + v->toString(8));
  return llvm::Error::success();
}

} // namespace

std::optional<Arch> parseArch(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Arch>>(name)
      .Case("qwen3next", Arch::Qwen3Next)
      .Case("qwen35", Arch::Qwen35)
      .Case("qwen35moe", Arch::Qwen35Moe)
      .Default(std::nullopt);
}

// The key prefix and message prefix.
llvm::StringRef getArchName(Arch arch) {
  switch (arch) {
  case Arch::Qwen35:
    return "qwen35";
  case Arch::Qwen35Moe:
    return "qwen35moe";
  case Arch::Qwen3Next:
    break;
  }
  return "qwen3next";
}

llvm::Expected<Qwen3NextHParams> readQwen3NextHParams(const GGUFFile &file) {
  llvm::Expected<llvm::StringRef> arch = file.getString("general.architecture");
  if (!arch)
    return arch.takeError();
  std::optional<Arch> which = parseArch(*arch);
  if (!which)
    return makeError("general.architecture is '" + *arch +
                     "', expected 'qwen3next', 'qwen35' or 'qwen35moe'");

  Qwen3NextHParams hp;
  hp.arch = *which;
  const bool q35 = hp.arch != Arch::Qwen3Next;
  hp.vHeadOrder = q35 ? VHeadOrder::Tiled : VHeadOrder::Grouped;
  const llvm::StringRef archPrefix = getArchName(hp.arch);
  KeyReader keys(file, archPrefix);
  auto archKey = [&](llvm::StringRef suffix) { return keys.archKey(suffix); };
  // Assigns `field` from an Expected or returns its error.
#define QN_READ(field, expr)                                                   \
  do {                                                                         \
    auto value = (expr);                                                       \
    if (!value)                                                                \
      return value.takeError();                                                \
    hp.field = *value;                                                         \
  } while (false)

  // block_count counts the MTP blocks too (qwen35 spec §1.1); nLayer, the
  // blocks the main forward runs, is set once both keys are checked.
  QN_READ(nLayerAll, keys.required("block_count"));
  if (q35)
    QN_READ(nMtp, keys.optional("nextn_predict_layers", 0));
  QN_READ(nCtxTrain, keys.required("context_length"));
  QN_READ(nEmbd, keys.required("embedding_length"));
  QN_READ(nHead, keys.required("attention.head_count"));
  QN_READ(nHeadKV, keys.optional("attention.head_count_kv", hp.nHead));
  // key_length must be present: its default D/Hq is wrong for this model.
  QN_READ(headDim, keys.required("attention.key_length"));
  int64_t valueLength;
  {
    auto v = keys.optional("attention.value_length", hp.headDim);
    if (!v)
      return v.takeError();
    valueLength = *v;
  }
  QN_READ(ropeDims, keys.optional("rope.dimension_count", hp.headDim));
  QN_READ(ropeBase, keys.optionalFloat("rope.freq_base", 10000.0));
  QN_READ(rmsEps,
          keys.optionalFloat("attention.layer_norm_rms_epsilon", std::nullopt));
  QN_READ(convKernel, keys.required("ssm.conv_kernel"));
  QN_READ(ssmInner, keys.required("ssm.inner_size"));
  QN_READ(ssmState, keys.required("ssm.state_size"));
  QN_READ(ssmTimeStepRank, keys.required("ssm.time_step_rank"));
  QN_READ(ssmGroupCount, keys.required("ssm.group_count"));
  QN_READ(nExpert, keys.optional("expert_count", 0));
  QN_READ(nExpertUsed, keys.optional("expert_used_count", 0));
  int64_t denseFF;
  {
    auto v = keys.optional("feed_forward_length", 0);
    if (!v)
      return v.takeError();
    denseFF = *v;
  }
  if (hp.arch == Arch::Qwen35)
    hp.denseFF = denseFF;
  QN_READ(expertFF,
          keys.optional("expert_feed_forward_length",
                        hp.nExpertUsed ? denseFF / hp.nExpertUsed : 0));
  // Fs defaults to F for qwen3next but to feed_forward_length for qwen35moe
  // (qwen35 spec §1.1, pitfall 7).
  QN_READ(sharedExpertFF,
          keys.optional("expert_shared_feed_forward_length",
                        hp.arch == Arch::Qwen35Moe ? denseFF : hp.expertFF));
  QN_READ(fullAttentionInterval, keys.optional("full_attention_interval", 4));
  // Without the FF-width keys the defaults (F = n_ff / k, Fs = F) are guesses
  // that differ between implementations; the tensors know.
  auto inferWidth = [&](llvm::StringRef key, llvm::StringRef tensor,
                        int64_t &width) {
    if (file.find(archKey(key)))
      return;
    if (const TensorInfo *t = file.findTensor(tensor); t && t->ne.size() >= 2)
      width = t->ne[1];
  };
  inferWidth("expert_feed_forward_length", "blk.0.ffn_gate_exps.weight",
             hp.expertFF);
  inferWidth("expert_shared_feed_forward_length", "blk.0.ffn_gate_shexp.weight",
             hp.sharedExpertFF);
#undef QN_READ

  // Vocabulary size: explicit key, else the token list, else token_embd.
  if (const Value *v = file.find(archKey("vocab_size"))) {
    std::optional<int64_t> n = v->asInt();
    if (!n || *n <= 0)
      return makeError(archPrefix + ": metadata key '" + archKey("vocab_size") +
                       "' should be a positive integer, found " +
                       v->toString(4));
    hp.nVocab = *n;
  } else if (const Value *tokens = file.find("tokenizer.ggml.tokens");
             tokens && tokens->isArray()) {
    hp.nVocab = static_cast<int64_t>(tokens->arraySize());
  }
  if (const TensorInfo *embd = file.findTensor("token_embd.weight");
      embd && embd->ne.size() == 2)
    hp.nVocab = embd->ne[1]; // the rows that exist are what can be embedded

  const bool dense = hp.arch == Arch::Qwen35;
  auto check = [&](bool ok, const llvm::Twine &msg) -> llvm::Error {
    return ok ? llvm::Error::success()
              : makeError(archPrefix +
                          ": inconsistent hyper-parameters: " + msg);
  };
  const int64_t tensorCount = static_cast<int64_t>(file.tensors().size());
  if (q35) {
    if (llvm::Error err =
            readRopeSections(file, archKey("rope.dimension_sections"),
                             archPrefix, hp.ropeSections))
      return std::move(err);
    hp.hasRopeSections = true;
    if (hp.nMtp > hp.nLayerAll || (hp.nLayerAll > 0 && hp.nMtp == hp.nLayerAll))
      return makeError(archPrefix +
                       llvm::formatv(": nextn_predict_layers ({0}) must be "
                                     "smaller than block_count ({1}): the MTP "
                                     "blocks are counted in block_count",
                                     hp.nMtp, hp.nLayerAll));
  }
  hp.nLayer = hp.nLayerAll - hp.nMtp;
  const int64_t maxLayers =
      tensorCount > 0 ? std::min(kMaxLayers, tensorCount) : kMaxLayers;
  std::pair<bool, std::string> rules[] = {
      {hp.nLayerAll > 0 && hp.nLayerAll <= maxLayers,
       llvm::formatv("block_count ({0}) must be in [1, {1}] (the file has {2} "
                     "tensors, at most {3} layers are supported)",
                     hp.nLayerAll, maxLayers, tensorCount, kMaxLayers)},
      {hp.nEmbd > 0, "embedding_length must be > 0"},
      {hp.nHead > 0, "attention.head_count must be > 0"},
      {hp.nHeadKV > 0 && hp.nHead % hp.nHeadKV == 0,
       llvm::formatv("attention.head_count ({0}) must be a multiple of "
                     "head_count_kv ({1})",
                     hp.nHead, hp.nHeadKV)},
      {hp.headDim > 0, "attention.key_length must be > 0"},
      {valueLength == hp.headDim,
       llvm::formatv("attention.value_length ({0}) must equal key_length ({1})",
                     valueLength, hp.headDim)},
      {hp.ropeDims > 0 && hp.ropeDims <= hp.headDim && hp.ropeDims % 2 == 0,
       llvm::formatv("rope.dimension_count ({0}) must be even and within "
                     "(0, key_length={1}]",
                     hp.ropeDims, hp.headDim)},
      {std::isfinite(hp.ropeBase) && hp.ropeBase > 0,
       llvm::formatv("rope.freq_base ({0}) must be a finite number > 0",
                     shortNumber(hp.ropeBase))},
      {std::isfinite(hp.rmsEps) && hp.rmsEps > 0,
       llvm::formatv("attention.layer_norm_rms_epsilon ({0}) must be a finite "
                     "number > 0",
                     shortNumber(hp.rmsEps))},
      {hp.convKernel > 0, "ssm.conv_kernel must be > 0"},
      {hp.ssmState > 0, "ssm.state_size must be > 0"},
      {hp.ssmGroupCount > 0, "ssm.group_count must be > 0"},
      {hp.ssmTimeStepRank > 0 && hp.ssmTimeStepRank % hp.ssmGroupCount == 0,
       llvm::formatv("ssm.time_step_rank ({0}) must be a positive multiple of "
                     "ssm.group_count ({1})",
                     hp.ssmTimeStepRank, hp.ssmGroupCount)},
      {hp.ssmInner > 0 && hp.ssmInner % hp.ssmTimeStepRank == 0,
       llvm::formatv("ssm.inner_size ({0}) must be a positive multiple of "
                     "ssm.time_step_rank ({1})",
                     hp.ssmInner, hp.ssmTimeStepRank)},
      {dense || hp.nExpert > 0,
       "expert_count must be > 0 (every layer has a MoE)"},
      {dense || (hp.nExpertUsed > 0 && hp.nExpertUsed <= hp.nExpert),
       llvm::formatv("expert_used_count ({0}) must be in [1, expert_count={1}]",
                     hp.nExpertUsed, hp.nExpert)},
      {dense || hp.expertFF > 0, "expert_feed_forward_length must be > 0"},
      {!dense || hp.denseFF > 0,
       "feed_forward_length must be > 0 (every qwen35 layer has a dense FFN)"},
      // The qwen35 loaders size the linear layer with dv = state_size, the
      // graph with inner_size / time_step_rank (qwen35 spec §1.1, pitfall 6).
      {!q35 || hp.ssmInner == hp.ssmState * hp.ssmTimeStepRank,
       llvm::formatv("ssm.inner_size ({0}) must equal ssm.state_size ({1}) x "
                     "ssm.time_step_rank ({2}): qwen35 files need dk == dv",
                     hp.ssmInner, hp.ssmState, hp.ssmTimeStepRank)},
      {hp.fullAttentionInterval > 0, "full_attention_interval must be > 0"},
  };
  for (auto &rule : rules)
    if (llvm::Error err = check(rule.first, rule.second))
      return std::move(err);

  hp.isRecurrent.resize(hp.nLayer);
  if (const Value *flags = file.find(archKey("attention.recurrent_layers"))) {
    if (!flags->isArray() ||
        flags->arraySize() != static_cast<size_t>(hp.nLayer))
      return makeError(archPrefix +
                       llvm::formatv(": attention.recurrent_layers should be "
                                     "an array of {0} bools, found {1}",
                                     hp.nLayer, flags->toString(4)));
    for (int64_t i = 0; i < hp.nLayer; ++i) {
      const Value &e = flags->array()[i];
      std::optional<bool> b = e.asBool();
      std::optional<int64_t> n = e.asInt();
      if (!b && !n)
        return makeError(archPrefix + ": attention.recurrent_layers[" +
                         llvm::Twine(i) + "] is not a bool");
      hp.isRecurrent[i] = b ? *b : *n != 0;
    }
  } else {
    for (int64_t i = 0; i < hp.nLayer; ++i)
      hp.isRecurrent[i] = (i + 1) % hp.fullAttentionInterval != 0;
  }
  return hp;
}

namespace {

/// Looks tensors up by name and checks shape and (optionally) type.
class TensorBinder {
public:
  TensorBinder(const GGUFFile &file, llvm::StringRef arch)
      : file(file), arch(arch) {}

  /// A required tensor of exactly shape `ne`.
  llvm::Error bind(const TensorInfo *&slot, const std::string &name,
                   llvm::ArrayRef<int64_t> ne, bool requireF32 = false) {
    slot = file.findTensor(name);
    if (!slot)
      return makeError(arch + ": missing tensor '" + name +
                       "' (expected shape " + shapeString(ne) + ")");
    return check(*slot, ne, requireF32);
  }

  /// An optional tensor: absent leaves `slot` null.
  llvm::Error bindOptional(const TensorInfo *&slot, const std::string &name,
                           llvm::ArrayRef<int64_t> ne,
                           bool requireF32 = false) {
    slot = file.findTensor(name);
    if (!slot)
      return llvm::Error::success();
    return check(*slot, ne, requireF32);
  }

  bool has(const std::string &name) const {
    return file.findTensor(name) != nullptr;
  }

  static std::string shapeString(llvm::ArrayRef<int64_t> ne) {
    std::string s = "{";
    for (size_t i = 0; i < ne.size(); ++i)
      s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "}";
  }

private:
  llvm::Error check(const TensorInfo &t, llvm::ArrayRef<int64_t> ne,
                    bool requireF32) {
    // Trailing dims of 1 do not change the layout; accept {D} for {D, 1}.
    llvm::ArrayRef<int64_t> found(t.ne);
    while (found.size() > 1 && found.back() == 1)
      found = found.drop_back();
    llvm::ArrayRef<int64_t> want = ne;
    while (want.size() > 1 && want.back() == 1)
      want = want.drop_back();
    if (found != want)
      return makeError(arch + ": tensor '" + t.name + "' has shape " +
                       t.shapeString() + ", expected " + shapeString(ne));
    if (requireF32 && t.type != GGMLType::F32)
      return makeError(arch + ": tensor '" + t.name + "' has type " +
                       getTypeName(t.type) + ", expected f32");
    return llvm::Error::success();
  }

  const GGUFFile &file;
  llvm::StringRef arch;
};

std::string blk(int64_t layer, llvm::StringRef suffix) {
  return ("blk." + llvm::Twine(layer) + "." + suffix).str();
}

} // namespace

llvm::Expected<Qwen3NextModel> describeQwen3Next(const GGUFFile &file) {
  llvm::Expected<Qwen3NextHParams> hpOr = readQwen3NextHParams(file);
  if (!hpOr)
    return hpOr.takeError();
  Qwen3NextModel model;
  model.hp = std::move(*hpOr);
  const Qwen3NextHParams &hp = model.hp;
  const llvm::StringRef arch = getArchName(hp.arch);
  const bool q35 = hp.arch != Arch::Qwen3Next;
  TensorBinder binder(file, arch);

  const int64_t D = hp.nEmbd, V = hp.nVocab, E = hp.nExpert;
  const int64_t F = hp.expertFF, Fs = hp.sharedExpertFF, Fd = hp.denseFF;
  const int64_t Hq = hp.nHead, Hkv = hp.nHeadKV, Dh = hp.headDim;
  const int64_t Hv = hp.ssmTimeStepRank, dv = hp.headVDim();
  const int64_t Ck = hp.keyDim(), Cv = hp.ssmInner, Cc = hp.convChannels();
  const int64_t Kc = hp.convKernel;

  const TensorInfo *embd = file.findTensor("token_embd.weight");
  if (!embd)
    return makeError(arch + ": missing tensor 'token_embd.weight'");
  // V comes from token_embd's rows: a zero or missing dim there would
  // otherwise surface as an unknown vocabulary, not as the tensor at fault.
  if (embd->ne.size() != 2 || embd->ne[0] <= 0 || embd->ne[1] <= 0)
    return makeError(arch + ": tensor 'token_embd.weight' has shape " +
                     embd->shapeString() + ", expected {" + llvm::Twine(D) +
                     ", n_vocab} with n_vocab > 0");
  if (V <= 0)
    return makeError(arch + ": vocabulary size unknown");
  if (llvm::Error err =
          binder.bind(model.tokenEmbd, "token_embd.weight", {D, V}))
    return std::move(err);
  if (llvm::Error err =
          binder.bind(model.outputNorm, "output_norm.weight", {D}, true))
    return std::move(err);
  if (llvm::Error err =
          binder.bindOptional(model.output, "output.weight", {D, V}))
    return std::move(err);
  model.tiedOutput = model.output == nullptr;
  if (model.tiedOutput)
    model.output = model.tokenEmbd;

  // The full-attention tensors of block `il` (attn_q optional in qwen35
  // MTP blocks: spec §2.3).
  auto bindAttention = [&](Qwen3NextLayer &l, int64_t il,
                           bool qOptional) -> llvm::Error {
    auto bind = [&](const TensorInfo *&slot, llvm::StringRef suffix,
                    llvm::ArrayRef<int64_t> ne, bool f32 = false) {
      return binder.bind(slot, blk(il, suffix), ne, f32);
    };
    if (llvm::Error err =
            qOptional ? binder.bindOptional(l.attnQ, blk(il, "attn_q.weight"),
                                            {D, 2 * Hq * Dh})
                      : bind(l.attnQ, "attn_q.weight", {D, 2 * Hq * Dh}))
      return err;
    if (llvm::Error err = bind(l.attnK, "attn_k.weight", {D, Hkv * Dh}))
      return err;
    if (llvm::Error err = bind(l.attnV, "attn_v.weight", {D, Hkv * Dh}))
      return err;
    if (llvm::Error err =
            bind(l.attnOutput, "attn_output.weight", {Hq * Dh, D}))
      return err;
    if (llvm::Error err = bind(l.attnQNorm, "attn_q_norm.weight", {Dh}, true))
      return err;
    return bind(l.attnKNorm, "attn_k_norm.weight", {Dh}, true);
  };

  // The FFN of block `il`: dense SwiGLU (qwen35) or the MoE with a shared
  // expert that is optional as a whole (qwen3next) or required (qwen35moe).
  auto bindFFN = [&](Qwen3NextLayer &l, int64_t il) -> llvm::Error {
    auto bind = [&](const TensorInfo *&slot, llvm::StringRef suffix,
                    llvm::ArrayRef<int64_t> ne, bool f32 = false) {
      return binder.bind(slot, blk(il, suffix), ne, f32);
    };
    if (hp.denseFFN()) {
      if (llvm::Error err = bind(l.ffnGate, "ffn_gate.weight", {D, Fd}))
        return err;
      if (llvm::Error err = bind(l.ffnUp, "ffn_up.weight", {D, Fd}))
        return err;
      return bind(l.ffnDown, "ffn_down.weight", {Fd, D});
    }
    if (llvm::Error err = bind(l.ffnGateInp, "ffn_gate_inp.weight", {D, E}))
      return err;
    if (!binder.has(blk(il, "ffn_gate_exps.weight")) &&
        binder.has(blk(il, "ffn_gate_up_exps.weight")))
      return makeError(arch + ": layer " + llvm::Twine(il) +
                       " stores merged ffn_gate_up_exps, which qn does not "
                       "support yet (expected ffn_gate_exps + ffn_up_exps)");
    if (llvm::Error err =
            bind(l.ffnGateExps, "ffn_gate_exps.weight", {D, F, E}))
      return err;
    if (llvm::Error err = bind(l.ffnUpExps, "ffn_up_exps.weight", {D, F, E}))
      return err;
    if (llvm::Error err =
            bind(l.ffnDownExps, "ffn_down_exps.weight", {F, D, E}))
      return err;

    const char *shexp[] = {"ffn_gate_inp_shexp.weight", "ffn_gate_shexp.weight",
                           "ffn_up_shexp.weight", "ffn_down_shexp.weight"};
    int present = 0;
    for (const char *name : shexp)
      present += binder.has(blk(il, name));
    // qwen35moe requires the shared expert (spec §2.2); binding it below
    // names the first missing tensor.
    if (present == 0 && hp.arch != Arch::Qwen35Moe)
      return llvm::Error::success();
    if (present != 0 && present != 4 && hp.arch != Arch::Qwen35Moe)
      return makeError(arch + ": layer " + llvm::Twine(il) +
                       " has only some of the shared-expert tensors "
                       "(ffn_gate_inp_shexp, ffn_{gate,up,down}_shexp)");
    if (Fs <= 0)
      return makeError(arch + ": shared expert present but "
                              "expert_shared_feed_forward_length is 0");
    if (llvm::Error err =
            bind(l.ffnGateInpShexp, "ffn_gate_inp_shexp.weight", {D}, true))
      return err;
    if (llvm::Error err =
            bind(l.ffnGateShexp, "ffn_gate_shexp.weight", {D, Fs}))
      return err;
    if (llvm::Error err = bind(l.ffnUpShexp, "ffn_up_shexp.weight", {D, Fs}))
      return err;
    return bind(l.ffnDownShexp, "ffn_down_shexp.weight", {Fs, D});
  };

  std::optional<LinearLayout> layout;
  model.layers.resize(hp.nLayer);
  for (int64_t il = 0; il < hp.nLayer; ++il) {
    Qwen3NextLayer &l = model.layers[il];
    auto bind = [&](const TensorInfo *&slot, llvm::StringRef suffix,
                    llvm::ArrayRef<int64_t> ne, bool f32 = false) {
      return binder.bind(slot, blk(il, suffix), ne, f32);
    };
    if (llvm::Error err = bind(l.attnNorm, "attn_norm.weight", {D}, true))
      return std::move(err);
    if (llvm::Error err =
            bind(l.postAttnNorm, "post_attention_norm.weight", {D}, true))
      return std::move(err);

    if (hp.isRecurrent[il]) {
      bool hasLegacy = binder.has(blk(il, "ssm_in.weight"));
      bool hasSplit = binder.has(blk(il, "attn_qkv.weight")) ||
                      binder.has(blk(il, "attn_gate.weight"));
      if (q35) {
        // Qwen3.5 files carry split projections with the v heads tiled
        // (spec §2.2, §2.4); the grouped qwen3next tensors would be read in
        // the wrong head order, so they are refused, not converted.
        for (const char *name : {"ssm_in.weight", "ssm_ba.weight"})
          if (binder.has(blk(il, name)))
            return makeError(arch + ": tensor '" + blk(il, name) +
                             "' is a qwen3next tensor; " + arch +
                             " linear layers use attn_qkv, attn_gate, "
                             "ssm_beta and ssm_alpha");
        hasLegacy = false;
      } else if (hasLegacy && hasSplit) {
        return makeError(arch + ": layer " + llvm::Twine(il) +
                         " has both ssm_in and attn_qkv/attn_gate; a file "
                         "uses one layout");
      }
      LinearLayout here =
          hasLegacy ? LinearLayout::Legacy : LinearLayout::Split;
      if (layout && *layout != here)
        return makeError(arch + ": layer " + llvm::Twine(il) +
                         " uses a different linear-layer layout (ssm_in vs "
                         "attn_qkv+attn_gate) than earlier layers");
      layout = here;
      if (here == LinearLayout::Legacy) {
        if (llvm::Error err =
                bind(l.ssmIn, "ssm_in.weight", {D, 2 * Ck + 2 * Cv}))
          return std::move(err);
      } else {
        if (llvm::Error err = bind(l.attnQKV, "attn_qkv.weight", {D, Cc}))
          return std::move(err);
        if (llvm::Error err = bind(l.attnGate, "attn_gate.weight", {D, Cv}))
          return std::move(err);
      }
      if (q35) {
        if (llvm::Error err = bind(l.ssmBeta, "ssm_beta.weight", {D, Hv}))
          return std::move(err);
        if (llvm::Error err = bind(l.ssmAlpha, "ssm_alpha.weight", {D, Hv}))
          return std::move(err);
      } else if (llvm::Error err =
                     bind(l.ssmBA, "ssm_ba.weight", {D, 2 * Hv})) {
        return std::move(err);
      }
      if (llvm::Error err =
              bind(l.ssmConv1d, "ssm_conv1d.weight", {Kc, Cc}, true))
        return std::move(err);
      if (llvm::Error err = bind(l.ssmDt, "ssm_dt.bias", {Hv}, true))
        return std::move(err);
      if (llvm::Error err = bind(l.ssmA, "ssm_a", {Hv}, true))
        return std::move(err);
      if (llvm::Error err = bind(l.ssmNorm, "ssm_norm.weight", {dv}, true))
        return std::move(err);
      if (llvm::Error err = bind(l.ssmOut, "ssm_out.weight", {Cv, D}))
        return std::move(err);
    } else if (llvm::Error err = bindAttention(l, il, /*qOptional=*/false)) {
      return std::move(err);
    }
    if (llvm::Error err = bindFFN(l, il))
      return std::move(err);
  }
  model.layout = layout.value_or(LinearLayout::Split);

  // MTP blocks: required tensors must be there with the right shapes even
  // though the main forward skips them (spec §2.3, as the peer checks).
  for (int64_t il = hp.nLayer; il < hp.nLayerAll; ++il) {
    Qwen3NextModel::MtpBlock m;
    Qwen3NextLayer &l = m.layer;
    auto bind = [&](const TensorInfo *&slot, llvm::StringRef suffix,
                    llvm::ArrayRef<int64_t> ne, bool f32 = false) {
      return binder.bind(slot, blk(il, suffix), ne, f32);
    };
    if (llvm::Error err = bind(l.attnNorm, "attn_norm.weight", {D}, true))
      return std::move(err);
    if (llvm::Error err =
            bind(l.postAttnNorm, "post_attention_norm.weight", {D}, true))
      return std::move(err);
    if (llvm::Error err = bindAttention(l, il, hp.arch == Arch::Qwen35))
      return std::move(err);
    // qwen35 MTP blocks may lack their FFN (the peer falls back); when one
    // FFN tensor is there, all must be.
    const bool ffnPresent = hp.arch == Arch::Qwen35Moe ||
                            binder.has(blk(il, "ffn_gate.weight")) ||
                            binder.has(blk(il, "ffn_up.weight")) ||
                            binder.has(blk(il, "ffn_down.weight"));
    if (ffnPresent)
      if (llvm::Error err = bindFFN(l, il))
        return std::move(err);
    if (llvm::Error err = binder.bindOptional(
            m.ehProj, blk(il, "nextn.eh_proj.weight"), {2 * D, D}))
      return std::move(err);
    if (llvm::Error err = bind(m.enorm, "nextn.enorm.weight", {D}, true))
      return std::move(err);
    if (llvm::Error err = bind(m.hnorm, "nextn.hnorm.weight", {D}, true))
      return std::move(err);
    if (llvm::Error err = binder.bindOptional(
            m.sharedHeadNorm, blk(il, "nextn.shared_head_norm.weight"), {D},
            true))
      return std::move(err);
    model.mtp.push_back(m);
  }
  return model;
}

bool Qwen3NextHParams::ropePairRotates(int64_t i) const {
  return !hasRopeSections || imropePairRotates(ropeSections, i);
}

bool imropePairRotates(const std::array<int64_t, 4> &sections, int64_t i) {
  const int64_t st = sections[0], sh = sections[1], sw = sections[2];
  const int64_t total = st + sh + sw + sections[3];
  if (total <= 0)
    return true;
  // ggml_mrope_cache_init's interleaved sector rule; the e axis has
  // position 0 for text, so only t/h/w pairs turn.
  const int64_t s = i % total;
  return (s % 3 == 1 && s < 3 * sh) || (s % 3 == 2 && s < 3 * sw) ||
         (s % 3 == 0 && s < 3 * st);
}

std::vector<int64_t> legacyQKVZRowOrder(const Qwen3NextHParams &hp) {
  const int64_t Hk = hp.ssmGroupCount, Hv = hp.ssmTimeStepRank;
  const int64_t dk = hp.ssmState, dv = hp.headVDim();
  if (Hk <= 0 || Hv <= 0 || Hv % Hk != 0)
    return {}; // not validated hyper-parameters; nothing sensible to return
  const int64_t r = Hv / Hk;
  const int64_t group = 2 * dk + 2 * r * dv; // ssm_in rows per key head
  std::vector<int64_t> order;
  order.reserve(hp.convChannels() + hp.ssmInner);
  for (int64_t j = 0; j < Hk; ++j) // q heads
    for (int64_t d = 0; d < dk; ++d)
      order.push_back(j * group + d);
  for (int64_t j = 0; j < Hk; ++j) // k heads
    for (int64_t d = 0; d < dk; ++d)
      order.push_back(j * group + dk + d);
  for (int64_t h = 0; h < Hv; ++h) // v heads
    for (int64_t d = 0; d < dv; ++d)
      order.push_back((h / r) * group + 2 * dk + (h % r) * dv + d);
  for (int64_t h = 0; h < Hv; ++h) // z heads
    for (int64_t d = 0; d < dv; ++d)
      order.push_back((h / r) * group + 2 * dk + r * dv + (h % r) * dv + d);
  return order;
}

std::vector<int64_t> baRowOrder(const Qwen3NextHParams &hp) {
  const int64_t Hk = hp.ssmGroupCount, Hv = hp.ssmTimeStepRank;
  if (Hk <= 0 || Hv <= 0 || Hv % Hk != 0)
    return {};
  const int64_t r = Hv / Hk;
  std::vector<int64_t> order(2 * Hv);
  for (int64_t h = 0; h < Hv; ++h) {
    order[h] = (h / r) * 2 * r + (h % r);          // b
    order[Hv + h] = (h / r) * 2 * r + r + (h % r); // a
  }
  return order;
}

} // namespace qn::gguf

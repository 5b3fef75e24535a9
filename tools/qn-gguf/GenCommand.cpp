//===- GenCommand.cpp - `qn-gguf gen` -------------------------------------===//
//
//   qn-gguf gen [--arch qwen3next|qwen35|qwen35moe] [--mtp N]
//               --config tiny|small|bench [--layers N --embd N ...]
//               --type f32|f16|bf16|q8_0|q4_0|q4_k|q4_k_m
//               --layout legacy|split --seed S [--vocab-from FILE] -o OUT
//
// A GGUF with seeded random weights (gguf/Generate.h) of the qwen3next
// schema or, with --arch, of the Qwen3.5 one (--mtp N trailing MTP blocks).
// Without --vocab-from the tokenizer is a small built-in byte-level BPE
// vocabulary.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/Generate.h"
#include "gguf/Qwen3Next.h"
#include "support/FlagTable.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand genCmd("gen", "write a qwen3next or qwen35(moe) model with "
                             "random weights");
cl::opt<std::string> archName("arch",
                              cl::desc("qwen3next | qwen35 | qwen35moe"),
                              cl::init("qwen3next"), cl::sub(genCmd));
cl::opt<std::string> config("config", cl::desc("tiny | small | bench"),
                            cl::init("tiny"), cl::sub(genCmd));
cl::opt<std::string> typeName("type",
                              cl::desc("f32 | f16 | bf16 | q8_0 | q4_0 | "
                                       "q4_k | q4_k_m"),
                              cl::init("f32"), cl::sub(genCmd));
cl::opt<std::string> layoutName("layout", cl::desc("legacy | split"),
                                cl::init("split"), cl::sub(genCmd));
cl::opt<uint64_t> seed("seed", cl::desc("random seed"), cl::init(1),
                       cl::sub(genCmd));
cl::opt<std::string> vocabFrom("vocab-from",
                               cl::desc("copy tokenizer.* from this GGUF"),
                               cl::sub(genCmd));
cl::opt<std::string> outputPath("o", cl::desc("output file"), cl::Required,
                                cl::sub(genCmd));
cl::opt<std::string> modelName("name", cl::desc("general.name"),
                               cl::sub(genCmd));
cl::opt<unsigned> threads("threads", cl::desc("quantization threads"),
                          cl::init(2), cl::sub(genCmd));
cl::opt<bool> tied("tied", cl::desc("no output.weight (tied embeddings)"),
                   cl::sub(genCmd));
cl::opt<bool> noShared("no-shared-expert", cl::desc("omit the shared expert"),
                       cl::sub(genCmd));

// Shape overrides; -1 keeps the preset's value.
#define QN_GEN_OVERRIDE(var, flag, help)                                       \
  cl::opt<int64_t> var(flag, cl::desc(help), cl::init(-1), cl::sub(genCmd));
QN_GEN_OVERRIDE(layers, "layers", "block count")
QN_GEN_OVERRIDE(embd, "embd", "embedding length D")
QN_GEN_OVERRIDE(vocab, "vocab", "vocabulary size")
QN_GEN_OVERRIDE(experts, "experts", "expert count E")
QN_GEN_OVERRIDE(expertsUsed, "experts-used", "experts per token k")
QN_GEN_OVERRIDE(expertFF, "expert-ff", "expert feed-forward length F")
QN_GEN_OVERRIDE(sharedFF, "shared-ff", "shared expert feed-forward length")
QN_GEN_OVERRIDE(heads, "heads", "attention query heads")
QN_GEN_OVERRIDE(headsKV, "heads-kv", "attention KV heads")
QN_GEN_OVERRIDE(headDim, "head-dim", "attention head dim")
QN_GEN_OVERRIDE(ropeDims, "rope-dims", "rotary dims")
QN_GEN_OVERRIDE(ssmGroups, "ssm-groups", "linear-attention key heads Hk")
QN_GEN_OVERRIDE(ssmHeads, "ssm-heads", "linear-attention value heads Hv")
QN_GEN_OVERRIDE(ssmState, "ssm-state", "key head dim dk")
QN_GEN_OVERRIDE(ssmHeadV, "ssm-head-v", "value head dim dv")
QN_GEN_OVERRIDE(convKernel, "conv-kernel", "conv kernel Kc")
QN_GEN_OVERRIDE(interval, "interval", "full attention interval")
QN_GEN_OVERRIDE(contextLength, "context-length", "context_length key")
QN_GEN_OVERRIDE(denseFF, "dense-ff", "qwen35 dense FFN length")
QN_GEN_OVERRIDE(mtp, "mtp", "qwen35*: trailing MTP blocks")
#undef QN_GEN_OVERRIDE

// The numeric flags' domains: --help shows them, runGen checks them before
// anything is generated. validateGenShape checks the same bounds (and the
// relations between fields) for every caller of the library.
constexpr int64_t kMaxDim = int64_t(1) << 24;
const qn::support::FlagTable flagTable{
    {threads, 1, 1024},
    {layers, 1, kMaxLayers},
    {embd, 1, kMaxDim},
    {vocab, 1, kMaxDim},
    {experts, 1, 512},
    {expertsUsed, 1, 512},
    {expertFF, 1, kMaxDim},
    {sharedFF, 1, kMaxDim},
    {heads, 1, kMaxDim},
    {headsKV, 1, kMaxDim},
    {headDim, 1, kMaxDim},
    {ropeDims, 1, kMaxDim},
    {ssmGroups, 1, kMaxDim},
    {ssmHeads, 1, kMaxDim},
    {ssmState, 1, kMaxDim},
    {ssmHeadV, 1, kMaxDim},
    {convKernel, 1, kMaxDim},
    {interval, 1, kMaxDim},
    // Written as a u32 key: a negative or larger value would wrap.
    {contextLength, 1, 4294967295},
    {denseFF, 1, kMaxDim},
    {mtp, 0, 16},
};

void apply(int64_t &field, const cl::opt<int64_t> &opt) {
  if (opt.getNumOccurrences())
    field = opt;
}

int fail(const Twine &msg) {
  return qn::gguftool::reportError("gen", createStringError(msg.str()));
}

int runGen() {
  if (Error err = flagTable.check())
    return qn::gguftool::reportError("gen", std::move(err));
  std::optional<Arch> arch = parseArch(archName);
  if (!arch)
    return fail("unknown --arch '" + archName +
                "' (qwen3next, qwen35, qwen35moe)");
  if (*arch == Arch::Qwen3Next && mtp.getNumOccurrences())
    return fail("--mtp needs --arch qwen35 or qwen35moe");
  if (*arch != Arch::Qwen3Next && layoutName == "legacy")
    return fail("--layout legacy is the qwen3next ssm_in layout; " + archName +
                " files are split");
  std::optional<GenShape> shape = presetShape(config, *arch);
  if (!shape)
    return fail("unknown --config '" + config + "' (tiny, small, bench)");
  std::optional<GenType> type = parseGenType(typeName);
  if (!type)
    return fail("unknown --type '" + typeName +
                "' (f32, f16, bf16, q8_0, q4_0, q4_k, q4_k_m)");
  GenOptions opts;
  if (layoutName == "legacy")
    opts.layout = LinearLayout::Legacy;
  else if (layoutName == "split")
    opts.layout = LinearLayout::Split;
  else
    return fail("unknown --layout '" + layoutName + "' (legacy, split)");
  if (vocab.getNumOccurrences() && !vocabFrom.empty())
    return fail("--vocab and --vocab-from exclude each other");
  GenShape &s = *shape;
  apply(s.nLayer, layers);
  apply(s.nEmbd, embd);
  apply(s.nVocab, vocab);
  apply(s.nExpert, experts);
  apply(s.nExpertUsed, expertsUsed);
  apply(s.expertFF, expertFF);
  apply(s.sharedFF, sharedFF);
  apply(s.nHead, heads);
  apply(s.nHeadKV, headsKV);
  apply(s.headDim, headDim);
  apply(s.ropeDims, ropeDims);
  apply(s.ssmGroups, ssmGroups);
  apply(s.ssmHeadsV, ssmHeads);
  apply(s.ssmStateK, ssmState);
  apply(s.ssmHeadV, ssmHeadV);
  apply(s.convKernel, convKernel);
  apply(s.fullAttentionInterval, interval);
  apply(s.contextLength, contextLength);
  apply(s.denseFF, denseFF);
  apply(s.nMtp, mtp);
  s.tiedOutput = tied;
  s.sharedExpert = !noShared;
  opts.shape = s;
  opts.type = *type;
  opts.seed = seed;
  opts.threads = threads;
  opts.vocabFrom = vocabFrom;
  opts.name =
      modelName.getNumOccurrences()
          ? std::string(modelName)
          : formatv("qn-gen-{0}{1}-s{2}-{3}",
                    *arch == Arch::Qwen3Next ? std::string() : archName + "-",
                    config, uint64_t(seed), StringRef(typeName).lower())
                .str();
  if (Error err = generateQwen3Next(opts, outputPath))
    return qn::gguftool::reportError("gen", std::move(err));
  return 0;
}

qn::gguftool::CommandRegistration reg(&genCmd, runGen);
} // namespace

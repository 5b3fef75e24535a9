//===- GenerateCommand.cpp - `qn-run -m MODEL -p PROMPT`: text generation -===//
//
//   qn-run -m MODEL (-p PROMPT | -f FILE) [-n N] [--temp T] [--top-k K]
//          [--top-p P] [--min-p P] [--repeat-penalty R] [--repeat-last-n N]
//          [--seed S] [-c CTX] [-b UBATCH] [-t N] [--kv f16|f32]
//          [--ignore-eos] [--chat [-sys TEXT] [--no-think]] [--json]
//
// The plain invocation (no subcommand). Tokenizes the prompt (special tokens
// such as <|im_start|> written in it become their ids, as llama.cpp does),
// evaluates it as one batch, then samples and evaluates one token at a time
// until an end-of-generation token (EOS, <|im_end|>, <|endoftext|>), N
// tokens, or the end of the context. Text is streamed to stdout through the
// streaming decoder, so a character split across tokens is printed whole.
// The end-of-generation token itself is neither printed nor listed.
//
// --json prints nothing while generating and then only
//   {"prompt_tokens": [...], "generated_tokens": [...], "text": "..."}
// on stdout. Timings (and, on a terminal, progress) go to stderr.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Engine.h"
#include "RunCommon.h"

#include "gguf/InputFile.h"
#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"
#include "runtime/sampling/Sampler.h"
#include "tokenizer/ChatTemplate.h"
#include "tokenizer/Tokenizer.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>

using namespace llvm;
using namespace qn;

namespace {
cl::OptionCategory genCat("generation options (qn-run -m MODEL -p PROMPT)");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::cat(genCat));
cl::opt<std::string> promptText("p", cl::desc("prompt text"),
                                cl::value_desc("text"), cl::cat(genCat));
cl::opt<std::string> promptFile("f", cl::desc("read the prompt from a file"),
                                cl::value_desc("file"), cl::cat(genCat));
cl::opt<int64_t> nPredict("n",
                          cl::desc("tokens to generate (-1: until the end of "
                                   "generation or of the context)"),
                          cl::init(128), cl::cat(genCat));
cl::opt<float> temperature("temp", cl::desc("temperature (0: greedy)"),
                           cl::init(0.8f), cl::cat(genCat));
cl::opt<int32_t> topK("top-k", cl::desc("top-k sampling (0: off)"),
                      cl::init(40), cl::cat(genCat));
cl::opt<float> topP("top-p", cl::desc("top-p sampling (1: off)"),
                    cl::init(0.95f), cl::cat(genCat));
cl::opt<float> minP("min-p", cl::desc("min-p sampling (0: off)"),
                    cl::init(0.05f), cl::cat(genCat));
cl::opt<float> repeatPenalty("repeat-penalty",
                             cl::desc("repetition penalty (1: off)"),
                             cl::init(1.0f), cl::cat(genCat));
cl::opt<int32_t>
    repeatLastN("repeat-last-n",
                cl::desc("tokens the penalty looks back on (0 off, -1 all)"),
                cl::init(64), cl::cat(genCat));
cl::opt<int64_t> seedArg("seed", cl::desc("random seed (-1: a random one)"),
                         cl::init(-1), cl::cat(genCat));
cl::opt<int64_t> nCtx("c", cl::desc("context size (positions)"), cl::init(4096),
                      cl::cat(genCat));
cl::opt<int64_t> nUBatch("b", cl::desc("prompt tokens evaluated together"),
                         cl::init(512), cl::cat(genCat));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0), cl::cat(genCat));
cl::opt<std::string> kvType("kv", cl::desc("KV cache type: f16 or f32"),
                            cl::init("f16"), cl::cat(genCat));
cl::opt<bool> ignoreEos("ignore-eos",
                        cl::desc("keep generating after end-of-generation "
                                 "tokens"),
                        cl::cat(genCat));
cl::opt<bool> chatMode("chat",
                       cl::desc("wrap the prompt in the model's chat template "
                                "(built-in Qwen format if it has none)"),
                       cl::cat(genCat));
cl::opt<bool> noThink("no-think",
                      cl::desc("with --chat: enable_thinking=false (an empty "
                               "<think></think> block, the model answers "
                               "directly)"),
                      cl::cat(genCat));
cl::opt<std::string> systemText("sys", cl::desc("system message (with --chat)"),
                                cl::value_desc("text"), cl::cat(genCat));
cl::opt<bool> jsonOutput("json",
                         cl::desc("print only {\"prompt_tokens\", "
                                  "\"generated_tokens\", \"text\"} as JSON"),
                         cl::cat(genCat));

cl::opt<std::string>
    deltaModeArg("delta-mode",
                 cl::desc("delta-rule algorithm: 0 (chunked prefill), 1 "
                          "(fused prefill), 2 (fused always) or auto"),
                 cl::init("auto"), cl::cat(genCat));

run::EngineFlags engineFlags(cl::SubCommand::getTopLevel(), genCat);

// The integer flags' domains: --help shows them, runGenerate checks them
// (the sampler checks its float flags itself).
const run::FlagTable flagTable{
    {nPredict, -1, run::kMaxPositions},
    {nCtx, 1, run::kMaxPositions},
    {nUBatch, 1, run::kMaxPositions},
    {seedArg, -1, std::numeric_limits<uint32_t>::max()},
    {topK, 0, std::numeric_limits<int32_t>::max()},
    {repeatLastN, -1, std::numeric_limits<int32_t>::max()},
    run::threadsDomain(threads),
};

const char *kCmd = "generate";

/// `qn-run --help` lists the generation options, not the hundreds of
/// LLVM-internal ones that also live in the top-level subcommand. Runs at
/// static initialization, after libLLVM's options exist; subcommands' own
/// options are not in the top level and stay visible in their help.
struct HideLLVMOptions {
  HideLLVMOptions() { cl::HideUnrelatedOptions(genCat); }
} hideLLVMOptions;

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// "12.3 ms / 5 tokens (2.46 ms per token, 406.50 tokens per second)".
void printTiming(StringRef what, double seconds, int64_t n) {
  errs() << formatv("qn-run: {0,16} = {1,10:f2} ms / {2,5} tokens", what,
                    seconds * 1e3, n);
  if (n > 0 && seconds > 0)
    errs() << formatv(" ({0,8:f2} ms per token, {1,8:f2} tokens per second)",
                      seconds * 1e3 / n, n / seconds);
  errs() << "\n";
}

Expected<std::string> readPrompt() {
  if (!promptFile.empty()) {
    auto buf = qn::getInputFileOrSTDIN(promptFile, /*IsText=*/true);
    if (!buf)
      return createStringError(
          buf.getError(), "cannot read prompt file '%s': %s",
          promptFile.c_str(), buf.getError().message().c_str());
    return (*buf)->getBuffer().str();
  }
  return promptText.getValue();
}

int runGenerate() {
  if (modelPath.empty())
    return run::fail(kCmd, "no model given (-m MODEL); see qn-run --help");
  if (promptText.getNumOccurrences() && !promptFile.empty())
    return run::fail(kCmd, "give either -p or -f, not both");
  if (Error err = flagTable.check())
    return run::fail(kCmd, std::move(err));
  if (!systemText.empty() && !chatMode)
    return run::fail(kCmd, "-sys needs --chat");
  if (noThink && !chatMode)
    return run::fail(kCmd, "--no-think needs --chat");
  auto kv = run::parseKVType(kvType);
  if (!kv)
    return run::fail(kCmd, kv.takeError());
  auto deltaMode = runtime::parseDeltaMode(deltaModeArg);
  if (!deltaMode)
    return run::fail(kCmd, deltaMode.takeError());

  sampling::SamplerParams sp;
  sp.temperature = temperature;
  sp.topK = topK;
  sp.topP = topP;
  sp.minP = minP;
  sp.repeatPenalty = repeatPenalty;
  sp.repeatLastN = repeatLastN;
  sp.seed = seedArg >= 0 ? static_cast<uint32_t>(seedArg)
                         : static_cast<uint32_t>(std::random_device{}());
  if (Error err = sampling::validateSamplerParams(sp))
    return run::fail(kCmd, std::move(err));

  auto prompt = readPrompt();
  if (!prompt)
    return run::fail(kCmd, prompt.takeError());
  if (prompt->empty())
    return run::fail(kCmd, "the prompt is empty (give -p TEXT or -f FILE)");

  const bool progress = !jsonOutput && sys::Process::StandardErrIsDisplayed();
  const double tLoad0 = now();
  if (progress)
    errs() << "qn-run: loading " << modelPath << " ...\r";
  auto model = runtime::Model::open(modelPath);
  if (!model)
    return run::fail(kCmd, model.takeError());
  auto tok = tokenizer::Tokenizer::fromGGUF((*model)->file());
  if (!tok)
    return run::fail(kCmd, tok.takeError());

  std::string text = std::move(*prompt);
  if (chatMode) {
    std::vector<tokenizer::ChatMessage> messages;
    if (!systemText.empty())
      messages.push_back({"system", systemText});
    messages.push_back({"user", text});
    tokenizer::ChatOptions options;
    if (noThink)
      options.enableThinking = false;
    auto rendered = tokenizer::applyModelChatTemplate(
        (*model)->file(), tok->get(), messages, options);
    if (!rendered)
      return run::fail(kCmd, rendered.takeError());
    text = std::move(*rendered);
  }
  const std::vector<int32_t> promptTokens = (*tok)->encode(text);
  if (promptTokens.empty())
    return run::fail(kCmd, "the prompt gives no tokens");
  const int64_t nPrompt = static_cast<int64_t>(promptTokens.size());
  if (nPrompt > nCtx)
    return run::fail(kCmd, "the prompt has " + Twine(nPrompt) +
                               " tokens, more than the context of " +
                               Twine(nCtx) + " (-c)");
  const int64_t V = (*model)->hparams().nVocab;
  for (int32_t id : promptTokens)
    if (id >= V)
      return run::fail(kCmd, "prompt token " + Twine(id) +
                                 " is outside the model's vocabulary of " +
                                 Twine(V));

  runtime::ThreadPool pool(threads);
  runtime::ContextParams params;
  params.nCtx = nCtx;
  params.nUBatch = nUBatch;
  params.kvType = *kv;
  params.deltaMode = *deltaMode;
  params.pool = &pool;
  auto engine = run::prepareEngine(engineFlags, **model, params, true);
  if (!engine)
    return run::fail(kCmd, engine.takeError());
  auto ctxOr = runtime::Context::create(**model, params);
  if (!ctxOr)
    return run::fail(kCmd, ctxOr.takeError());
  runtime::Context &ctx = **ctxOr;
  const double tLoad = now() - tLoad0;

  sampling::Sampler sampler(sp);
  for (int32_t id : promptTokens)
    sampler.accept(id);

  // Prompt: evaluated ubatch by ubatch here (not in one decode) so a
  // terminal can show how far it got; only the last token needs logits.
  const double tPrompt0 = now();
  for (int64_t start = 0; start < nPrompt; start += nUBatch) {
    const int64_t end = std::min(nPrompt, start + nUBatch);
    if (progress)
      errs() << formatv("qn-run: prompt {0}/{1} tokens          \r", start,
                        nPrompt);
    std::vector<runtime::BatchToken> batch;
    for (int64_t i = start; i < end; ++i)
      batch.push_back(
          {promptTokens[i], static_cast<int32_t>(i), 0, i == nPrompt - 1});
    if (Error err = ctx.decode(batch))
      return run::fail(kCmd, std::move(err));
  }
  if (progress) // wipe the progress line before the text starts
    errs() << std::string(modelPath.size() + 40, ' ') << "\r";
  const double tPrompt = now() - tPrompt0;

  // Generation: sample from the last logits, stop or evaluate the token.
  const double tGen0 = now();
  std::vector<int32_t> generated;
  tokenizer::StreamingDecoder stream(**tok, /*renderSpecial=*/false);
  int64_t pos = nPrompt;
  int64_t nEval = 0;
  while (nPredict < 0 || static_cast<int64_t>(generated.size()) < nPredict) {
    const float *logits = ctx.outputLogits(ctx.numOutputs() - 1);
    const int32_t next = sampler.sample(ArrayRef<float>(logits, V));
    if (!ignoreEos && (*tok)->isEndOfGeneration(next))
      break;
    sampler.accept(next);
    generated.push_back(next);
    if (!jsonOutput) {
      outs() << stream.push(next);
      outs().flush();
    }
    const bool wantMore =
        nPredict < 0 || static_cast<int64_t>(generated.size()) < nPredict;
    if (!wantMore)
      break;
    if (pos >= nCtx) {
      errs() << "qn-run: the context of " << nCtx
             << " positions is full; stopping (-c)\n";
      break;
    }
    runtime::BatchToken t{next, static_cast<int32_t>(pos++), 0, true};
    if (Error err = ctx.decode(t))
      return run::fail(kCmd, std::move(err));
    ++nEval;
  }
  const double tGen = now() - tGen0;

  if (jsonOutput) {
    json::Array p, g;
    for (int32_t id : promptTokens)
      p.push_back(id);
    for (int32_t id : generated)
      g.push_back(id);
    std::string out = (*tok)->decode(generated, /*renderSpecial=*/false);
    // JSON strings must be UTF-8; a generation cut inside a character (or a
    // model emitting stray bytes) is shown with U+FFFD like other tools.
    if (!json::isUTF8(out))
      out = json::fixUTF8(out);
    outs() << json::Value(json::Object{{"prompt_tokens", std::move(p)},
                                       {"generated_tokens", std::move(g)},
                                       {"text", std::move(out)}})
           << "\n";
  } else {
    outs() << stream.finish() << "\n";
  }
  outs().flush();

  errs() << formatv("qn-run: seed = {0}\n", sp.seed);
  errs() << formatv("qn-run: {0,16} = {1,10:f2} ms\n", "load time",
                    tLoad * 1e3);
  printTiming("prompt eval time", tPrompt, nPrompt);
  printTiming("generation time", tGen, static_cast<int64_t>(generated.size()));
  errs() << formatv("qn-run: {0,16} = {1,10:f2} ms ({2} decode steps)\n",
                    "total time", (tLoad + tPrompt + tGen) * 1e3, nEval);
  return 0;
}

run::CommandRegistration reg(&cl::SubCommand::getTopLevel(), runGenerate);
} // namespace

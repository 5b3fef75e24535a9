//===- PerplexityCommand.cpp - `qn-run perplexity`: PPL and KL divergence -===//
//
//   qn-run perplexity -m MODEL (-f TEXT | --tokens-file F) [-c 512] [-b N]
//                     [-t N] [--kv f16|f32] [--chunks N]
//                     [--save-logits FILE] [--kl-divergence FILE] [--json]
//
// The peer's (llama.cpp's) convention: the tokens of the text are cut into
// chunks of c tokens (a shorter tail is dropped), each chunk is evaluated
// from a fresh state, and only the second half is scored: the logits at
// positions c/2 .. c-2 predict the tokens at c/2+1 .. c-1 (earlier positions
// see too little context to be fair). Prints the running perplexity after
// each chunk, `[1]12.3456,[2]...`, then
//   Final estimate: PPL = exp(mean NLL) +/- PPL * stderr(NLL)
// where stderr(NLL) = sqrt((E[nll^2] - E[nll]^2) / (count - 1)), as the peer.
//
// --save-logits FILE writes the scored logits so another run (another
// quantization, KV type, ...) can be compared with --kl-divergence FILE:
// mean KL(base || this) +/- its standard error, percentiles of
// dp = p_this(token) - p_base(token), and how often both put the same token
// on top. The file (little-endian):
//   char[8] "QNPPLLOG", u32 version = 1, u32 n_ctx, u32 n_vocab, u32 n_chunks,
//   i32 tokens[n_chunks * n_ctx],
//   f32 logits[n_chunks][n_ctx - 1 - n_ctx/2][n_vocab]
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Engine.h"
#include "RunCommon.h"

#include "gguf/InputFile.h"
#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"
#include "support/OutputFile.h"
#include "tokenizer/Tokenizer.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

using namespace llvm;
using namespace qn;

namespace {
cl::SubCommand pplCmd("perplexity",
                      "perplexity of a text (and KL divergence to saved "
                      "logits)");
cl::OptionCategory pplCat("perplexity options");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(pplCmd),
                               cl::cat(pplCat));
cl::opt<std::string> textFile("f", cl::desc("text file ('-': stdin)"),
                              cl::value_desc("file"), cl::sub(pplCmd),
                              cl::cat(pplCat));
cl::opt<std::string> tokensFile("tokens-file",
                                cl::desc("token ids instead of a text"),
                                cl::value_desc("file"), cl::sub(pplCmd),
                                cl::cat(pplCat));
cl::opt<int64_t> nCtx("c", cl::desc("chunk size (tokens)"), cl::init(512),
                      cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<int64_t> nUBatch("b", cl::desc("tokens evaluated together"),
                         cl::init(512), cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0), cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<std::string> kvType("kv", cl::desc("KV cache type: f16 or f32"),
                            cl::init("f16"), cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<int64_t> maxChunks("chunks", cl::desc("chunks to score (-1: all)"),
                           cl::init(-1), cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<std::string> saveLogits("save-logits",
                                cl::desc("write the scored logits here"),
                                cl::value_desc("file"), cl::sub(pplCmd),
                                cl::cat(pplCat));
cl::opt<std::string>
    kldBase("kl-divergence",
            cl::desc("compare with logits saved by --save-logits"),
            cl::value_desc("file"), cl::sub(pplCmd), cl::cat(pplCat));
cl::opt<bool> jsonOutput("json", cl::desc("print only a JSON summary"),
                         cl::sub(pplCmd), cl::cat(pplCat));

run::EngineFlags engineFlags(pplCmd, pplCat);

// The integer flags' domains: --help shows them, runPerplexity checks them.
const run::FlagTable flagTable{
    {nCtx, 4, run::kMaxPositions},
    {nUBatch, 1, run::kMaxPositions},
    run::threadsDomain(threads),
};

const char *kCmd = "perplexity";
constexpr char kMagic[8] = {'Q', 'N', 'P', 'P', 'L', 'L', 'O', 'G'};
constexpr size_t kHeaderBytes = 8 + 4 * 4;

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// log-softmax of one row, in double: out[i] = l[i] - logsumexp(l).
void logSoftmax(const float *l, int64_t V, std::vector<double> &out) {
  out.resize(V);
  double mx = -INFINITY;
  for (int64_t i = 0; i < V; ++i)
    mx = std::max(mx, static_cast<double>(l[i]));
  double sum = 0;
  for (int64_t i = 0; i < V; ++i)
    sum += std::exp(static_cast<double>(l[i]) - mx);
  const double lse = mx + std::log(sum);
  for (int64_t i = 0; i < V; ++i)
    out[i] = static_cast<double>(l[i]) - lse;
}

int64_t argmaxRow(const float *l, int64_t V) {
  return std::max_element(l, l + V) - l;
}

/// A --save-logits file, mapped.
struct SavedLogits {
  std::unique_ptr<MemoryBuffer> buf;
  uint32_t nCtx = 0, nVocab = 0, nChunks = 0;
  const char *tokens = nullptr; // i32 LE
  const char *logits = nullptr; // f32 LE
  int32_t token(size_t i) const {
    return llvm::support::endian::read32le(tokens + 4 * i);
  }
  /// Row r of chunk c, decoded to host floats into `out`.
  void row(uint64_t chunk, uint64_t r, uint64_t nScored,
           std::vector<float> &out) const {
    out.resize(nVocab);
    const char *p = logits + ((chunk * nScored + r) * nVocab) * 4;
    for (uint32_t i = 0; i < nVocab; ++i) {
      uint32_t bits = llvm::support::endian::read32le(p + 4 * i);
      std::memcpy(&out[i], &bits, 4);
    }
  }
};

Expected<SavedLogits> readSaved(StringRef path) {
  auto buf = qn::getInputFile(path, /*IsText=*/false,
                              /*RequiresNullTerminator=*/false);
  if (!buf)
    return createStringError(buf.getError(), "cannot read '%s': %s",
                             path.str().c_str(),
                             buf.getError().message().c_str());
  SavedLogits s;
  s.buf = std::move(*buf);
  StringRef data = s.buf->getBuffer();
  auto bad = [&](const Twine &why) {
    return createStringError(inconvertibleErrorCode(), "%s: %s",
                             path.str().c_str(), why.str().c_str());
  };
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, 8))
    return bad("not a logits file written by --save-logits");
  const char *h = data.data() + 8;
  if (llvm::support::endian::read32le(h) != 1)
    return bad("unknown version " + Twine(llvm::support::endian::read32le(h)));
  s.nCtx = llvm::support::endian::read32le(h + 4);
  s.nVocab = llvm::support::endian::read32le(h + 8);
  s.nChunks = llvm::support::endian::read32le(h + 12);
  if (s.nCtx < 4 || s.nVocab == 0 || s.nChunks == 0)
    return bad("empty or invalid header");
  // In doubles first: the header's three u32 counts multiply to more than
  // 64 bits hold, and a product that wraps could match a small file. Below
  // the file size the exact sum fits 64 bits.
  const uint64_t nScored = s.nCtx - 1 - s.nCtx / 2;
  const double approx = kHeaderBytes + 4.0 * s.nChunks * s.nCtx +
                        4.0 * s.nChunks * double(nScored) * s.nVocab;
  if (approx > static_cast<double>(data.size()))
    return bad(formatv("size {0} bytes is less than its header needs "
                       "(-c {1}, {2} vocabulary entries, {3} chunks)",
                       data.size(), s.nCtx, s.nVocab, s.nChunks)
                   .str());
  const uint64_t want = kHeaderBytes + 4ull * s.nChunks * s.nCtx +
                        4ull * s.nChunks * nScored * s.nVocab;
  if (data.size() != want)
    return bad("size " + Twine(data.size()) + " bytes, expected " +
               Twine(want) + " for its header");
  s.tokens = data.data() + kHeaderBytes;
  s.logits = s.tokens + 4ull * s.nChunks * s.nCtx;
  return std::move(s);
}

void writeU32(raw_ostream &os, uint32_t v) {
  char b[4];
  llvm::support::endian::write32le(b, v);
  os.write(b, 4);
}

/// Linear interpolation between order statistics of sorted `v`.
double percentile(const std::vector<double> &v, double q) {
  const double x = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(x);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (x - lo) * (v[hi] - v[lo]);
}

/// Mean and its standard error of a sum / sum of squares over n samples.
std::pair<double, double> meanAndError(double sum, double sum2, double n) {
  const double mean = sum / n;
  double var = sum2 / n - mean * mean;
  const double err = (var > 0 && n > 1) ? std::sqrt(var / (n - 1)) : 0.0;
  return {mean, err};
}

Expected<std::vector<int32_t>> readTokens(const runtime::Model &model) {
  if (!tokensFile.empty())
    return run::readTokenFile(tokensFile);
  auto buf = qn::getInputFileOrSTDIN(textFile, /*IsText=*/true);
  if (!buf)
    return createStringError(buf.getError(), "cannot read '%s': %s",
                             textFile.c_str(),
                             buf.getError().message().c_str());
  auto tok = tokenizer::Tokenizer::fromGGUF(model.file());
  if (!tok)
    return tok.takeError();
  // As the peer: the text is plain text, control tokens are not parsed.
  return (*tok)->encode((*buf)->getBuffer(), /*parseSpecial=*/false);
}

int runPerplexity() {
  if (modelPath.empty())
    return run::fail(kCmd, "no model given (-m MODEL)");
  if (textFile.empty() == tokensFile.empty())
    return run::fail(kCmd, "give a text with -f FILE (or --tokens-file F)");
  // The saved logits are read first: a header at fault is named even when
  // -c was chosen to match it.
  std::optional<SavedLogits> base;
  if (!kldBase.empty()) {
    auto s = readSaved(kldBase);
    if (!s)
      return run::fail(kCmd, s.takeError());
    base = std::move(*s);
  }
  if (Error err = flagTable.check())
    return run::fail(kCmd, std::move(err));
  if (maxChunks == 0 || maxChunks < -1)
    return run::fail(kCmd, "--chunks must be positive or -1");
  auto kv = run::parseKVType(kvType);
  if (!kv)
    return run::fail(kCmd, kv.takeError());
  // Refused before anything is written; the split parts of the model are
  // checked again when the output is created.
  if (Error err = qn::support::checkNotAnInput(
          saveLogits, {modelPath, textFile, tokensFile, kldBase}))
    return run::fail(kCmd, std::move(err));
  if (base) {
    if (base->nCtx != nCtx)
      return run::fail(kCmd, kldBase + " was saved with -c " +
                                 Twine(base->nCtx) + ", this run uses -c " +
                                 Twine(nCtx));
  }

  auto model = runtime::Model::open(modelPath);
  if (!model)
    return run::fail(kCmd, model.takeError());
  const int64_t V = (*model)->hparams().nVocab;
  auto tokens = readTokens(**model);
  if (!tokens)
    return run::fail(kCmd, tokens.takeError());
  for (int32_t id : *tokens)
    if (id >= V)
      return run::fail(kCmd, "token id " + Twine(id) +
                                 " is outside the vocabulary of " + Twine(V));
  int64_t nChunks = static_cast<int64_t>(tokens->size()) / nCtx;
  if (nChunks == 0)
    return run::fail(kCmd, "the text has " + Twine(tokens->size()) +
                               " tokens, fewer than one chunk of " +
                               Twine(nCtx) + " (-c)");
  if (maxChunks > 0)
    nChunks = std::min<int64_t>(nChunks, maxChunks);
  const int64_t first = nCtx / 2;
  const int64_t nScored = nCtx - 1 - first;
  if (base) {
    if (base->nVocab != V)
      return run::fail(kCmd, kldBase + " has a vocabulary of " +
                                 Twine(base->nVocab) + ", the model " +
                                 Twine(V));
    if (base->nChunks < nChunks)
      return run::fail(kCmd, kldBase + " holds " + Twine(base->nChunks) +
                                 " chunks, this run scores " + Twine(nChunks) +
                                 " (use --chunks)");
    for (int64_t i = 0; i < nChunks * nCtx; ++i)
      if (base->token(i) != (*tokens)[i])
        return run::fail(kCmd, "token " + Twine(i) + " differs from " +
                                   kldBase + " (another text or tokenizer)");
  }

  runtime::ThreadPool pool(threads);
  runtime::ContextParams params;
  params.nCtx = nCtx;
  params.nUBatch = std::min<int64_t>(nUBatch, nCtx);
  params.kvType = *kv;
  params.pool = &pool;
  auto engine = run::prepareEngine(engineFlags, **model, params, true);
  if (!engine)
    return run::fail(kCmd, engine.takeError());
  auto ctxOr = runtime::Context::create(**model, params);
  if (!ctxOr)
    return run::fail(kCmd, ctxOr.takeError());
  runtime::Context &ctx = **ctxOr;

  // Every flag is checked by now. The saved logits are a temporary until
  // the last chunk is scored: an old file stays intact until then.
  std::optional<qn::support::OutputFile> save;
  if (!saveLogits.empty()) {
    std::vector<std::string> inputs = (*model)->file().filePaths();
    inputs.insert(inputs.end(), {textFile, tokensFile, kldBase});
    auto out = qn::support::OutputFile::create(saveLogits, inputs);
    if (!out)
      return run::fail(kCmd, out.takeError());
    save.emplace(std::move(*out));
    raw_ostream &os = save->os();
    os.write(kMagic, 8);
    writeU32(os, 1);
    writeU32(os, static_cast<uint32_t>(nCtx));
    writeU32(os, static_cast<uint32_t>(V));
    writeU32(os, static_cast<uint32_t>(nChunks));
    for (int64_t i = 0; i < nChunks * nCtx; ++i)
      writeU32(os, static_cast<uint32_t>((*tokens)[i]));
  }

  const bool progress = !jsonOutput && sys::Process::StandardErrIsDisplayed();
  auto tok = tokenizer::Tokenizer::fromGGUF((*model)->file());
  std::optional<int32_t> bos;
  if (tok && (*tok)->addsBos())
    bos = (*tok)->bos();
  else if (!tok)
    consumeError(tok.takeError()); // token ids given: no tokenizer needed

  errs() << formatv("qn-run perplexity: {0} tokens, {1} chunks of {2}, "
                    "scoring the last {3} of each\n",
                    tokens->size(), nChunks, nCtx, nScored);
  double nll = 0, nll2 = 0, count = 0;
  double baseNll = 0, baseNll2 = 0;
  double kld = 0, kld2 = 0, kldMax = 0, same = 0;
  std::vector<double> kldAll, dp;
  json::Array running;
  std::vector<double> lp, blp;
  std::vector<float> baseRow;
  const double t0 = now();
  for (int64_t c = 0; c < nChunks; ++c) {
    ctx.seqReset(0);
    std::vector<runtime::BatchToken> batch(nCtx);
    for (int64_t j = 0; j < nCtx; ++j)
      batch[j] = {(*tokens)[c * nCtx + j], static_cast<int32_t>(j), 0,
                  j >= first && j < nCtx - 1};
    // The peer puts BOS first in every chunk when the model wants one.
    if (bos)
      batch[0].token = *bos;
    if (Error err = ctx.decode(batch))
      return run::fail(kCmd, std::move(err));
    for (int64_t r = 0; r < nScored; ++r) {
      const float *l = ctx.outputLogits(r);
      const int32_t target = (*tokens)[c * nCtx + first + r + 1];
      logSoftmax(l, V, lp);
      const double v = -lp[target];
      nll += v;
      nll2 += v * v;
      count += 1;
      if (save)
        save->os().write(reinterpret_cast<const char *>(l), sizeof(float) * V);
      if (base) {
        base->row(c, r, nScored, baseRow);
        logSoftmax(baseRow.data(), V, blp);
        baseNll -= blp[target];
        baseNll2 += blp[target] * blp[target];
        double k = 0;
        for (int64_t i = 0; i < V; ++i)
          k += std::exp(blp[i]) * (blp[i] - lp[i]);
        kld += k;
        kld2 += k * k;
        kldMax = std::max(kldMax, k);
        kldAll.push_back(k);
        dp.push_back(std::exp(lp[target]) - std::exp(blp[target]));
        same += argmaxRow(l, V) == argmaxRow(baseRow.data(), V);
      }
    }
    const double ppl = std::exp(nll / count);
    running.push_back(ppl);
    if (c == 0)
      errs() << formatv("qn-run perplexity: {0:f2} seconds per chunk\n",
                        now() - t0);
    if (!jsonOutput) {
      outs() << formatv("[{0}]{1:f4},", c + 1, ppl);
      outs().flush();
    } else if (progress) {
      errs() << formatv("[{0}]{1:f4}\r", c + 1, ppl);
    }
  }
  if (save)
    if (Error err = save->commit())
      return run::fail(kCmd, std::move(err));

  auto [meanNll, errNll] = meanAndError(nll, nll2, count);
  const double ppl = std::exp(meanNll);
  const double pplErr = ppl * errNll;
  json::Object result{{"n_ctx", nCtx.getValue()},
                      {"n_chunks", nChunks},
                      {"n_scored", count},
                      {"ppl", ppl},
                      {"ppl_err", pplErr},
                      {"mean_nll", meanNll},
                      {"chunk_ppl", std::move(running)}};
  if (!jsonOutput)
    outs() << "\n"
           << formatv("Final estimate: PPL = {0:f4} +/- {1:f5}\n", ppl, pplErr);

  if (base) {
    auto [bMean, bErr] = meanAndError(baseNll, baseNll2, count);
    auto [kMean, kErr] = meanAndError(kld, kld2, count);
    const double sameP = same / count;
    const double sameErr =
        count > 1 ? std::sqrt(sameP * (1 - sameP) / (count - 1)) : 0.0;
    double dpSum = 0, dp2 = 0;
    for (double x : dp) {
      dpSum += x;
      dp2 += x * x;
    }
    auto [dpMean, dpErr] = meanAndError(dpSum, dp2, count);
    const double dpRms = std::sqrt(dp2 / count);
    std::sort(dp.begin(), dp.end());
    std::sort(kldAll.begin(), kldAll.end());
    static const std::pair<const char *, double> qs[] = {
        {"max", 1.0},  {"99.9%", 0.999}, {"99%", 0.99},   {"95%", 0.95},
        {"90%", 0.90}, {"75%", 0.75},    {"median", 0.5}, {"25%", 0.25},
        {"10%", 0.10}, {"5%", 0.05},     {"1%", 0.01},    {"0.1%", 0.001},
        {"min", 0.0}};
    json::Object dpq;
    for (auto &[name, q] : qs)
      dpq[name] = percentile(dp, q);
    result["kld"] = json::Object{{"base_ppl", std::exp(bMean)},
                                 {"base_ppl_err", std::exp(bMean) * bErr},
                                 {"mean", kMean},
                                 {"err", kErr},
                                 {"max", kldMax},
                                 {"median", percentile(kldAll, 0.5)},
                                 {"p99", percentile(kldAll, 0.99)},
                                 {"same_top1", sameP},
                                 {"same_top1_err", sameErr},
                                 {"dp_mean", dpMean},
                                 {"dp_err", dpErr},
                                 {"dp_rms", dpRms},
                                 {"dp_percentiles", std::move(dpq)}};
    if (!jsonOutput) {
      outs() << "\n====== Perplexity ======\n"
             << formatv("PPL(this)    : {0:f6} +/- {1:f6}\n", ppl, pplErr)
             << formatv("PPL(base)    : {0:f6} +/- {1:f6}\n", std::exp(bMean),
                        std::exp(bMean) * bErr)
             << "\n====== KL divergence KL(base || this) ======\n"
             << formatv("Mean KLD     : {0:e4} +/- {1:e4}\n", kMean, kErr)
             << formatv("Maximum KLD  : {0:e4}\n", kldMax)
             << formatv("99.0%   KLD  : {0:e4}\n", percentile(kldAll, 0.99))
             << formatv("Median  KLD  : {0:e4}\n", percentile(kldAll, 0.5))
             << "\n====== Token probability dp = p(this) - p(base) ======\n"
             << formatv("Mean    dp   : {0:f4}% +/- {1:f4}%\n", 100 * dpMean,
                        100 * dpErr);
      for (auto &[name, q] : qs)
        outs() << formatv("{0,-7} dp   : {1:f4}%\n", name,
                          100 * percentile(dp, q));
      outs() << formatv("RMS dp       : {0:f4}%\n", 100 * dpRms)
             << formatv("Same top p   : {0:f4} +/- {1:f4} %\n", 100 * sameP,
                        100 * sameErr);
    }
  }
  if (jsonOutput)
    outs() << json::Value(std::move(result)) << "\n";
  return 0;
}

run::CommandRegistration reg(&pplCmd, runPerplexity);
} // namespace

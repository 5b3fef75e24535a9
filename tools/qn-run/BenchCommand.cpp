//===- BenchCommand.cpp - `qn-run bench`: llama-bench-style throughput ---===//
//
//   qn-run bench -m MODEL [-p 512] [-n 128] [-r 3] [-t N] [--ubatch 512]
//                [--kv f16|f32] [--parallel N] [-o md|json]
//
// Rows `pp<P>` (one prompt of P tokens evaluated as a batch, logits of the
// last position only) and `tg<N>` (N tokens generated one at a time from an
// empty sequence, logits every step; with --parallel P, P sequences advance
// together, one batch of P tokens per step: row `tg<N>xP`, t/s counting all
// P*N tokens), each repeated -r times after one
// unmeasured warm-up, reported as mean ± sample stddev of tokens/s like
// llama-bench. Token ids are pseudo-random (fixed seed): speed does not
// depend on them beyond MoE routing.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Engine.h"
#include "RunCommon.h"

#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <random>

using namespace llvm;
using namespace qn;

namespace {
cl::SubCommand benchCmd("bench", "measure prompt and generation throughput");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(benchCmd));
cl::opt<int64_t> nPrompt("p", cl::desc("prompt tokens (0 skips pp)"),
                         cl::init(512), cl::sub(benchCmd));
cl::opt<int64_t> nGen("n", cl::desc("generated tokens (0 skips tg)"),
                      cl::init(128), cl::sub(benchCmd));
cl::opt<int64_t> reps("r", cl::desc("repetitions"), cl::init(3),
                      cl::sub(benchCmd));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0), cl::sub(benchCmd));
cl::opt<int64_t> ubatch("ubatch", cl::desc("tokens evaluated together"),
                        cl::init(512), cl::sub(benchCmd));
cl::opt<std::string> kvType("kv", cl::desc("KV cache type: f16 or f32"),
                            cl::init("f16"), cl::sub(benchCmd));
cl::opt<int64_t> parallel("parallel",
                          cl::desc("sequences decoded together in tg (each "
                                   "step is one batch of N tokens; t/s "
                                   "counts all of them)"),
                          cl::init(1), cl::sub(benchCmd));
cl::opt<std::string> outFormat("o", cl::desc("output format: md or json"),
                               cl::init("md"), cl::sub(benchCmd));

cl::opt<std::string>
    deltaModeArg("delta-mode",
                 cl::desc("delta-rule algorithm: 0 (chunked prefill), 1 "
                          "(fused prefill), 2 (fused always) or auto"),
                 cl::init("auto"), cl::sub(benchCmd));

run::EngineFlags engineFlags(benchCmd, cl::getGeneralCategory());

// The integer flags' domains: --help shows them, runBench checks them.
const run::FlagTable flagTable{
    {nPrompt, 0, run::kMaxPositions},
    {nGen, 0, run::kMaxPositions},
    {reps, 1, 1000000},
    {ubatch, 1, run::kMaxPositions},
    {parallel, 1, 4096},
    run::threadsDomain(threads),
};

const char *kCmd = "bench";

struct Result {
  std::string test;
  int64_t nPrompt = 0, nGen = 0, par = 1;
  std::vector<double> seconds;
  double tokens() const { return double(nPrompt + nGen * par); }
  double meanTs() const {
    double s = 0;
    for (double x : seconds)
      s += tokens() / x;
    return s / seconds.size();
  }
  double stddevTs() const {
    if (seconds.size() < 2)
      return 0;
    const double m = meanTs();
    double s = 0;
    for (double x : seconds)
      s += (tokens() / x - m) * (tokens() / x - m);
    return std::sqrt(s / (seconds.size() - 1));
  }
};

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Evaluates one fresh sequence: `nPrompt` tokens as one batch (logits for
/// the last only), then `nGen` steps of one token for each of `par` fresh
/// sequences (one batch per step). Returns seconds.
Expected<double> runOnce(runtime::Context &ctx, int64_t p, int64_t g,
                         int64_t par, int64_t V, std::mt19937 &rng) {
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(V - 1));
  for (int32_t s = 0; s < par; ++s)
    ctx.seqReset(s);
  const double start = now();
  if (p > 0) {
    std::vector<runtime::BatchToken> batch(p);
    for (int64_t i = 0; i < p; ++i)
      batch[i] = {tok(rng), static_cast<int32_t>(i), 0, i == p - 1};
    if (Error err = ctx.decode(batch))
      return std::move(err);
  }
  std::vector<runtime::BatchToken> step(static_cast<size_t>(par));
  for (int64_t i = 0; i < g; ++i) {
    for (int32_t s = 0; s < par; ++s)
      step[s] = {tok(rng), static_cast<int32_t>((s == 0 ? p : 0) + i), s, true};
    if (Error err = ctx.decode(step))
      return std::move(err);
  }
  return now() - start;
}

int runBench() {
  if (modelPath.empty())
    return run::fail(kCmd, "no model given (-m MODEL)");
  if (Error err = flagTable.check())
    return run::fail(kCmd, std::move(err));
  auto nCtx = run::addPositions("-p", nPrompt, "-n", nGen);
  if (!nCtx)
    return run::fail(kCmd, nCtx.takeError());
  if (outFormat != "md" && outFormat != "json")
    return run::fail(kCmd, "unknown output format '" + outFormat +
                               "' (use md or json)");
  auto kv = run::parseKVType(kvType);
  if (!kv)
    return run::fail(kCmd, kv.takeError());
  auto deltaMode = runtime::parseDeltaMode(deltaModeArg);
  if (!deltaMode)
    return run::fail(kCmd, deltaMode.takeError());
  auto model = runtime::Model::open(modelPath);
  if (!model)
    return run::fail(kCmd, model.takeError());
  runtime::ThreadPool pool(threads);
  runtime::ContextParams params;
  params.nCtx = std::max<int64_t>(*nCtx, 1);
  params.nSeqMax = parallel;
  params.nUBatch = ubatch;
  params.kvType = *kv;
  params.deltaMode = *deltaMode;
  params.pool = &pool;
  auto engine = run::prepareEngine(engineFlags, **model, params, true);
  if (!engine)
    return run::fail(kCmd, engine.takeError());
  auto ctx = runtime::Context::create(**model, params);
  if (!ctx)
    return run::fail(kCmd, ctx.takeError());
  const int64_t V = (*model)->hparams().nVocab;
  std::mt19937 rng(1234);

  std::vector<Result> results;
  if (nPrompt > 0)
    results.push_back({"pp" + std::to_string(nPrompt), nPrompt, 0, 1, {}});
  if (nGen > 0)
    results.push_back(
        {"tg" + std::to_string(nGen) +
             (parallel > 1 ? "x" + std::to_string(parallel) : std::string()),
         0,
         nGen,
         parallel,
         {}});
  for (Result &r : results) {
    // Warm-up: page the weights in, spin the threads up.
    auto warm = runOnce(**ctx, std::min<int64_t>(r.nPrompt, 16),
                        std::min<int64_t>(r.nGen, 2), r.par, V, rng);
    if (!warm)
      return run::fail(kCmd, warm.takeError());
    for (int64_t i = 0; i < reps; ++i) {
      auto s = runOnce(**ctx, r.nPrompt, r.nGen, r.par, V, rng);
      if (!s)
        return run::fail(kCmd, s.takeError());
      r.seconds.push_back(*s);
    }
  }

  uint64_t bytes = 0, params_ = 0;
  for (const gguf::TensorInfo &t : (*model)->file().tensors()) {
    bytes += t.nbytes;
    params_ += static_cast<uint64_t>(t.numElements());
  }
  const std::string name = sys::path::filename(modelPath).str();
  if (outFormat == "json") {
    json::Array rows;
    for (const Result &r : results) {
      json::Array samples;
      for (double s : r.seconds)
        samples.push_back(r.tokens() / s);
      rows.push_back(
          json::Object{{"model_filename", name},
                       {"model_size", static_cast<int64_t>(bytes)},
                       {"model_n_params", static_cast<int64_t>(params_)},
                       {"backend", "CPU"},
                       {"n_threads", static_cast<int64_t>(pool.numThreads())},
                       {"type_k", kvType.getValue()},
                       {"n_ubatch", ubatch.getValue()},
                       {"test", r.test},
                       {"n_prompt", r.nPrompt},
                       {"n_gen", r.nGen},
                       {"n_parallel", r.par},
                       {"avg_ts", r.meanTs()},
                       {"stddev_ts", r.stddevTs()},
                       {"samples_ts", std::move(samples)}});
    }
    outs() << formatv("{0:2}", json::Value(std::move(rows))) << "\n";
    return 0;
  }
  outs() << "| model | size | params | backend | threads | test | t/s |\n"
         << "| --- | ---: | ---: | --- | ---: | ---: | ---: |\n";
  for (const Result &r : results)
    outs() << formatv("| {0} | {1:f2} GiB | {2:f2} B | CPU | {3} | {4} | "
                      "{5:f2} ± {6:f2} |\n",
                      name, bytes / double(1ull << 30), params_ / 1e9,
                      pool.numThreads(), r.test, r.meanTs(), r.stddevTs());
  return 0;
}

run::CommandRegistration reg(&benchCmd, runBench);
} // namespace

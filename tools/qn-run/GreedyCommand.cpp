//===- GreedyCommand.cpp - `qn-run greedy`: argmax decoding of ids -------===//
//
//   qn-run greedy -m MODEL (--tokens 1,2,3 | --tokens-file F) [-n 24]
//                 [--ubatch 512] [-t N] [--kv f16|f32]
//
// Prefills the prompt, then appends the argmax token n times (one decode
// step each) and prints the generated ids comma-separated: the fixtures'
// `greedy` cases in ids, no tokenizer involved.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Engine.h"
#include "RunCommon.h"

#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace llvm;
using namespace qn;

namespace {
cl::SubCommand greedyCmd("greedy", "argmax-decode token ids after a prompt");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(greedyCmd));
cl::opt<std::string> tokensArg("tokens",
                               cl::desc("prompt token ids, comma separated"),
                               cl::sub(greedyCmd));
cl::opt<std::string> tokensFile("tokens-file",
                                cl::desc("file of prompt token ids"),
                                cl::value_desc("file"), cl::sub(greedyCmd));
cl::opt<int64_t> nGen("n", cl::desc("tokens to generate"), cl::init(24),
                      cl::sub(greedyCmd));
cl::opt<int64_t> ubatch("ubatch", cl::desc("tokens evaluated together"),
                        cl::init(512), cl::sub(greedyCmd));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0), cl::sub(greedyCmd));
cl::opt<std::string> kvType("kv", cl::desc("KV cache type: f16 or f32"),
                            cl::init("f16"), cl::sub(greedyCmd));

run::EngineFlags engineFlags(greedyCmd, cl::getGeneralCategory());

// The integer flags' domains: --help shows them, runGreedy checks them.
const run::FlagTable flagTable{
    {nGen, 0, run::kMaxPositions},
    {ubatch, 1, run::kMaxPositions},
    run::threadsDomain(threads),
};

const char *kCmd = "greedy";

int runGreedy() {
  if (modelPath.empty())
    return run::fail(kCmd, "no model given (-m MODEL)");
  if (Error err = flagTable.check())
    return run::fail(kCmd, std::move(err));
  auto kv = run::parseKVType(kvType);
  if (!kv)
    return run::fail(kCmd, kv.takeError());
  auto tokens = tokensFile.empty() ? run::parseTokenList(tokensArg)
                                   : run::readTokenFile(tokensFile);
  if (!tokens)
    return run::fail(kCmd, tokens.takeError());
  if (tokens->empty())
    return run::fail(kCmd, "no prompt tokens given");
  auto model = runtime::Model::open(modelPath);
  if (!model)
    return run::fail(kCmd, model.takeError());
  auto nCtx = run::addPositions("the prompt's tokens",
                                static_cast<int64_t>(tokens->size()), "-n",
                                std::max<int64_t>(nGen, 1));
  if (!nCtx)
    return run::fail(kCmd, nCtx.takeError());
  runtime::ThreadPool pool(threads);
  runtime::ContextParams params;
  params.nCtx = *nCtx;
  params.nUBatch = ubatch;
  params.kvType = *kv;
  params.pool = &pool;
  auto engine = run::prepareEngine(engineFlags, **model, params, false);
  if (!engine)
    return run::fail(kCmd, engine.takeError());
  auto ctx = runtime::Context::create(**model, params);
  if (!ctx)
    return run::fail(kCmd, ctx.takeError());

  std::vector<runtime::BatchToken> batch(tokens->size());
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i] = {(*tokens)[i], static_cast<int32_t>(i), 0,
                i + 1 == batch.size()};
  const int64_t V = (*ctx)->nVocab();
  int32_t pos = static_cast<int32_t>(batch.size());
  for (int64_t i = 0; i < nGen; ++i) {
    if (Error err = (*ctx)->decode(batch))
      return run::fail(kCmd, std::move(err));
    const float *l = (*ctx)->outputLogits(0);
    const int32_t next = static_cast<int32_t>(std::max_element(l, l + V) - l);
    outs() << (i ? "," : "") << next;
    batch.assign(1, {next, pos++, 0, true});
  }
  outs() << "\n";
  return 0;
}

run::CommandRegistration reg(&greedyCmd, runGreedy);
} // namespace

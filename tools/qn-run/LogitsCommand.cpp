//===- LogitsCommand.cpp - `qn-run logits`: logits of every position -----===//
//
//   qn-run logits -m MODEL (--tokens 1,2,3 | --tokens-file F) [--ubatch N]
//                 [-t N] [-c N] [--kv f16|f32] [--dump-dir DIR]
//                 [--delta-mode 0|1|2|auto] --out FILE
//
// Runs one fresh sequence (positions 0..n-1) and writes the logits after
// every token as float32 little-endian, row-major [n_tokens x n_vocab]: the
// fixtures' format.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "Engine.h"
#include "RunCommon.h"

#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"
#include "support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace qn;

namespace {
cl::SubCommand logitsCmd("logits",
                         "write the logits of every position of a prompt");
cl::OptionCategory logitsCat("logits options");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::sub(logitsCmd),
                               cl::cat(logitsCat));
cl::opt<std::string> tokensArg("tokens", cl::desc("token ids, comma separated"),
                               cl::sub(logitsCmd), cl::cat(logitsCat));
cl::opt<std::string> tokensFile("tokens-file",
                                cl::desc("file of token ids (commas or "
                                         "whitespace between them)"),
                                cl::value_desc("file"), cl::sub(logitsCmd),
                                cl::cat(logitsCat));
cl::opt<int64_t> ubatch("ubatch", cl::desc("tokens evaluated together"),
                        cl::init(512), cl::sub(logitsCmd), cl::cat(logitsCat));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0), cl::sub(logitsCmd), cl::cat(logitsCat));
cl::opt<int64_t> nCtx("c", cl::desc("context size (positions)"), cl::init(4096),
                      cl::sub(logitsCmd), cl::cat(logitsCat));
cl::opt<std::string> kvType("kv", cl::desc("KV cache type: f16 or f32"),
                            cl::init("f16"), cl::sub(logitsCmd),
                            cl::cat(logitsCat));
cl::opt<std::string> outPath("out", cl::desc("output file (float32)"),
                             cl::value_desc("file"), cl::sub(logitsCmd),
                             cl::cat(logitsCat));
cl::opt<std::string> dumpDir("dump-dir",
                             cl::desc("write named intermediates here"),
                             cl::value_desc("dir"), cl::sub(logitsCmd),
                             cl::cat(logitsCat));
cl::opt<std::string>
    deltaModeArg("delta-mode",
                 cl::desc("delta-rule algorithm: 0 (chunked prefill), 1 "
                          "(fused prefill), 2 (fused always) or auto"),
                 cl::init("auto"), cl::sub(logitsCmd), cl::cat(logitsCat));

run::EngineFlags engineFlags(logitsCmd, logitsCat);

// The integer flags' domains: --help shows them, runLogits checks them.
const run::FlagTable flagTable{
    {ubatch, 1, run::kMaxPositions},
    {nCtx, 1, run::kMaxPositions},
    run::threadsDomain(threads),
};

int runLogits() {
  const char *cmd = "logits";
  if (modelPath.empty())
    return run::fail(cmd, "no model given (-m MODEL)");
  if (outPath.empty())
    return run::fail(cmd, "no output file given (--out FILE)");
  if (tokensArg.getNumOccurrences() && !tokensFile.empty())
    return run::fail(cmd, "give either --tokens or --tokens-file, not both");
  if (Error err = flagTable.check())
    return run::fail(cmd, std::move(err));
  auto kv = run::parseKVType(kvType);
  if (!kv)
    return run::fail(cmd, kv.takeError());
  auto deltaMode = runtime::parseDeltaMode(deltaModeArg);
  if (!deltaMode)
    return run::fail(cmd, deltaMode.takeError());

  auto tokens = tokensFile.empty() ? run::parseTokenList(tokensArg)
                                   : run::readTokenFile(tokensFile);
  if (!tokens)
    return run::fail(cmd, tokens.takeError());
  if (tokens->empty())
    return run::fail(cmd, "no tokens given (--tokens 1,2,3 or --tokens-file)");
  // Refused before the model is even mapped; the split parts are checked
  // again when the output is created.
  if (Error err =
          qn::support::checkNotAnInput(outPath, {modelPath, tokensFile}))
    return run::fail(cmd, std::move(err));

  auto model = runtime::Model::open(modelPath);
  if (!model)
    return run::fail(cmd, model.takeError());
  const int64_t V = (*model)->hparams().nVocab;
  for (size_t i = 0; i < tokens->size(); ++i)
    if ((*tokens)[i] >= V)
      return run::fail(cmd, "token " + Twine(i) + " has id " +
                                Twine((*tokens)[i]) +
                                ", outside the vocabulary of " + Twine(V));
  if (static_cast<int64_t>(tokens->size()) > nCtx)
    return run::fail(cmd, "the prompt has " + Twine(tokens->size()) +
                              " tokens, more than the context of " +
                              Twine(nCtx) + " (-c)");
  if (!dumpDir.empty()) {
    if (std::error_code ec = sys::fs::create_directories(dumpDir))
      return run::fail(cmd, "cannot create dump directory '" + dumpDir +
                                "': " + ec.message());
    if (std::error_code ec =
            sys::fs::access(dumpDir, sys::fs::AccessMode::Write))
      return run::fail(cmd, "cannot write into the dump directory '" + dumpDir +
                                "': " + ec.message());
  }

  runtime::ThreadPool pool(threads);
  runtime::ContextParams params;
  params.nCtx = nCtx;
  params.nUBatch = ubatch;
  params.kvType = *kv;
  params.pool = &pool;
  params.dumpDir = dumpDir;
  params.deltaMode = *deltaMode;
  auto engine = run::prepareEngine(engineFlags, **model, params, false);
  if (!engine)
    return run::fail(cmd, engine.takeError());
  auto ctx = runtime::Context::create(**model, params);
  if (!ctx)
    return run::fail(cmd, ctx.takeError());

  // Every flag is checked by now. The output is a temporary until the
  // logits are complete (the old --out stays intact until then); opened
  // before the (possibly long) run so a bad path fails fast.
  std::vector<std::string> inputs = (*model)->file().filePaths();
  inputs.push_back(tokensFile);
  auto out = qn::support::OutputFile::create(outPath, inputs);
  if (!out)
    return run::fail(cmd, out.takeError());

  std::vector<runtime::BatchToken> batch(tokens->size());
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i] = {(*tokens)[i], static_cast<int32_t>(i), 0, true};
  if (Error err = (*ctx)->decode(batch))
    return run::fail(cmd, std::move(err));

  for (int64_t i = 0; i < (*ctx)->numOutputs(); ++i)
    out->os().write(reinterpret_cast<const char *>((*ctx)->outputLogits(i)),
                    sizeof(float) * V);
  if (Error err = out->commit())
    return run::fail(cmd, std::move(err));
  return 0;
}

run::CommandRegistration reg(&logitsCmd, runLogits);
} // namespace

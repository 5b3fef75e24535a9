//===- Engine.cpp - --engine compiled|direct for qn-run subcommands -------===//

#include "Engine.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qn::run {

EngineFlags::EngineFlags(cl::SubCommand &sub, cl::OptionCategory &cat)
    : engine("engine",
             cl::desc("compiled (default): run the plans compiled from the "
                      "model's qn IR; direct: the runtime's hand-written "
                      "layer loop (the reference twin)"),
             cl::init("compiled"), cl::sub(sub), cl::cat(cat)),
      jitCache("jit-cache",
               cl::desc("directory for compiled kernels (default: "
                        "$XDG_CACHE_HOME/qn/kernels or ~/.cache/qn/kernels; "
                        "empty: no cache)"),
               cl::value_desc("dir"),
               cl::init(codegen::defaultKernelCacheDir()), cl::sub(sub),
               cl::cat(cat)),
      fuseRepeatBroadcast(
          "fuse-repeat-broadcast",
          cl::desc("compiled engine: run qn-fuse-repeat-broadcast (default "
                   "true; =false keeps delta mode 0's materialized repeats, "
                   "to measure what the rewrite saves)"),
          cl::init(true), cl::sub(sub), cl::cat(cat)),
      fuseEpilogues(
          "fuse-epilogues",
          cl::desc("compiled engine: fuse residual adds into the matmul "
                   "before them (qn-fuse-epilogues; default true, =false to "
                   "measure the fusion)"),
          cl::init(true), cl::sub(sub), cl::cat(cat)),
      activations(
          "activations",
          cl::desc("what the matmuls multiply the weights with: q8 (default, "
                   "as the peer: 8-bit activations, int8 kernels), q8prefill "
                   "(q8 above 4 tokens, f32 below) or f32 (exact, closest "
                   "to the float64 reference)"),
          cl::init("q8"), cl::sub(sub), cl::cat(cat)) {}

Expected<Engine> prepareEngine(const EngineFlags &flags,
                               const runtime::Model &model,
                               runtime::ContextParams &params, bool verbose) {
  Engine result;
  std::optional<runtime::MatmulActivations> act =
      runtime::parseMatmulActivations(flags.activations);
  if (!act)
    return createStringError(inconvertibleErrorCode(),
                             "--activations must be q8, q8prefill or f32, "
                             "got '" +
                                 flags.activations + "'");
  // The direct engine's setting; the compiled plans carry their own, from
  // the same flag.
  runtime::setMatmulActivations(*act);
  if (flags.engine == "direct")
    return result;
  if (flags.engine != "compiled")
    return createStringError(inconvertibleErrorCode(),
                             "--engine must be compiled or direct, got '" +
                                 flags.engine + "'");
  codegen::CompileOptions options;
  options.kvType = params.kvType == runtime::KVType::F32
                       ? frontend::KVCacheType::F32
                       : frontend::KVCacheType::F16;
  options.deltaMode = runtime::deltaModeName(params.deltaMode).str();
  options.jitCacheDir = flags.jitCache;
  options.fuseRepeatBroadcast = flags.fuseRepeatBroadcast;
  options.fuseEpilogues = flags.fuseEpilogues;
  options.activations = flags.activations;
  auto compiled = codegen::compileModel(model.description(), options);
  if (!compiled)
    return compiled.takeError();
  result.compiled = std::move(*compiled);
  params.prefillProgram = &result.compiled->prefill();
  params.decodeProgram = &result.compiled->decode();
  const codegen::CompileStats &stats = result.compiled->stats();
  if (!stats.cacheWarning.empty())
    errs() << "qn-run: warning: " << stats.cacheWarning << "\n";
  if (verbose)
    errs() << formatv("qn-run: compiled the model in {0:f3} s ({1} "
                      "dispatches prefill, {2} decode; {3} kernels {4})\n",
                      stats.seconds, stats.prefillDispatches,
                      stats.decodeDispatches, stats.kernels,
                      stats.kernelsFromCache ? "from the cache"
                                             : "JIT-compiled");
  return std::move(result);
}

} // namespace qn::run

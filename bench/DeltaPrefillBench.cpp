//===- DeltaPrefillBench.cpp - prefill speed per delta mode, kernel bytes -===//
//
//   qn-delta-prefill-bench -m MODEL [-p 64,512,2048] [-r 3] [-t 2]
//       [--delta-mode 0|1|2|auto] [--fuse-repeat-broadcast=false]
//       [--bytes-only] [-o md|json] [--jit-cache DIR]
//
// For each prompt length T: the model compiled (compiled engine) in one
// delta mode, a context whose ubatch is T (so the whole prompt is one call
// of every dispatch: a loop kernel sees T tokens), then like `qn-run bench`'s
// pp row: one unmeasured warm-up of min(T, 16) tokens, -r prompts of T
// pseudo-random tokens (logits of the last only), mean ± sample stddev of
// tokens/s. With delta mode 0 it also reports what the mode-0 loop kernel
// (qn.dispatch.loop) allocates per call at T (codegen/LoopKernel.h,
// loopKernelAllocations): allocations, bytes allocated, peak bytes live.
// docs/delta-path.md, "Delta mode 0 compiled: speed and bytes".
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "codegen/LoopKernel.h"
#include "frontend/Qwen3NextIR.h"
#include "runtime/Context.h"
#include "runtime/Model.h"
#include "runtime/ThreadPool.h"
#include "runtime/ops/DeltaNetHead.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace llvm;
using namespace qn;

namespace {

cl::opt<std::string> modelPath("m", cl::desc("model GGUF file"),
                               cl::value_desc("file"), cl::Required);
cl::list<int64_t> prompts("p", cl::desc("prompt lengths T (ubatch = T)"),
                          cl::CommaSeparated);
cl::opt<int64_t> reps("r", cl::desc("repetitions"), cl::init(3));
cl::opt<unsigned> threads("t", cl::desc("threads (0 = one per core)"),
                          cl::init(0));
cl::opt<std::string> deltaMode("delta-mode", cl::desc("0, 1, 2 or auto"),
                               cl::init("auto"));
cl::opt<bool> fuseRepeat("fuse-repeat-broadcast",
                         cl::desc("run qn-fuse-repeat-broadcast"),
                         cl::init(true));
cl::opt<bool> bytesOnly("bytes-only",
                        cl::desc("only the loop kernels' allocations (no "
                                 "JIT, no runs)"),
                        cl::init(false));
cl::opt<std::string> dumpKernels("dump-kernels",
                                 cl::desc("write the generated kernels (before "
                                          "lowering) to this file"),
                                 cl::value_desc("file"));
cl::opt<std::string> outFormat("o", cl::desc("md or json"), cl::init("md"));
cl::opt<std::string> jitCache("jit-cache", cl::desc("kernel cache directory"),
                              cl::init(codegen::defaultKernelCacheDir()));

int fail(const Twine &what) {
  errs() << "qn-delta-prefill-bench: " << what << "\n";
  return 1;
}
int fail(Error err) { return fail(toString(std::move(err))); }

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// The allocations of every distinct loop kernel of the model's prefill at
/// each T, summed over the dispatches that run it (one per linear layer).
struct KernelBytes {
  int64_t dispatches = 0, kernels = 0;
  /// Per T: one call of the (each) loop kernel.
  std::map<int64_t, codegen::LoopKernelAllocations> perCall;
};

Expected<KernelBytes> loopKernelBytes(const gguf::Qwen3NextModel &desc,
                                      ArrayRef<int64_t> Ts) {
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  frontend::IRBuildOptions irOptions;
  auto module = frontend::buildQwen3NextModule(ctx, desc, irOptions);
  if (!module)
    return module.takeError();
  CpuPipelineOptions pipeline;
  pipeline.deltaMode = deltaMode;
  pipeline.fuseRepeatBroadcast = fuseRepeat;
  if (Error err = codegen::runCodegenPipeline(**module, pipeline))
    return std::move(err);
  codegen::loadKernelDialects(ctx);
  mlir::OwningOpRef<mlir::ModuleOp> kernels(
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx)));
  auto names = codegen::emitDispatchKernels(**module, *kernels);
  if (!names)
    return names.takeError();
  if (!dumpKernels.empty()) {
    std::error_code ec;
    raw_fd_ostream os(dumpKernels, ec);
    if (ec)
      return createStringError("cannot write " + dumpKernels + ": " +
                               ec.message());
    kernels->print(os);
  }
  KernelBytes r;
  std::map<std::string, int64_t> uses;
  for (const codegen::ChainKernel &k : *names)
    if (k.loop && k.chain.rfind("prefill.", 0) == 0)
      ++uses[k.kernel];
  for (auto &[name, n] : uses) {
    r.dispatches += n;
    ++r.kernels;
    auto f = kernels->lookupSymbol<mlir::func::FuncOp>(name);
    if (!f)
      return createStringError("no kernel @" + name);
    for (int64_t T : Ts) {
      auto a = codegen::loopKernelAllocations(f, T);
      if (!a)
        return a.takeError();
      codegen::LoopKernelAllocations &s = r.perCall[T];
      s.allocs += a->allocs;
      s.totalBytes += a->totalBytes;
      s.peakBytes = std::max(s.peakBytes, a->peakBytes);
    }
  }
  return r;
}

struct Row {
  int64_t T = 0;
  std::vector<double> samples;
  double mean() const {
    double s = 0;
    for (double x : samples)
      s += x;
    return samples.empty() ? 0 : s / samples.size();
  }
  double sd() const {
    if (samples.size() < 2)
      return 0;
    double m = mean(), s = 0;
    for (double x : samples)
      s += (x - m) * (x - m);
    return std::sqrt(s / (samples.size() - 1));
  }
};

Expected<double> prefillOnce(runtime::Context &ctx, int64_t T, int64_t V,
                             std::mt19937 &rng) {
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(V - 1));
  ctx.seqReset(0);
  std::vector<runtime::BatchToken> batch(static_cast<size_t>(T));
  for (int64_t i = 0; i < T; ++i)
    batch[i] = {tok(rng), static_cast<int32_t>(i), 0, i == T - 1};
  const double start = now();
  if (Error err = ctx.decode(batch))
    return std::move(err);
  return now() - start;
}

int runBench() {
  // The default lengths unless -p gives some. (A SmallVector: GCC 12 warns,
  // wrongly, about freeing a std::vector built from an empty range.)
  llvm::SmallVector<int64_t, 8> Ts(prompts.begin(), prompts.end());
  if (Ts.empty())
    Ts = {64, 512, 2048};
  if (reps <= 0 || llvm::any_of(Ts, [](int64_t T) { return T <= 0; }))
    return fail("-p lengths and -r must be positive");
  auto deltaModeValue = runtime::parseDeltaMode(deltaMode);
  if (!deltaModeValue)
    return fail(deltaModeValue.takeError());
  auto model = runtime::Model::open(modelPath);
  if (!model)
    return fail(model.takeError());

  auto bytes = loopKernelBytes((*model)->description(), Ts);
  if (!bytes)
    return fail(bytes.takeError());

  std::vector<Row> rows;
  if (!bytesOnly) {
    codegen::CompileOptions options;
    options.deltaMode = deltaMode;
    options.fuseRepeatBroadcast = fuseRepeat;
    options.jitCacheDir = jitCache;
    auto compiled = codegen::compileModel((*model)->description(), options);
    if (!compiled)
      return fail(compiled.takeError());
    const codegen::CompileStats &stats = (*compiled)->stats();
    errs() << formatv("qn-delta-prefill-bench: compiled in {0:f3} s ({1} "
                      "kernels {2})\n",
                      stats.seconds, stats.kernels,
                      stats.kernelsFromCache ? "from the cache"
                                             : "JIT-compiled");
    runtime::ThreadPool pool(threads);
    const int64_t V = (*model)->hparams().nVocab;
    std::mt19937 rng(1234);
    for (int64_t T : Ts) {
      runtime::ContextParams params;
      params.nCtx = T;
      params.nUBatch = T;
      params.pool = &pool;
      params.deltaMode = *deltaModeValue;
      params.prefillProgram = &(*compiled)->prefill();
      params.decodeProgram = &(*compiled)->decode();
      auto ctx = runtime::Context::create(**model, params);
      if (!ctx)
        return fail(ctx.takeError());
      auto warm = prefillOnce(**ctx, std::min<int64_t>(T, 16), V, rng);
      if (!warm)
        return fail(warm.takeError());
      Row row{T, {}};
      for (int64_t i = 0; i < reps; ++i) {
        auto s = prefillOnce(**ctx, T, V, rng);
        if (!s)
          return fail(s.takeError());
        row.samples.push_back(double(T) / *s);
      }
      rows.push_back(row);
    }
  }

  const std::string fuse = fuseRepeat ? "on" : "off";
  if (outFormat == "json") {
    json::Array out;
    for (int64_t T : Ts) {
      json::Object o{{"delta_mode", deltaMode.getValue()},
                     {"fuse_repeat_broadcast", bool(fuseRepeat)},
                     {"n_threads", int64_t(threads)},
                     {"T", T},
                     {"loop_kernel_dispatches", bytes->dispatches}};
      for (const Row &r : rows)
        if (r.T == T) {
          json::Array samples;
          for (double x : r.samples)
            samples.push_back(x);
          o["avg_ts"] = r.mean();
          o["stddev_ts"] = r.sd();
          o["samples_ts"] = std::move(samples);
        }
      if (bytes->kernels) {
        const codegen::LoopKernelAllocations &a = bytes->perCall[T];
        o["loop_kernel_allocs"] = a.allocs;
        o["loop_kernel_bytes"] = a.totalBytes;
        o["loop_kernel_peak_bytes"] = a.peakBytes;
      }
      out.push_back(std::move(o));
    }
    outs() << formatv("{0:2}", json::Value(std::move(out))) << "\n";
    return 0;
  }
  outs() << "| delta mode | repeat rewrite | T | prefill t/s | loop kernel "
            "allocs / call | bytes / call | peak bytes |\n"
         << "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (int64_t T : Ts) {
    std::string ts = "-";
    for (const Row &r : rows)
      if (r.T == T)
        ts = formatv("{0:f2} ± {1:f2}", r.mean(), r.sd()).str();
    std::string a = "-", by = "-", peak = "-";
    if (bytes->kernels) {
      const codegen::LoopKernelAllocations &x = bytes->perCall[T];
      a = std::to_string(x.allocs);
      by = std::to_string(x.totalBytes);
      peak = std::to_string(x.peakBytes);
    }
    outs() << formatv("| {0} | {1} | {2} | {3} | {4} | {5} | {6} |\n",
                      deltaMode.getValue(), fuse, T, ts, a, by, peak);
  }
  if (bytes->kernels)
    outs() << formatv("\n{0} distinct loop kernel(s) run by {1} prefill "
                      "dispatches; allocations are one call of each distinct "
                      "kernel, summed (peak: the largest)\n",
                      bytes->kernels, bytes->dispatches);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv,
                              "prefill speed per delta mode and the mode-0 "
                              "loop kernel's allocations\n");
  return runBench();
}

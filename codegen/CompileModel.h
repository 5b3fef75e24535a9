//===- CompileModel.h - GGUF model -> compiled prefill/decode plans -*- C++
//-*-===//
//
// The whole compile path in one call: frontend (qn IR of the model) ->
// qn-cpu-pipeline{delta-mode} -> elementwise chain kernels -> PlanBuilder
// (one runtime::plan::Program per entry) -> CpuJit (kernels compiled for
// this CPU, or loaded from the on-disk cache) -> kernel addresses filled
// into the programs. The result owns the JIT, so the addresses stay valid
// as long as the CompiledModel lives. docs/codegen.md.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_COMPILEMODEL_H
#define QN_CODEGEN_COMPILEMODEL_H

#include "frontend/Qwen3NextIR.h"
#include "gguf/Qwen3Next.h"
#include "passes/Passes.h"
#include "runtime/plan/Program.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace qn::codegen {

class CpuJit;

/// $XDG_CACHE_HOME/qn/kernels, else $HOME/.cache/qn/kernels, else "" (no
/// cache).
std::string defaultKernelCacheDir();

struct CompileOptions {
  /// Element type of the KV cache states.
  frontend::KVCacheType kvType = frontend::KVCacheType::F16;
  /// qn-select-delta-path mode: "0", "1", "2" or "auto".
  std::string deltaMode = "auto";
  /// Run qn-fuse-repeat-broadcast (off only to measure what it saves).
  bool fuseRepeatBroadcast = true;
  /// Run qn-fuse-epilogues (off only to measure the fusion).
  bool fuseEpilogues = true;
  /// qn-select-activations mode: "q8", "q8prefill" or "f32".
  std::string activations = "q8";
  /// Where compiled kernels are cached; empty: no cache.
  std::string jitCacheDir = defaultKernelCacheDir();
};

struct CompileStats {
  /// Wall time of the whole compileModel call and of its JIT step.
  double seconds = 0, jitSeconds = 0;
  /// True when the kernels' object code came from the cache.
  bool kernelsFromCache = false;
  /// The cache file used (empty without a cache).
  std::string cacheFile;
  /// Why the kernel cache was not used although one was asked for (see
  /// CpuJit::cacheWarning); empty otherwise.
  std::string cacheWarning;
  /// Generated-kernel dispatches (elementwise chains, loop regions) of both
  /// entries and the distinct kernels for them.
  size_t chains = 0, kernels = 0;
  /// Per entry (prefill, decode).
  size_t prefillDispatches = 0, decodeDispatches = 0;
  int32_t prefillSlots = 0, decodeSlots = 0;
};

class CompiledModel {
public:
  ~CompiledModel();
  const runtime::plan::Program &prefill() const { return prefillProgram; }
  const runtime::plan::Program &decode() const { return decodeProgram; }
  const CompileStats &stats() const { return compileStats; }

private:
  friend llvm::Expected<std::unique_ptr<CompiledModel>>
  compileModel(const gguf::Qwen3NextModel &model, const CompileOptions &opts);
  CompiledModel() = default;

  std::unique_ptr<CpuJit> jit;
  runtime::plan::Program prefillProgram, decodeProgram;
  CompileStats compileStats;
};

/// Runs qn-form-dispatches, qn-select-activations (q8) and
/// qn-assign-buffers on `module` (IR already through qn-cpu-pipeline, or
/// written by hand at that level).
llvm::Error runDispatchPasses(mlir::ModuleOp module);

/// Runs qn-cpu-codegen-pipeline{options} (buildCodegenPipeline) on
/// `module` (the frontend's IR): the dispatch-level IR the plans are built
/// from. Errors carry the passes' diagnostics, or name the bad option.
llvm::Error runCodegenPipeline(mlir::ModuleOp module,
                               const CpuPipelineOptions &options);

/// Compiles `model` for this CPU. Errors name the step that failed (IR
/// build, pipeline, kernel generation, plan, JIT) and its cause.
llvm::Expected<std::unique_ptr<CompiledModel>>
compileModel(const gguf::Qwen3NextModel &model, const CompileOptions &opts);

} // namespace qn::codegen

#endif // QN_CODEGEN_COMPILEMODEL_H

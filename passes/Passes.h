//===- Passes.h - qn passes -------------------------------------*- C++ -*-===//

#ifndef QN_PASSES_PASSES_H
#define QN_PASSES_PASSES_H

#include "dialect/QNDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"
#include <functional>
#include <memory>
#include <string>

namespace qn {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The options of `qn-cpu-pipeline` (and of pipelines that extend it).
struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<std::string> deltaMode{
      *this, "delta-mode",
      llvm::cl::desc("qn-select-delta-path mode: 0, 1, 2 or auto"),
      llvm::cl::init("auto")};
  Option<std::string> device{
      *this, "device",
      llvm::cl::desc("backend to compile for: cpu (the only one built; cuda "
                     "is refused until the CUDA back end exists)"),
      llvm::cl::init("cpu")};
  Option<bool> fuseRepeatBroadcast{
      *this, "fuse-repeat-broadcast",
      llvm::cl::desc("run qn-fuse-repeat-broadcast (off: keep the "
                     "materialized repeats, to measure what it saves)"),
      llvm::cl::init(true)};
  Option<bool> fuseEpilogues{
      *this, "fuse-epilogues",
      llvm::cl::desc("qn-cpu-codegen-pipeline: run qn-fuse-epilogues (off: "
                     "every residual add its own dispatch, to measure the "
                     "fusion)"),
      llvm::cl::init(true)};
  Option<std::string> activations{
      *this, "activations",
      llvm::cl::desc("qn-cpu-codegen-pipeline: qn-select-activations mode "
                     "(q8, q8prefill or f32)"),
      llvm::cl::init("q8")};
};

/// Why `opts` cannot build a pipeline (a backend that is not built, an
/// unknown activations mode), or "".
std::string checkPipelineOptions(const CpuPipelineOptions &opts);

/// Registers a pipeline named `name` built by `build` from
/// CpuPipelineOptions, refusing options checkPipelineOptions refuses.
void registerCpuPipeline(
    llvm::StringRef name, llvm::StringRef description,
    std::function<void(mlir::OpPassManager &, const CpuPipelineOptions &)>
        build);

/// Adds the passes of `qn-cpu-pipeline` to `pm` (passes/Pipelines.cpp).
void buildCpuPipeline(mlir::OpPassManager &pm, const CpuPipelineOptions &opts);
/// The same with the default options.
void buildCpuPipeline(mlir::OpPassManager &pm);
/// Registers the named pipelines (`qn-cpu-pipeline`) with the pass registry.
void registerQNPipelines();

} // namespace qn

#endif // QN_PASSES_PASSES_H

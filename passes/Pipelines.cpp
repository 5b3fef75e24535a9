//===- Pipelines.cpp - registered qn pass pipelines -------------*- C++ -*-===//
//
// `qn-cpu-pipeline`: what runs on the frontend's module (qn-run ir) before
// CPU code generation, in this order and for this reason:
//   1. qn-select-delta-path: picks recurrent/chunked/fused per delta net;
//      mode 0 expands into primitives with materialized repeats, so it must
//      run before the repeat fusion;
//   2. qn-fuse-repeat-broadcast, canonicalize, cse: the graph clean-up;
//   3. qn-assign-backends: last, so it places the ops that will really run.
// The remaining steps (dispatch formation, lowering for the JIT) are listed
// in docs/frontend.md.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qn {
namespace {
struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  Option<std::string> deltaMode{
      *this, "delta-mode",
      llvm::cl::desc("qn-select-delta-path mode: 0, 1, 2 or auto"),
      llvm::cl::init("auto")};
  Option<std::string> device{
      *this, "device", llvm::cl::desc("qn-assign-backends device: cpu or cuda"),
      llvm::cl::init("cpu")};
};

void buildCpuPipelineWith(OpPassManager &pm, const CpuPipelineOptions &opts) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  SelectDeltaPathPassOptions delta;
  delta.mode = opts.deltaMode;
  delta.target = "cpu";
  fpm.addPass(createSelectDeltaPathPass(delta));
  fpm.addPass(createFuseRepeatBroadcastPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
  AssignBackendsPassOptions place;
  place.device = opts.device;
  fpm.addPass(createAssignBackendsPass(place));
}
} // namespace

void buildCpuPipeline(OpPassManager &pm) {
  buildCpuPipelineWith(pm, CpuPipelineOptions());
}

void registerQNPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "qn-cpu-pipeline",
      "Prepares the model-level qn IR for CPU code generation: "
      "qn-select-delta-path, qn-fuse-repeat-broadcast, canonicalize, cse, "
      "qn-assign-backends on every function",
      buildCpuPipelineWith);
}

} // namespace qn

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
// in docs/frontend.md; `qn-cpu-codegen-pipeline` (codegen/CodegenPipelines.cpp)
// adds qn-form-dispatches.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qn {

void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
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

void buildCpuPipeline(OpPassManager &pm) {
  buildCpuPipeline(pm, CpuPipelineOptions());
}

void registerQNPipelines() {
  PassPipelineRegistration<CpuPipelineOptions>(
      "qn-cpu-pipeline",
      "Prepares the model-level qn IR for CPU code generation: "
      "qn-select-delta-path, qn-fuse-repeat-broadcast, canonicalize, cse, "
      "qn-assign-backends on every function",
      [](OpPassManager &pm, const CpuPipelineOptions &opts) {
        buildCpuPipeline(pm, opts);
      });
}

} // namespace qn

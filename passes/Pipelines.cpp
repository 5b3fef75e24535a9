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

#include "dialect/QNOps.h"

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
  if (opts.fuseRepeatBroadcast)
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

std::string checkPipelineOptions(const CpuPipelineOptions &opts) {
  if (!symbolizeActivations(opts.activations))
    return "activations must be q8, q8prefill or f32, got '" +
           opts.activations + "'";
  if (opts.device == "cpu")
    return "";
  if (opts.device == "cuda")
    return "device 'cuda': this qn has no CUDA back end built; compile for "
           "cpu (plan a split with qn-assign-backends{device=cuda} or "
           "`qn-run plan --device cuda`)";
  return "unknown device '" + opts.device + "' (expected cpu)";
}

void registerCpuPipeline(
    StringRef name, StringRef description,
    std::function<void(OpPassManager &, const CpuPipelineOptions &)> build) {
  registerPassPipeline(
      name, description,
      [build, name](OpPassManager &pm, StringRef text,
                    function_ref<LogicalResult(const Twine &)> errorHandler) {
        CpuPipelineOptions opts;
        if (failed(opts.parseFromString(text)))
          return failure();
        if (std::string why = checkPipelineOptions(opts); !why.empty())
          return errorHandler(name + ": " + why);
        build(pm, opts);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
        optHandler(CpuPipelineOptions());
      });
}

void registerQNPipelines() {
  registerCpuPipeline(
      "qn-cpu-pipeline",
      "Prepares the model-level qn IR for CPU code generation: "
      "qn-select-delta-path, qn-fuse-repeat-broadcast, canonicalize, cse, "
      "qn-assign-backends on every function",
      [](OpPassManager &pm, const CpuPipelineOptions &opts) {
        buildCpuPipeline(pm, opts);
      });
}

} // namespace qn

//===- CodegenPipelines.cpp - pipelines that end in code generation -------===//
//
// `qn-cpu-codegen-pipeline`: qn-cpu-pipeline (passes/Pipelines.cpp), then
// qn-form-dispatches, qn-select-activations, qn-fuse-epilogues and
// qn-assign-buffers, so that
// `qn-opt` shows the plan the compiled engine would run, op by op, down to
// its buffers (add --qn-print-plan for the listing). It lives here, not in
// passes/, because qn-form-dispatches needs QNCodegen.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qn {

void buildCodegenPipeline(OpPassManager &pm, const CpuPipelineOptions &opts) {
  buildCpuPipeline(pm, opts);
  pm.addPass(createFormDispatchesPass());
  pm.addPass(createSelectActivationsPass(
      SelectActivationsPassOptions{opts.activations}));
  if (opts.fuseEpilogues)
    pm.addPass(createFuseEpiloguesPass());
  pm.addPass(createAssignBuffersPass());
}

void registerQNCodegenPipelines() {
  registerCpuPipeline("qn-cpu-codegen-pipeline",
                      "qn-cpu-pipeline, then qn-form-dispatches, "
                      "qn-select-activations, qn-fuse-epilogues and "
                      "qn-assign-buffers: the dispatch-level IR the compiled "
                      "plan serializes",
                      buildCodegenPipeline);
}

} // namespace qn

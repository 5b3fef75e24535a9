//===- CodegenPipelines.cpp - pipelines that end in code generation -------===//
//
// `qn-cpu-codegen-pipeline`: qn-cpu-pipeline (passes/Pipelines.cpp), then
// qn-form-dispatches and qn-fuse-epilogues, so that `qn-opt` shows the plan the
// compiled engine would run, op by op. It lives here, not in passes/, because
// qn-form-dispatches needs QNCodegen.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qn {

void registerQNCodegenPipelines() {
  registerCpuPipeline(
      "qn-cpu-codegen-pipeline",
      "qn-cpu-pipeline, then qn-form-dispatches: the model-level qn IR "
      "annotated with the compiled plan's dispatches",
      [](OpPassManager &pm, const CpuPipelineOptions &opts) {
        buildCpuPipeline(pm, opts);
        pm.addPass(createFormDispatchesPass());
        if (opts.fuseEpilogues)
          pm.addPass(createFuseEpiloguesPass());
      });
}

} // namespace qn

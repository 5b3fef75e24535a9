//===- Pipelines.cpp - registered qn pass pipelines -------------*- C++ -*-===//
//
// `qn-cpu-pipeline`: what runs on the frontend's module (qn-run ir) before
// CPU code generation. Today it is the graph clean-up that exists: repeats
// into broadcasts, canonicalization, CSE. The steps still to come are listed
// in docs/frontend.md (delta-path selection, decomposition, dispatch
// formation, lowering to the LLVM dialect for the JIT).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qn {

void buildCpuPipeline(OpPassManager &pm) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(createFuseRepeatBroadcastPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
}

void registerQNPipelines() {
  PassPipelineRegistration<>(
      "qn-cpu-pipeline",
      "Prepares the model-level qn IR for CPU code generation (today: "
      "qn-fuse-repeat-broadcast, canonicalize, cse on every function)",
      buildCpuPipeline);
}

} // namespace qn

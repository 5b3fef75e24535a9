//===- Passes.h - qn passes -------------------------------------*- C++ -*-===//

#ifndef QN_PASSES_PASSES_H
#define QN_PASSES_PASSES_H

#include "dialect/QNDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include <memory>

namespace qn {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Adds the passes of `qn-cpu-pipeline` to `pm` (passes/Pipelines.cpp).
void buildCpuPipeline(mlir::OpPassManager &pm);
/// Registers the named pipelines (`qn-cpu-pipeline`) with the pass registry.
void registerQNPipelines();

} // namespace qn

#endif // QN_PASSES_PASSES_H

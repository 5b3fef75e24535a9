//===- CodegenPasses.h - qn code generation passes --------------*- C++ -*-===//
//
// Passes and pipelines that need QNCodegen (CodegenPasses.td).
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_CODEGENPASSES_H
#define QN_CODEGEN_CODEGENPASSES_H

#include "dialect/QNDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "passes/Passes.h"

#include <memory>

namespace qn {

#define GEN_PASS_DECL
#include "codegen/CodegenPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/CodegenPasses.h.inc"

/// Adds qn-cpu-pipeline{opts}, qn-form-dispatches,
/// qn-select-activations{mode=opts.activations}, qn-fuse-epilogues (unless
/// opts.fuseEpilogues is off) and qn-assign-buffers to `pm`: the one
/// definition of the dispatch-level pipeline, for qn-opt and the compiler.
void buildCodegenPipeline(mlir::OpPassManager &pm,
                          const CpuPipelineOptions &opts);

/// Registers `qn-cpu-codegen-pipeline{...}` (CpuPipelineOptions) built by
/// buildCodegenPipeline (codegen/CodegenPipelines.cpp).
void registerQNCodegenPipelines();

} // namespace qn

#endif // QN_CODEGEN_CODEGENPASSES_H

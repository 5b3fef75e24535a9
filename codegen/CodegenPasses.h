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

#include <memory>

namespace qn {

#define GEN_PASS_DECL
#include "codegen/CodegenPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/CodegenPasses.h.inc"

/// Registers `qn-cpu-codegen-pipeline{delta-mode,device}`: qn-cpu-pipeline,
/// then qn-form-dispatches (codegen/CodegenPipelines.cpp).
void registerQNCodegenPipelines();

} // namespace qn

#endif // QN_CODEGEN_CODEGENPASSES_H

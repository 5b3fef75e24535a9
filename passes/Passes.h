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

} // namespace qn

#endif // QN_PASSES_PASSES_H

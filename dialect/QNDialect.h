//===- QNDialect.h - the qn dialect -----------------------------*- C++ -*-===//
//
// Include this (or QNOps.h) to use the qn dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QN_DIALECT_QNDIALECT_H
#define QN_DIALECT_QNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialect/QNOpsDialect.h.inc"

#endif // QN_DIALECT_QNDIALECT_H

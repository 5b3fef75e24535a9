//===- QNTypes.h - qn dialect types and enums -------------------*- C++ -*-===//

#ifndef QN_DIALECT_QNTYPES_H
#define QN_DIALECT_QNTYPES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#include "dialect/QNEnums.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/QNOpsTypes.h.inc"

#endif // QN_DIALECT_QNTYPES_H

//===- QNOps.h - qn dialect operations --------------------------*- C++ -*-===//

#ifndef QN_DIALECT_QNOPS_H
#define QN_DIALECT_QNOPS_H

#include "dialect/QNDialect.h"
#include "dialect/QNTypes.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/QNOps.h.inc"

#endif // QN_DIALECT_QNOPS_H

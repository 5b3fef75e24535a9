//===- QNOps.cpp - generated op definitions ---------------------*- C++ -*-===//
//
// Only the generated code lives here; the hand-written verifiers and type
// inference are in ElementwiseOps.cpp, ShapeOps.cpp, LinalgOps.cpp and
// ModelOps.cpp so that each translation unit stays small.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"

#include "dialect/QNInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dialect/QNOps.cpp.inc"

//===- QNDialect.cpp - qn dialect registration ------------------*- C++ -*-===//

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"

using namespace mlir;
using namespace qn;

#include "dialect/QNOpsDialect.cpp.inc"

void QNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/QNOps.cpp.inc"
      >();
  registerTypes();
}

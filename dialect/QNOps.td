//===- QNOps.td - qn dialect operations --------------------*- tablegen -*-===//
//
// All operations of the qn dialect. Primitive ops are in QNPrimitiveOps.td,
// model-level ops in QNModelOps.td; this file is the tablegen entry point
// (add_mlir_dialect(QNOps qn)) so that one generated .inc holds them all.
//
//===----------------------------------------------------------------------===//

#ifndef QN_OPS_TD
#define QN_OPS_TD

include "dialect/QNBase.td"
include "dialect/QNTypes.td"
include "dialect/QNPrimitiveOps.td"
include "dialect/QNModelOps.td"
include "dialect/QNDispatchOps.td"

#endif // QN_OPS_TD

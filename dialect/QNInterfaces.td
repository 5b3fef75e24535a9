//===- QNInterfaces.td - op interfaces of the qn dialect ---*- tablegen -*-===//
//
// What code generation needs to know about an op, declared on the op itself
// so that every emitter reads one definition instead of keeping its own list.
//
//===----------------------------------------------------------------------===//

#ifndef QN_INTERFACES_TD
#define QN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def QN_ScalarElementwiseOpInterface
    : OpInterface<"ScalarElementwiseOpInterface"> {
  let cppNamespace = "::qn";
  let description = [{
    An elementwise op whose value at one index is a function of its
    operands' values at that index (numpy broadcasting): it can join a fused
    elementwise chain. `buildScalar` emits that function on scalars
    (arith/math ops), once for every emitter: the CPU loop kernels and any
    other backend that lowers chains element by element.
  }];
  let methods = [
    InterfaceMethod<[{
        Emits the op's formula on the scalar `operands` (one per tensor
        operand, in order) at the builder's point; returns the result.
      }],
      "::mlir::Value", "buildScalar",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands)>
  ];
}

#endif // QN_INTERFACES_TD

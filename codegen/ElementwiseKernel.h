//===- ElementwiseKernel.h - qn elementwise chain -> loop kernel -*- C++
//-*-===//
//
// Code generation for the fused elementwise parts of the model (the chains
// between heavy ops, e.g. alpha_biased -> a_softplus -> g_in of spec 3.2):
// a function whose body is only qn elementwise ops becomes one loop nest
// over the result's elements that reads every input once per element (with
// numpy broadcasting) and keeps all intermediates in registers.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_ELEMENTWISEKERNEL_H
#define QN_CODEGEN_ELEMENTWISEKERNEL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace qn::codegen {

/// Loads the dialects the generated kernels use into `ctx`.
void loadKernelDialects(mlir::MLIRContext &ctx);

/// Emits into `into` a `func.func @<name>` with one memref argument per
/// argument of `source` (same shapes, f32) followed by one for the result,
/// marked `llvm.emit_c_interface`. `source` must have f32 ranked-tensor
/// arguments, one result, and a body of qn elementwise ops only (add, sub,
/// mul, div, max, min, exp, log, neg, abs, sqrt, rsqrt, sigmoid, silu,
/// softplus, scale); anything else is an error naming the op.
llvm::Error emitElementwiseKernel(mlir::func::FuncOp source,
                                  mlir::ModuleOp into, llvm::StringRef name);

} // namespace qn::codegen

#endif // QN_CODEGEN_ELEMENTWISEKERNEL_H

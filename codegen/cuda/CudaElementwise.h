//===- CudaElementwise.h - elementwise dispatches as CUDA C++ ----*- C++
//-*-===//
//
// The CUDA half of an elementwise dispatch: its body (a tree of qn ops with
// ScalarElementwiseOpInterface) becomes a `__device__` scalar function,
// generated from the same `buildScalar` formulas the CPU kernels use (the
// arith/math ops they build are printed as C expressions), and a
// grid-stride `__global__` kernel over the result's elements that reads
// each operand with numpy broadcasting. The source needs no headers, so
// NVRTC compiles it as is (runtime/cuda/Nvrtc.h).
//
// Kernel ABI: `extern "C" __global__ void <cudaKernelName>(long long n0,
// const float *in0, ..., float *out)`: `n0` is the result's outermost
// dimension (its static size when it is static), every other dimension is
// a compile-time constant; operands and result are dense row-major.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_CUDA_CUDAELEMENTWISE_H
#define QN_CODEGEN_CUDA_CUDAELEMENTWISE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qn::codegen::cuda {

/// The C identifier of kernel `name` (`prefill.g_in-0`): letters and
/// digits stay, `_` doubles, anything else is `_` and two hex digits, so
/// distinct names stay distinct.
std::string cudaKernelName(llvm::StringRef name);

/// The CUDA C++ of the kernel computing `source` (an outlined elementwise
/// body: f32 ranked tensor arguments, one f32 result; outlineDispatchBody)
/// under the name `name`.
llvm::Expected<std::string> emitCudaElementwiseKernel(mlir::func::FuncOp source,
                                                      llvm::StringRef name);

/// One translation unit with the kernel of every distinct elementwise
/// dispatch of `model` (dispatch IR), each once.
llvm::Expected<std::string> emitCudaKernels(mlir::ModuleOp model);

} // namespace qn::codegen::cuda

#endif // QN_CODEGEN_CUDA_CUDAELEMENTWISE_H

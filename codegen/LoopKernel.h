//===- LoopKernel.h - qn primitive-op region -> CPU loop kernel -*- C++ -*-===//
//
// Code generation for regions of qn primitive ops that are not elementwise
// chains, first of all the chunked delta rule of qn-select-delta-path
// (mode 0, passes/ChunkedDeltaBuilder.cpp): shape ops, scans, masks, batched
// products and triangular solves, with an scf.for over chunks carrying the
// state. Every tensor becomes a buffer and every op a loop nest over it
// (func/scf/memref/arith/math, which CpuJit lowers).
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_LOOPKERNEL_H
#define QN_CODEGEN_LOOPKERNEL_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace qn::codegen {

/// Emits into `into` a function `name` (llvm.emit_c_interface) computing
/// `source`: a func.func on f32 ranked tensors (the outermost dim may be
/// dynamic) whose body is qn primitive ops, tensor/scf/arith ops as
/// ChunkedDeltaBuilder (with or without qn-fuse-repeat-broadcast) produces.
///
/// Kernel arguments: one memref per source argument, then one memref per
/// source result, which the kernel writes; all row-major contiguous with
/// offset 0 (the memref types have the identity layout). A result buffer may
/// be the same memory as an argument buffer (the executor updates the state
/// in place): the kernel computes into buffers of its own and copies the
/// results out only after everything else. It allocates its temporaries
/// with malloc (memref.alloc) and frees them before returning.
///
/// Supported: qn add, sub, mul, div, max, min (broadcasting), exp, log, neg,
/// abs, sqrt, rsqrt, tanh, sigmoid, silu, softplus, scale, reshape, permute,
/// repeat, slice, pad_to_multiple, crop, cumsum, tri, batch_matmul,
/// solve_tri; tensor.empty, dim, extract_slice, insert_slice; scf.for with
/// tensor loop-carried values; arith ops on scalars. Anything else (e.g. the
/// scf.if of the dynamic-T guard: pass the chunked branch as its own
/// function) is an error naming the op; `into` is then left unchanged.
llvm::Error emitLoopKernel(mlir::func::FuncOp source, mlir::ModuleOp into,
                           llvm::StringRef name);

/// What one call of a loop kernel allocates (its memref.alloc temporaries;
/// the argument and result buffers are the caller's).
struct LoopKernelAllocations {
  /// memref.alloc executions per call (an alloc inside the chunk loop counts
  /// once per iteration).
  int64_t allocs = 0;
  /// Bytes allocated over the call, each execution counted.
  int64_t totalBytes = 0;
  /// The most bytes allocated and not yet freed at any point of the call.
  int64_t peakBytes = 0;
};

/// Evaluates the allocations of `kernel`, a function emitLoopKernel emitted
/// (before lowering), for arguments whose dynamic dimensions all equal
/// `dynamicSize` (the token count T: the only dynamic dimension a plan's
/// values have). The index arithmetic that sizes buffers and bounds the
/// loops around allocations is folded on those sizes; loops without
/// allocations inside are not entered. An allocation whose size cannot be
/// folded (it would depend on data or on an induction variable) is an
/// error.
llvm::Expected<LoopKernelAllocations>
loopKernelAllocations(mlir::func::FuncOp kernel, int64_t dynamicSize);

} // namespace qn::codegen

#endif // QN_CODEGEN_LOOPKERNEL_H

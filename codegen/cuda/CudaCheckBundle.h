//===- CudaCheckBundle.h - CPU answers for the CUDA kernels ------*- C++
//-*-===//
//
// What a GPU machine (no MLIR/LLVM there) needs to check the CUDA C++ of a
// model's elementwise dispatches against the CPU kernels: the source
// (kernels.cu), for every distinct kernel one set of fresh random inputs
// (no zeros; the dynamic outer dimension an odd row count) and what the
// JIT-compiled CPU kernel computes from them, and cases.json listing them.
// `qn-exec cuda-check DIR` runs each CUDA kernel on the same inputs and
// compares (scripts/gpu-check.sh).
//
// cases.json: {"source": "kernels.cu", "cases": [{"kernel": <CUDA name>,
// "n0": rows, "inputs": [{"file": f, "elements": n}, ...], "expected":
// {"file": f, "elements": n}}, ...]}; the files are raw little-endian f32.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_CUDA_CUDACHECKBUNDLE_H
#define QN_CODEGEN_CUDA_CUDACHECKBUNDLE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace qn::codegen::cuda {

/// Writes the bundle of `model` (dispatch IR) into directory `dir`
/// (created if missing). `rows` stands for every dynamic outer dimension.
llvm::Error writeCudaCheckBundle(mlir::ModuleOp model, llvm::StringRef dir,
                                 int64_t rows = 37, unsigned seed = 1);

} // namespace qn::codegen::cuda

#endif // QN_CODEGEN_CUDA_CUDACHECKBUNDLE_H

//===- Matmul.h - weight x activation products ------------------*- C++ -*-===//
//
// The one interface through which the runtime multiplies a GGUF weight
// matrix (any ggml block format, used in place from the mmap) by F32
// activations. `matmulReference` is the plain twin every fast kernel is tested
// against; `matmul` is the entry the model executor calls and may dispatch to
// format- and ISA-specific kernels (runtime/kernels/matmul_*.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_KERNELS_MATMUL_H
#define QN_RUNTIME_KERNELS_MATMUL_H

#include "gguf/GGMLType.h"

#include <cstddef>
#include <cstdint>

namespace qn::runtime {

class ThreadPool; // runtime/ThreadPool.h

/// A row-major weight matrix W[rows x cols] stored as ggml rows: row r starts
/// at `data + r * rowBytes` and holds `cols` elements of `type`
/// (rowBytes == gguf::rowBytes(type, cols)). A GGUF tensor {cols, rows} is
/// exactly this; expert e of a 3-D tensor {cols, rows, E} is the view at
/// `data + e * rows * rowBytes`.
struct WeightView {
  gguf::GGMLType type = gguf::GGMLType::F32;
  const uint8_t *data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t rowBytes = 0;
};

/// y[t][r] = sum_c W[r][c] * x[t][c] for t < nTokens, r < rows; with
/// `accumulate`, y[t][r] += that sum (a residual add fused into the
/// product: the sum lands on y while its tile is in cache).
/// x is F32 [nTokens x cols] row-major, y is F32 [nTokens x rows] row-major;
/// x and y do not overlap. `pool` may be null (run on the calling thread).
/// Precondition: gguf::canDequantize(w.type) and cols a whole number of
/// blocks (the model loader checks this once).
void matmul(const WeightView &w, const float *x, int64_t nTokens, float *y,
            ThreadPool *pool, bool accumulate = false);

/// The reference: dequantizes one weight row at a time with
/// gguf::dequantizeRowUnchecked and accumulates the dot products in F32
/// (double accumulation would hide nothing the tests need). Single-threaded,
/// no allocation beyond one row buffer. Same contract as `matmul`.
void matmulReference(const WeightView &w, const float *x, int64_t nTokens,
                     float *y, ThreadPool *pool, bool accumulate = false);

} // namespace qn::runtime

#endif // QN_RUNTIME_KERNELS_MATMUL_H

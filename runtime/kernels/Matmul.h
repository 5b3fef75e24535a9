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

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>

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

/// What the kernels multiply the weights with (the IR's `activations` on a
/// matmul or MoE dispatch, qn-select-activations). F32 keeps the
/// activations exact. Q8 rounds them to 8 bits per 32-value block (the
/// peer's scheme) and uses integer dot products: for 1..4 tokens with
/// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL or MXFP4 weights
/// (fused decode kernels), for more tokens with Q8_0, Q4_0, Q5_0, Q4_K,
/// Q5_K or Q6_K (the int8 GEMM, matmulQ8Gemm); other formats and the
/// generic variant stay F32. Q8Prefill is F32 up to 4 tokens and Q8 above:
/// prefill gets the int8 GEMM, decode keeps exact activations.
enum class MatmulActivations { F32, Q8, Q8Prefill };

/// The one spelling of each (`f32`, `q8`, `q8prefill`): the IR's
/// `activations`, plan listings and qn-run --activations.
inline llvm::StringRef getMatmulActivationsName(MatmulActivations act) {
  switch (act) {
  case MatmulActivations::F32:
    return "f32";
  case MatmulActivations::Q8:
    return "q8";
  case MatmulActivations::Q8Prefill:
    return "q8prefill";
  }
  return "?";
}

/// The activations spelled `name`, or none.
inline std::optional<MatmulActivations>
parseMatmulActivations(llvm::StringRef name) {
  for (MatmulActivations act : {MatmulActivations::F32, MatmulActivations::Q8,
                                MatmulActivations::Q8Prefill})
    if (getMatmulActivationsName(act) == name)
      return act;
  return std::nullopt;
}

/// Whether Q8 changes anything for a weight of `type`: some kernel
/// multiplies it in int8 (the union of the two lists above).
bool hasInt8Kernels(gguf::GGMLType type);

/// y[t][r] = sum_c W[r][c] * x[t][c] for t < nTokens, r < rows; with
/// `accumulate`, y[t][r] += that sum (a residual add fused into the
/// product: the sum lands on y while its tile is in cache).
/// x is F32 [nTokens x cols] row-major, y is F32 [nTokens x rows] row-major;
/// x and y do not overlap. `pool` may be null (run on the calling thread).
/// Precondition: gguf::canDequantize(w.type) and cols a whole number of
/// blocks (the model loader checks this once).
/// `act` says what the activations are multiplied with; the overload
/// without it uses getMatmulActivations() (the direct engine's setting).
void matmul(const WeightView &w, const float *x, int64_t nTokens, float *y,
            ThreadPool *pool, MatmulActivations act, bool accumulate = false);
void matmul(const WeightView &w, const float *x, int64_t nTokens, float *y,
            ThreadPool *pool, bool accumulate = false);

/// The activations `matmul` without an explicit `act` uses (Q8 unless set):
/// what the direct engine and the tests choose once at startup. Not
/// synchronized with running matmuls. The compiled engine does not read
/// it: its dispatches carry their own.
void setMatmulActivations(MatmulActivations act);
MatmulActivations getMatmulActivations();

/// The reference: dequantizes one weight row at a time with
/// gguf::dequantizeRowUnchecked and accumulates the dot products in F32
/// (double accumulation would hide nothing the tests need). Single-threaded,
/// no allocation beyond one row buffer. Same contract as `matmul`.
void matmulReference(const WeightView &w, const float *x, int64_t nTokens,
                     float *y, ThreadPool *pool, bool accumulate = false);

} // namespace qn::runtime

#endif // QN_RUNTIME_KERNELS_MATMUL_H

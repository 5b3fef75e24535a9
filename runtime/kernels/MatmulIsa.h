//===- MatmulIsa.h - instruction-set variants of matmul ---------*- C++ -*-===//
//
// `matmul` (Matmul.h) runs the best variant the CPU supports. Tests and
// benchmarks use this header to run each variant explicitly, so the AVX2 and
// generic paths stay tested on machines that would pick AVX-512.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_KERNELS_MATMULISA_H
#define QN_RUNTIME_KERNELS_MATMULISA_H

#include "runtime/kernels/Matmul.h"

#include "llvm/ADT/StringRef.h"

namespace qn::runtime {

enum class MatmulIsa {
  Generic, // portable C++: gguf dequantizer + scalar tiles
  Avx2,    // AVX2 + FMA + F16C dequantizers and 8-wide tiles
  Avx512,  // AVX2 dequantizers and 16-wide AVX-512F tiles
};

llvm::StringRef getMatmulIsaName(MatmulIsa isa);

/// True when this CPU can run `isa`.
bool isMatmulIsaSupported(MatmulIsa isa);

/// The variant `matmul` uses: the widest supported one, unless the
/// environment variable QN_MATMUL_ISA (generic|avx2|avx512) names a supported
/// narrower one.
MatmulIsa getDefaultMatmulIsa();

/// `matmul` with an explicit variant; `isa` must be supported.
void matmulWithIsa(MatmulIsa isa, const WeightView &w, const float *x,
                   int64_t nTokens, float *y, ThreadPool *pool);

namespace detail {
void matmulGeneric(const WeightView &w, const float *x, int64_t nTokens,
                   float *y, ThreadPool *pool);
void matmulAvx2(const WeightView &w, const float *x, int64_t nTokens, float *y,
                ThreadPool *pool);
void matmulAvx512(const WeightView &w, const float *x, int64_t nTokens,
                  float *y, ThreadPool *pool);
} // namespace detail

} // namespace qn::runtime

#endif // QN_RUNTIME_KERNELS_MATMULISA_H

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

/// What decode kernels multiply the weights with. F32 (the default) keeps
/// the activations exact. Q8 quantizes them to 8 bits per 32-value block
/// (the peer's scheme) and uses integer dot products; it applies to 1..4
/// tokens with Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, IQ4_NL or
/// MXFP4 weights on the SIMD variants and falls back to F32 elsewhere.
enum class MatmulActivations { F32, Q8 };

/// The activations `matmul` uses: set here, or by the environment variable
/// QN_MATMUL_ACT=q8 before the first call. Not synchronized with running
/// matmuls: set it once at startup.
void setMatmulActivations(MatmulActivations act);
MatmulActivations getMatmulActivations();

/// `matmul` with an explicit variant; `isa` must be supported.
void matmulWithIsa(MatmulIsa isa, const WeightView &w, const float *x,
                   int64_t nTokens, float *y, ThreadPool *pool,
                   MatmulActivations act = MatmulActivations::F32,
                   bool accumulate = false);

namespace detail {
/// A per-thread scratch buffer of at least `bytes` bytes, 64-byte aligned,
/// reused across calls (grows, never shrinks). Lives in the generic
/// translation unit so the ISA-specific ones instantiate no library
/// templates that the linker could share with code for other CPUs.
void *threadScratch(size_t bytes);

void matmulGeneric(const WeightView &w, const float *x, int64_t nTokens,
                   float *y, ThreadPool *pool, MatmulActivations act,
                   bool accumulate);
void matmulAvx2(const WeightView &w, const float *x, int64_t nTokens, float *y,
                ThreadPool *pool, MatmulActivations act, bool accumulate);
void matmulAvx512(const WeightView &w, const float *x, int64_t nTokens,
                  float *y, ThreadPool *pool, MatmulActivations act,
                  bool accumulate);
} // namespace detail

} // namespace qn::runtime

#endif // QN_RUNTIME_KERNELS_MATMULISA_H

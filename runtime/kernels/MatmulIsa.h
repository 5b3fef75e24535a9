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

#include <cstdint>
#include <cstring>

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
                   int64_t nTokens, float *y, ThreadPool *pool,
                   MatmulActivations act = MatmulActivations::F32,
                   bool accumulate = false);

/// The int8 GEMM alone, for any token count (what `matmul` runs above 4
/// tokens with Q8 or Q8Prefill activations): the activations quantized like
/// quantizeQ8Reference, integer dot products per block, F32 scales.
/// Returns false (doing nothing) where `isa` has no GEMM for w.type
/// (Avx512 uses VNNI where the CPU has it, else the AVX2 GEMM).
bool matmulQ8Gemm(MatmulIsa isa, const WeightView &w, const float *x,
                  int64_t nTokens, float *y, ThreadPool *pool,
                  bool accumulate = false);

/// The plain twin of the 8-bit activation paths: x rounded per 32-block to
/// d * code, d = bf16(max|x| / 127), code = round-to-nearest-even(x / d)
/// (0 for an all-zero block); n a multiple of 32. The scale is rounded to
/// bf16 because the peer's activation blocks (Q8_2_X4) store it so: the
/// same codes as the peer's keep qn's logits within the peer's own
/// ubatch-to-ubatch spread. |x / d| <= 127 * (1 + 2^-9) rounds to at most
/// 127, so no code saturates.
void quantizeQ8Reference(const float *x, int64_t n, float *xq);

/// f rounded to the nearest bfloat16 (ties to even), as a float; finite f.
inline float roundToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  std::memcpy(&f, &bits, sizeof bits);
  return f;
}

/// matmulReference on quantizeQ8Reference(x): what the Q8 kernels compute,
/// up to F32 summation order.
void matmulQ8Reference(const WeightView &w, const float *x, int64_t nTokens,
                       float *y, bool accumulate = false);

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
bool gemmQ8Avx2(const WeightView &w, const float *x, int64_t nTokens, float *y,
                ThreadPool *pool, bool accumulate);
bool gemmQ8Avx512Vnni(const WeightView &w, const float *x, int64_t nTokens,
                      float *y, ThreadPool *pool, bool accumulate);
} // namespace detail

} // namespace qn::runtime

#endif // QN_RUNTIME_KERNELS_MATMULISA_H

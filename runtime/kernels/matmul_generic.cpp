//===- matmul_generic.cpp - portable matmul kernels -----------------------===//
//
// The variant for CPUs without AVX2: gguf's dequantizer into the scratch
// tile and plain C++ tiles (the compiler vectorizes them for the baseline
// ISA). Same tiling and threading as the SIMD variants.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "runtime/ThreadPool.h"
#include "runtime/kernels/MatmulIsa.h"

#include <algorithm>

namespace qn::runtime::kernels_generic {

using DequantFn = void (*)(const uint8_t *src, int64_t n, float *dst);

static DequantFn dequantizerFor(gguf::GGMLType) { return nullptr; }

using FusedRowFn = void (*)(const uint8_t *row, int64_t cols, const float *x,
                            int64_t xs, const float *xsum, float *out);
constexpr int FusedMaxTokens = 4;
// No fused decode kernels: decode goes through the dequantized tile too.
static FusedRowFn fusedRowFor(gguf::GGMLType, int64_t) { return nullptr; }
// 8-bit activations are a SIMD-only path; the generic variant stays F32.
static bool matmulQ8Activations(const WeightView &, const float *, int64_t,
                                float *, ThreadPool *, bool) {
  return false;
}

// No int8 GEMM either: prefill stays F32.
static bool gemmQ8(const WeightView &, const float *, int64_t, float *,
                   ThreadPool *, bool) {
  return false;
}

constexpr int TokenTile = 2;

template <int T, int R>
static void tileKernel(const float *W, int64_t ws, const float *X, int64_t xs,
                       int64_t K, float *Y, int64_t ys, bool accumulate) {
  // Eight partial sums per (token, row) give the vectorizer independent lanes
  // without reassociating a single sum.
  constexpr int L = 8;
  float acc[T][R][L] = {};
  int64_t k = 0;
  for (; k + L <= K; k += L)
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r)
        for (int l = 0; l < L; ++l)
          acc[t][r][l] += W[r * ws + k + l] * X[t * xs + k + l];
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) {
      float s = 0.0f;
      for (int l = 0; l < L; ++l)
        s += acc[t][r][l];
      for (int64_t kk = k; kk < K; ++kk)
        s += W[r * ws + kk] * X[t * xs + kk];
      float &out = Y[t * ys + r];
      out = accumulate ? out + s : s;
    }
}

#include "runtime/kernels/MatmulDriver.inc"

} // namespace qn::runtime::kernels_generic

void qn::runtime::detail::matmulGeneric(const WeightView &w, const float *x,
                                        int64_t nTokens, float *y,
                                        ThreadPool *pool, MatmulActivations act,
                                        bool accumulate) {
  kernels_generic::matmulImpl(w, x, nTokens, y, pool, act, accumulate);
}

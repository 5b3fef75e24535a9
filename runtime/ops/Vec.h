//===- Vec.h - small vector loops the compiler can vectorize ----*- C++ -*-===//
//
// Without -ffast-math a plain `acc += a[i]*b[i]` loop cannot be vectorized
// (the additions would be reordered). Sixteen independent partial sums give
// the compiler that freedom explicitly; callers compiled with target_clones
// get AVX2/AVX-512 code for them.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_VEC_H
#define QN_RUNTIME_OPS_VEC_H

#include <cstdint>

namespace qn::runtime {

/// Clone the function for AVX-512, AVX2 and plain x86-64, picked at load
/// time by the CPU (GCC ifunc). Empty elsewhere.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QN_VEC_CLONES                                                          \
  __attribute__((                                                              \
      target_clones("arch=skylake-avx512", "arch=haswell", "default")))
#else
#define QN_VEC_CLONES
#endif

inline float dot(const float *a, const float *b, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l)
      acc[l] += a[i + l] * b[i + l];
  float s = 0.0f;
  for (int l = 0; l < 16; ++l)
    s += acc[l];
  for (; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/// y += a * x
inline void axpy(float a, const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    y[i] += a * x[i];
}

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_VEC_H

//===- ElementwiseCases.h - elementwise chains and their formulas -*- C++
//-*-===//
//
// Chains every kernel emitter (the CPU loop kernels, the CUDA C++) is
// tested on, each with its formula in double: broadcast operands of every
// kind, a dynamic token count, and every op with
// ScalarElementwiseOpInterface.
//
//===----------------------------------------------------------------------===//

#ifndef QN_UNITTESTS_CODEGEN_ELEMENTWISECASES_H
#define QN_UNITTESTS_CODEGEN_ELEMENTWISECASES_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace qn::codegentest {

/// Uniform in [lo, hi), never 0.
inline std::vector<float> randomFloats(size_t n, float lo, float hi,
                                       std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v) {
    x = dist(rng);
    if (x == 0.0f)
      x = 0.5f; // no zeros
  }
  return v;
}

// g = ssm_a * softplus(a + dt_bias): the decay of the gated delta rule.
inline const char *kDecay = R"mlir(
func.func @decay(%a: tensor<?x7xf32>, %dt: tensor<7xf32>, %ssm_a: tensor<7xf32>)
    -> tensor<?x7xf32> {
  %b = qn.add %a, %dt : tensor<?x7xf32>, tensor<7xf32>
  %s = qn.softplus %b : tensor<?x7xf32>
  %g = qn.mul %s, %ssm_a : tensor<?x7xf32>, tensor<7xf32>
  return %g : tensor<?x7xf32>
}
)mlir";

/// kDecay's result over t tokens (softplus passes x > 20 through).
inline std::vector<double> decayFormula(int64_t t, const std::vector<float> &a,
                                        const std::vector<float> &dt,
                                        const std::vector<float> &ssmA) {
  std::vector<double> want(t * 7);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t h = 0; h < 7; ++h) {
      double x = double(a[i * 7 + h]) + dt[h];
      double sp = x > 20 ? x : std::log1p(std::exp(x));
      want[i * 7 + h] = ssmA[h] * sp;
    }
  return want;
}

// The gated output norm's product: (n * w) * silu(z) over [T, H, d] with a
// per-d weight, plus sigmoid and a scale to cover the other activations.
inline const char *kGate = R"mlir(
func.func @gate(%n: tensor<?x3x5xf32>, %w: tensor<5xf32>, %z: tensor<?x3x5xf32>,
                %g: tensor<1x3x1xf32>) -> tensor<?x3x5xf32> {
  %y = qn.mul %n, %w : tensor<?x3x5xf32>, tensor<5xf32>
  %s = qn.silu %z : tensor<?x3x5xf32>
  %p = qn.mul %y, %s : tensor<?x3x5xf32>, tensor<?x3x5xf32>
  %q = qn.sigmoid %g : tensor<1x3x1xf32>
  %r = qn.sub %p, %q : tensor<?x3x5xf32>, tensor<1x3x1xf32>
  %o = qn.scale %r, 0.25 : tensor<?x3x5xf32>
  return %o : tensor<?x3x5xf32>
}
)mlir";

/// kGate's result over t tokens.
inline std::vector<double> gateFormula(int64_t t, const std::vector<float> &n,
                                       const std::vector<float> &w,
                                       const std::vector<float> &z,
                                       const std::vector<float> &g) {
  std::vector<double> want(t * 15);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t d = 0; d < 5; ++d) {
        size_t k = (i * 3 + h) * 5 + d;
        double zz = z[k];
        double silu = zz / (1 + std::exp(-zz));
        double sig = 1 / (1 + std::exp(-double(g[h])));
        want[k] = 0.25 * (double(n[k]) * w[d] * silu - sig);
      }
  return want;
}

// The ops that joined the chains with ScalarElementwiseOpInterface (tanh,
// div, max, min, abs, neg, log, sqrt, rsqrt).
inline const char *kMore = R"mlir(
func.func @more(%x: tensor<?x6xf32>, %y: tensor<?x6xf32>) -> tensor<?x6xf32> {
  %t = qn.tanh %x : tensor<?x6xf32>
  %a = qn.abs %y : tensor<?x6xf32>
  %s = qn.sqrt %a : tensor<?x6xf32>
  %r = qn.rsqrt %a : tensor<?x6xf32>
  %l = qn.log %a : tensor<?x6xf32>
  %n = qn.neg %l : tensor<?x6xf32>
  %q = qn.div %s, %r : tensor<?x6xf32>, tensor<?x6xf32>
  %m = qn.max %t, %n : tensor<?x6xf32>, tensor<?x6xf32>
  %k = qn.min %m, %q : tensor<?x6xf32>, tensor<?x6xf32>
  %o = qn.add %k, %t : tensor<?x6xf32>, tensor<?x6xf32>
  return %o : tensor<?x6xf32>
}
)mlir";

inline std::vector<double> moreFormula(const std::vector<float> &x,
                                       const std::vector<float> &y) {
  std::vector<double> want(x.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const double th = std::tanh(double(x[i])), a = std::fabs(double(y[i]));
    const double q = std::sqrt(a) / (1 / std::sqrt(a));
    want[i] = std::min(std::max(th, -std::log(a)), q) + th;
  }
  return want;
}

} // namespace qn::codegentest

#endif // QN_UNITTESTS_CODEGEN_ELEMENTWISECASES_H

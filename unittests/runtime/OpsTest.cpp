//===- OpsTest.cpp - runtime ops against independent formulations --------===//
//
// Each op is checked on random inputs (odd sizes, no zeros) against a
// direct double-precision transcription of the spec's formula, not against
// another use of the op itself.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/Activations.h"
#include "runtime/ops/Attention.h"
#include "runtime/ops/Conv.h"
#include "runtime/ops/DeltaNet.h"
#include "runtime/ops/HotLoops.h"
#include "runtime/ops/Norms.h"
#include "runtime/ops/Rope.h"
#include "runtime/ops/Router.h"

#include "gguf/Dequantize.h"

#include "gtest/gtest.h"

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace qn::runtime;

namespace {

std::vector<float> randomVector(size_t n, std::mt19937 &rng, float lo = -1.0f,
                                float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &x : v) {
    x = d(rng);
    if (x == 0.0f)
      x = 0.5f;
  }
  return v;
}

TEST(OpsTest, RmsNormMatchesFormula) {
  std::mt19937 rng(1);
  const int64_t n = 37;
  auto x = randomVector(n, rng, -3, 3), w = randomVector(n, rng);
  std::vector<float> out(n);
  rmsNorm(x.data(), w.data(), n, 1e-6f, out.data());
  double ss = 0;
  for (float v : x)
    ss += double(v) * v;
  const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(out[i], w[i] * x[i] * inv, 1e-5);
}

TEST(OpsTest, L2NormUsesMaxOfNormAndEps) {
  std::mt19937 rng(2);
  const int64_t n = 29;
  auto x = randomVector(n, rng);
  std::vector<float> out(n);
  l2Norm(x.data(), n, 1e-6f, out.data());
  double ss = 0;
  for (float v : x)
    ss += double(v) * v;
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(out[i], x[i] / std::sqrt(ss), 1e-6);
  // A vector shorter than eps is divided by eps, not by its norm.
  std::vector<float> tiny(n, 1e-9f);
  l2Norm(tiny.data(), n, 1e-6f, out.data());
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(out[i], 1e-9 / 1e-6, 1e-7);
}

TEST(OpsTest, SoftplusHasGgmlThreshold) {
  EXPECT_FLOAT_EQ(softplus(25.0f), 25.0f);
  EXPECT_NEAR(softplus(0.3f), std::log1p(std::exp(0.3)), 1e-6);
  EXPECT_NEAR(softplus(-7.0f), std::log1p(std::exp(-7.0)), 1e-6);
}

TEST(OpsTest, ConvMatchesFormulaAcrossSplitCalls) {
  std::mt19937 rng(3);
  const int64_t C = 5, Kc = 4, T = 9;
  auto u = randomVector(T * C, rng), w = randomVector(Kc * C, rng);
  // Expected: y_t[c] = sum_i w[c][i] u_{t-Kc+1+i}[c], zero before t = 0.
  std::vector<double> expected(T * C, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < Kc; ++i) {
        const int64_t src = t - Kc + 1 + i;
        if (src >= 0)
          expected[t * C + c] += double(w[c * Kc + i]) * u[src * C + c];
      }
  // Run as 1 + 4 + 4 tokens so the carried window is exercised, including
  // a call shorter than the window.
  std::vector<float> state((Kc - 1) * C, 0.0f), y(T * C);
  int64_t done = 0;
  for (int64_t len : {1, 4, 4}) {
    causalConv1d(u.data() + done * C, len, C, Kc, w.data(), state.data(),
                 y.data() + done * C);
    done += len;
  }
  for (int64_t i = 0; i < T * C; ++i)
    EXPECT_NEAR(y[i], expected[i], 1e-5) << i;
  // The final window holds the last Kc-1 inputs, oldest first.
  for (int64_t c = 0; c < C; ++c)
    for (int64_t s = 0; s < Kc - 1; ++s)
      EXPECT_EQ(state[c * (Kc - 1) + s], u[(T - Kc + 1 + s) * C + c]);
}

using DeltaStepFn = void (*)(float *, const float *, const float *,
                             const float *, float, float, int64_t, int64_t,
                             float *, float *);
using AttendGroupFn = void (*)(const float *, int64_t, const float *,
                               const float *, int64_t, int64_t, int64_t,
                               float *, float *);

/// Every ISA variant this CPU can run, with the public dispatching entry.
std::vector<std::pair<const char *, DeltaStepFn>> deltaVariants() {
  std::vector<std::pair<const char *, DeltaStepFn>> v = {
      {"dispatch", &gatedDeltaStep}, {"generic", &hot_generic::gatedDeltaStep}};
  if (cpuHasAvx2Fma())
    v.push_back({"avx2", &hot_avx2::gatedDeltaStep});
  return v;
}

std::vector<std::pair<const char *, AttendGroupFn>> attendVariants() {
  std::vector<std::pair<const char *, AttendGroupFn>> v = {
      {"dispatch", &attendGroup}, {"generic", &hot_generic::attendGroup}};
  if (cpuHasAvx2Fma())
    v.push_back({"avx2", &hot_avx2::attendGroup});
  return v;
}

TEST(OpsTest, DeltaStepMatchesSpecOrder) {
  for (auto [name, step] : deltaVariants()) {
    SCOPED_TRACE(name);
    std::mt19937 rng(4);
    const int64_t dk = 83, dv = 37, T = 6; // > 64: every loop path runs
    std::vector<float> M(dk * dv, 0.0f), scratch(dv), out(dv);
    std::vector<double> Md(dk * dv, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      auto q = randomVector(dk, rng), k = randomVector(dk, rng),
           v = randomVector(dv, rng);
      const float g = -std::fabs(randomVector(1, rng)[0]);
      const float beta = 0.2f + 0.6f * std::fabs(randomVector(1, rng)[0]);
      step(M.data(), q.data(), k.data(), v.data(), g, beta, dk, dv, out.data(),
           scratch.data());
      // Spec §3.2 step 8, literally: decay, delta, write, read out.
      for (double &m : Md)
        m *= std::exp(double(g));
      std::vector<double> delta(dv);
      for (int64_t i = 0; i < dv; ++i) {
        double mk = 0;
        for (int64_t j = 0; j < dk; ++j)
          mk += Md[j * dv + i] * k[j];
        delta[i] = beta * (v[i] - mk);
      }
      for (int64_t j = 0; j < dk; ++j)
        for (int64_t i = 0; i < dv; ++i)
          Md[j * dv + i] += k[j] * delta[i];
      for (int64_t i = 0; i < dv; ++i) {
        double o = 0;
        for (int64_t j = 0; j < dk; ++j)
          o += Md[j * dv + i] * q[j] / std::sqrt(double(dk));
        EXPECT_NEAR(out[i], o, 1e-4) << "t " << t << " i " << i;
      }
    }
    for (int64_t i = 0; i < dk * dv; ++i)
      EXPECT_NEAR(M[i], Md[i], 1e-4);
  }
}

TEST(OpsTest, RopeNeoxRotatesPairsHalfApart) {
  std::mt19937 rng(5);
  const int64_t heads = 3, Dh = 12, R = 8, pos = 17;
  const float base = 10000.0f;
  auto x = randomVector(heads * Dh, rng);
  auto y = x;
  ropeNeox(y.data(), heads, Dh, R, pos, base);
  for (int64_t h = 0; h < heads; ++h) {
    const float *a = x.data() + h * Dh;
    const float *b = y.data() + h * Dh;
    for (int64_t i = 0; i < R / 2; ++i) {
      const double theta = pos * std::pow(double(base), -2.0 * i / R);
      EXPECT_NEAR(b[i], a[i] * std::cos(theta) - a[i + R / 2] * std::sin(theta),
                  1e-4);
      EXPECT_NEAR(b[i + R / 2],
                  a[i] * std::sin(theta) + a[i + R / 2] * std::cos(theta),
                  1e-4);
    }
    for (int64_t i = R; i < Dh; ++i)
      EXPECT_EQ(b[i], a[i]); // not rotated
  }
}

TEST(OpsTest, ImropeLeavesPairsOfTheEAxisUnrotated) {
  // Sections (3, 1, 0, 0) over 8 pairs (qwen35 spec 3.3's example): the
  // sector of pair i is i mod 4; sector 2 would be w, but s_w = 0, so pairs
  // 2 and 6 fall to e (position 0 for text) and keep their values; every
  // other pair turns exactly as plain NEOX.
  std::mt19937 rng(6);
  const int64_t heads = 2, Dh = 16, R = 16, pos = 9;
  const float base = 10000.0f;
  const std::array<int64_t, 4> sections = {3, 1, 0, 0};
  auto x = randomVector(heads * Dh, rng);
  auto neox = x, imrope = x;
  ropeNeox(neox.data(), heads, Dh, R, pos, base);
  ropeNeox(imrope.data(), heads, Dh, R, pos, base, &sections);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < R / 2; ++i) {
      const bool e = i == 2 || i == 6;
      for (int64_t d : {i, i + R / 2}) {
        const float want = e ? x[h * Dh + d] : neox[h * Dh + d];
        EXPECT_EQ(imrope[h * Dh + d], want) << "pair " << i << " dim " << d;
      }
    }
  // The released models' sections (11, 11, 10, 0) cover all 32 pairs of
  // R = 64: the same as NEOX.
  const std::array<int64_t, 4> real = {11, 11, 10, 0};
  auto y = randomVector(64, rng);
  auto a = y, b = y;
  ropeNeox(a.data(), 1, 64, 64, pos, base);
  ropeNeox(b.data(), 1, 64, 64, pos, base, &real);
  EXPECT_EQ(a, b);
}

TEST(OpsTest, RouterPicksTopKRenormalisedLowerIdOnTies) {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f, 1.5f, 0.0f, 3.0f};
  const int64_t E = 7, K = 3;
  std::vector<float> probs(E), weights(K);
  std::vector<int32_t> ids(K);
  routeTopK(logits.data(), E, K, probs.data(), ids.data(), weights.data());
  EXPECT_EQ(ids, (std::vector<int32_t>{6, 1, 3}));
  double z = 0;
  for (float l : logits)
    z += std::exp(double(l));
  for (int64_t e = 0; e < E; ++e)
    EXPECT_NEAR(probs[e], std::exp(double(logits[e])) / z, 1e-6);
  const double sel = std::exp(3.0) + 2 * std::exp(2.0);
  EXPECT_NEAR(weights[0], std::exp(3.0) / sel, 1e-6);
  EXPECT_NEAR(weights[1], std::exp(2.0) / sel, 1e-6);
  EXPECT_NEAR(weights[2], std::exp(2.0) / sel, 1e-6);
}

TEST(OpsTest, AttentionMatchesNaiveSoftmaxWithGqa) {
  std::mt19937 rng(6);
  const int64_t Hq = 4, Hkv = 2, Dh = 6, n = 5;
  auto q = randomVector(Hq * Dh, rng), k = randomVector(n * Hkv * Dh, rng),
       v = randomVector(n * Hkv * Dh, rng);
  for (KVType type : {KVType::F32, KVType::F16}) {
    std::vector<uint8_t> K(n * Hkv * Dh * kvElementBytes(type)), Vc(K.size());
    storeKV(k.data(), n * Hkv * Dh, type, K.data());
    storeKV(v.data(), n * Hkv * Dh, type, Vc.data());
    std::vector<float> out(Hq * Dh), scratch(n + 2 * Dh);
    attendCached(q.data(), K.data(), Vc.data(), type, n, Hq, Hkv, Dh,
                 scratch.data(), out.data());
    const double tol = type == KVType::F32 ? 1e-5 : 2e-3;
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t g = h / (Hq / Hkv);
      std::vector<double> s(n);
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        double d = 0;
        for (int64_t e = 0; e < Dh; ++e)
          d += double(q[h * Dh + e]) * k[(j * Hkv + g) * Dh + e];
        s[j] = d / std::sqrt(double(Dh));
        mx = std::max(mx, s[j]);
      }
      for (double &x : s)
        sum += (x = std::exp(x - mx));
      for (int64_t e = 0; e < Dh; ++e) {
        double o = 0;
        for (int64_t j = 0; j < n; ++j)
          o += s[j] / sum * v[(j * Hkv + g) * Dh + e];
        EXPECT_NEAR(out[h * Dh + e], o, tol);
      }
    }
  }
}

} // namespace

namespace {

TEST(OpsTest, F16ConversionMatchesScalarOnEveryValue) {
  std::vector<uint16_t> all(65536 + 3); // odd length: the tail path runs
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<uint16_t>(i * 40503u);
  std::vector<float> fast(all.size());
  convertF16ToF32(all.data(), fast.data(), static_cast<int64_t>(all.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    const float ref = qn::gguf::fp16ToFloat(all[i]);
    if (std::isnan(ref))
      EXPECT_TRUE(std::isnan(fast[i])) << i;
    else
      EXPECT_EQ(fast[i], ref) << "half 0x" << std::hex << all[i];
  }
}

TEST(OpsTest, AttendGroupMatchesReferenceOverCache) {
  std::mt19937 rng(7);
  const int64_t Hq = 6, Hkv = 2, Dh = 147, n = 23, kvDim = Hkv * Dh;
  const int64_t G = Hq / Hkv;
  auto q = randomVector(Hq * Dh, rng), k = randomVector(n * kvDim, rng),
       v = randomVector(n * kvDim, rng);
  std::vector<float> ref(Hq * Dh), scratch(n + 2 * Dh);
  attendCached(q.data(), k.data(), v.data(), KVType::F32, n, Hq, Hkv, Dh,
               scratch.data(), ref.data());
  std::vector<float> fast(G * Dh), scores(G * n);
  for (auto [name, attend] : attendVariants())
    for (int64_t g = 0; g < Hkv; ++g) {
      attend(q.data() + g * G * Dh, G, k.data() + g * Dh, v.data() + g * Dh,
             kvDim, n, Dh, scores.data(), fast.data());
      for (int64_t i = 0; i < G * Dh; ++i)
        EXPECT_NEAR(fast[i], ref[g * G * Dh + i], 1e-5)
            << name << " kv head " << g << " element " << i;
    }
}

} // namespace

namespace {

TEST(OpsTest, TokenMajorConvMatchesReference) {
  std::mt19937 rng(8);
  const int64_t C = 37, Kc = 4, nState = Kc - 1;
  auto w = randomVector(Kc * C, rng);
  std::vector<float> wT(Kc * C);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < Kc; ++i)
      wT[i * C + c] = w[c * Kc + i];
  auto stateRef = randomVector(nState * C, rng);
  auto stateFast = stateRef;
  std::vector<float> window(nState * C);
  // Calls shorter and longer than the window, one after another.
  for (int64_t T : {1, 2, 7, 1, 5}) {
    auto u = randomVector(T * C, rng);
    std::vector<float> yRef(T * C), yFast(T * C);
    causalConv1d(u.data(), T, C, Kc, w.data(), stateRef.data(), yRef.data());
    causalConv1dTokenMajor(u.data(), T, C, Kc, wT.data(), stateFast.data(),
                           window.data(), yFast.data());
    for (int64_t i = 0; i < T * C; ++i)
      EXPECT_NEAR(yFast[i], yRef[i], 1e-5) << "T " << T << " i " << i;
    EXPECT_EQ(stateFast, stateRef) << "T " << T;
  }
}

} // namespace

//===- DeltaNetPathsTest.cpp - recurrent vs chunked vs fused delta rule ---===//
//
// The three algorithms of DeltaNetHead.h against a double-precision
// transcription of the recurrence in the spec's order (decay, error, write,
// read-out with the written state), on fresh random inputs: token counts
// around the chunk size, strongly negative log-decays, grouped heads and
// odd head sizes, a non-zero incoming state.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetChunked.h"
#include "runtime/ops/DeltaNetFused.h"
#include "runtime/ops/DeltaNetHead.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace qn::runtime;

namespace {

struct Problem {
  int64_t T, Hk, Hv, dk, dv;
  std::vector<float> q, k, v, g, beta, state; // token-major, like the runtime
};

void normalise(float *x, int64_t n) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i)
    ss += double(x[i]) * x[i];
  const double inv = 1.0 / std::sqrt(ss);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(x[i] * inv);
}

/// `gLo..gHi`: range of the log-decays.
Problem makeProblem(std::mt19937 &rng, int64_t T, int64_t Hk, int64_t Hv,
                    int64_t dk, int64_t dv, float gLo, float gHi) {
  Problem p{T, Hk, Hv, dk, dv, {}, {}, {}, {}, {}, {}};
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(gLo, gHi),
      ub(0.05f, 0.95f);
  auto fill = [&](std::vector<float> &x, int64_t n) {
    x.resize(static_cast<size_t>(n));
    for (float &e : x) {
      e = u(rng);
      if (e == 0.0f)
        e = 0.25f;
    }
  };
  fill(p.q, T * Hk * dk);
  fill(p.k, T * Hk * dk);
  fill(p.v, T * Hv * dv);
  fill(p.state, Hv * dk * dv);
  for (int64_t i = 0; i < T * Hk; ++i) {
    normalise(p.q.data() + i * dk, dk);
    normalise(p.k.data() + i * dk, dk);
  }
  p.g.resize(static_cast<size_t>(T * Hv));
  p.beta.resize(static_cast<size_t>(T * Hv));
  for (int64_t i = 0; i < T * Hv; ++i) {
    p.g[i] = ug(rng);
    p.beta[i] = ub(rng);
  }
  return p;
}

/// Double-precision recurrence straight from spec §3.2 step 8.
void reference(const Problem &p, std::vector<double> &out,
               std::vector<double> &state) {
  const int64_t r = p.Hv / p.Hk;
  const double s = 1.0 / std::sqrt(double(p.dk));
  out.assign(static_cast<size_t>(p.T * p.Hv * p.dv), 0.0);
  state.assign(p.state.begin(), p.state.end());
  std::vector<double> delta(static_cast<size_t>(p.dv));
  for (int64_t h = 0; h < p.Hv; ++h) {
    double *M = state.data() + h * p.dk * p.dv; // M[j][i], j < dk, i < dv
    const int64_t kh = h / r;
    for (int64_t t = 0; t < p.T; ++t) {
      const float *q = p.q.data() + (t * p.Hk + kh) * p.dk;
      const float *k = p.k.data() + (t * p.Hk + kh) * p.dk;
      const float *v = p.v.data() + (t * p.Hv + h) * p.dv;
      const double alpha = std::exp(double(p.g[t * p.Hv + h]));
      const double beta = p.beta[t * p.Hv + h];
      for (int64_t e = 0; e < p.dk * p.dv; ++e)
        M[e] *= alpha;
      for (int64_t i = 0; i < p.dv; ++i) {
        double mk = 0;
        for (int64_t j = 0; j < p.dk; ++j)
          mk += M[j * p.dv + i] * k[j];
        delta[i] = beta * (v[i] - mk);
      }
      for (int64_t j = 0; j < p.dk; ++j)
        for (int64_t i = 0; i < p.dv; ++i)
          M[j * p.dv + i] += k[j] * delta[i];
      double *o = out.data() + (t * p.Hv + h) * p.dv;
      for (int64_t i = 0; i < p.dv; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < p.dk; ++j)
          acc += M[j * p.dv + i] * s * q[j];
        o[i] = acc;
      }
    }
  }
}

/// Runs `impl`; for the chunked and fused kernels `generic` forces the
/// baseline ISA build instead of the dispatched one.
void runImpl(DeltaImpl impl, bool generic, const Problem &p,
             std::vector<float> &out, std::vector<float> &state) {
  out.assign(static_cast<size_t>(p.T * p.Hv * p.dv), 0.0f);
  state = p.state;
  const int64_t r = p.Hv / p.Hk;
  for (int64_t h = 0; h < p.Hv; ++h) {
    DeltaHeadArgs a;
    a.T = p.T, a.dk = p.dk, a.dv = p.dv;
    a.q = p.q.data() + (h / r) * p.dk;
    a.k = p.k.data() + (h / r) * p.dk;
    a.qkStride = p.Hk * p.dk;
    a.v = p.v.data() + h * p.dv;
    a.vStride = p.Hv * p.dv;
    a.g = p.g.data() + h;
    a.beta = p.beta.data() + h;
    a.gStride = p.Hv;
    a.M = state.data() + h * p.dk * p.dv;
    a.out = out.data() + h * p.dv;
    a.outStride = p.Hv * p.dv;
    const DeltaIsa isa = generic ? DeltaIsa::Generic : DeltaIsa::Auto;
    if (impl == DeltaImpl::Chunked)
      deltaHeadChunked(a, isa);
    else if (impl == DeltaImpl::Fused)
      deltaHeadFused(a, isa);
    else
      deltaHeadRecurrent(a);
  }
}

/// max |got - want| / max |want| over the whole tensor (the max-norm
/// relative error). Per element or per token would be the wrong yardstick:
/// an output that is small through cancellation (k.q of two nearly
/// orthogonal unit vectors) carries the absolute rounding of its large
/// terms in any F32 computation, the reference recurrence included.
double worstRelative(const std::vector<float> &got,
                     const std::vector<double> &want) {
  double scale = 0, err = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::fabs(want[i]));
    const double e = std::fabs(double(got[i]) - want[i]);
    err = std::isnan(e) ? INFINITY : std::max(err, e);
  }
  return err / std::max(scale, 1e-30);
}

void checkAll(std::mt19937 &rng, int64_t T, int64_t Hk, int64_t Hv, int64_t dk,
              int64_t dv, float gLo, float gHi) {
  SCOPED_TRACE(testing::Message()
               << "T=" << T << " Hk=" << Hk << " Hv=" << Hv << " dk=" << dk
               << " dv=" << dv << " g in [" << gLo << ", " << gHi << "]");
  const Problem p = makeProblem(rng, T, Hk, Hv, dk, dv, gLo, gHi);
  std::vector<double> refOut, refState;
  reference(p, refOut, refState);
  for (DeltaImpl impl :
       {DeltaImpl::Recurrent, DeltaImpl::Chunked, DeltaImpl::Fused})
    for (bool generic : {false, true}) {
      if (generic && impl == DeltaImpl::Recurrent)
        continue; // OpsTest covers the recurrent step's ISA builds
      SCOPED_TRACE(deltaImplName(impl).str() + (generic ? " generic" : ""));
      std::vector<float> out, state;
      runImpl(impl, generic, p, out, state);
      EXPECT_LE(worstRelative(out, refOut), 1e-5);
      EXPECT_LE(worstRelative(state, refState), 1e-5);
    }
}

TEST(DeltaNetPathsTest, AllPathsMatchDoubleRecurrenceAcrossChunkEdges) {
  std::mt19937 rng(20261122);
  for (int64_t T : {1, 2, 63, 64, 65, 200})
    checkAll(rng, T, 1, 2, 64, 64, -1.5f, -0.001f);
}

TEST(DeltaNetPathsTest, StronglyNegativeDecayStaysFinite) {
  // exp(G_i - G_j) above the diagonal would be exp(+thousands) = inf: the
  // chunked form must mask before exp. Mixed mild/strong decays too.
  std::mt19937 rng(7);
  for (int64_t T : {2, 65, 200}) {
    checkAll(rng, T, 1, 1, 64, 64, -60.0f, -20.0f);
    checkAll(rng, T, 2, 2, 32, 32, -30.0f, -0.0001f);
  }
}

TEST(DeltaNetPathsTest, GroupedHeadsMapInterleaved) {
  std::mt19937 rng(3);
  for (int64_t ratio : {1, 2, 3})
    for (int64_t T : {1, 63, 130})
      checkAll(rng, T, 2, 2 * ratio, 64, 64, -2.0f, -0.01f);
}

TEST(DeltaNetPathsTest, OddHeadSizes) {
  std::mt19937 rng(11);
  for (int64_t T : {1, 2, 64, 65, 200}) {
    checkAll(rng, T, 1, 3, 17, 33, -1.0f, -0.01f);
    checkAll(rng, T, 3, 3, 48, 20, -1.0f, -0.01f);
    checkAll(rng, T, 1, 1, 5, 7, -0.5f, -0.01f);
  }
}

TEST(DeltaNetPathsTest, RealHeadSize) {
  std::mt19937 rng(5);
  for (int64_t T : {1, 64, 100})
    checkAll(rng, T, 1, 2, 128, 128, -1.0f, -0.01f);
}

TEST(DeltaNetPathsTest, SplitUbatchesEqualOneUbatch) {
  // The state carried between calls is the whole interface: 200 tokens as
  // 65 + 1 + 134 (chunked, recurrent, fused) must equal the double
  // reference of all 200 at once.
  std::mt19937 rng(13);
  const Problem p = makeProblem(rng, 200, 1, 2, 64, 64, -1.0f, -0.01f);
  std::vector<double> refOut, refState;
  reference(p, refOut, refState);
  std::vector<float> out(static_cast<size_t>(200 * 2 * 64)), state = p.state;
  const int64_t cuts[] = {0, 65, 66, 200};
  const DeltaImpl impls[] = {DeltaImpl::Chunked, DeltaImpl::Recurrent,
                             DeltaImpl::Fused};
  for (int part = 0; part < 3; ++part)
    for (int64_t h = 0; h < 2; ++h) {
      const int64_t t0 = cuts[part];
      DeltaHeadArgs a;
      a.T = cuts[part + 1] - t0, a.dk = 64, a.dv = 64;
      a.q = p.q.data() + t0 * 64, a.k = p.k.data() + t0 * 64;
      a.qkStride = 64;
      a.v = p.v.data() + (t0 * 2 + h) * 64, a.vStride = 128;
      a.g = p.g.data() + t0 * 2 + h, a.beta = p.beta.data() + t0 * 2 + h;
      a.gStride = 2;
      a.M = state.data() + h * 64 * 64;
      a.out = out.data() + (t0 * 2 + h) * 64, a.outStride = 128;
      runDeltaHead(impls[part], a);
    }
  EXPECT_LE(worstRelative(out, refOut), 1e-5);
  EXPECT_LE(worstRelative(state, refState), 1e-5);
}

TEST(DeltaNetPathsTest, ModesPickTheirAlgorithm) {
  EXPECT_EQ(chooseDeltaImpl(DeltaMode::Chunked, 1, 128, 128),
            DeltaImpl::Recurrent);
  EXPECT_EQ(chooseDeltaImpl(DeltaMode::Chunked, 2, 128, 128),
            DeltaImpl::Chunked);
  EXPECT_EQ(chooseDeltaImpl(DeltaMode::FusedPrefill, 1, 128, 128),
            DeltaImpl::Recurrent);
  EXPECT_EQ(chooseDeltaImpl(DeltaMode::FusedPrefill, 512, 128, 128),
            DeltaImpl::Fused);
  EXPECT_EQ(chooseDeltaImpl(DeltaMode::FusedAlways, 1, 128, 128),
            DeltaImpl::Fused);
  // Auto takes the cheapest estimate.
  for (int64_t T : {1, 64, 512}) {
    const DeltaImpl pick = chooseDeltaImpl(DeltaMode::Auto, T, 128, 128);
    for (DeltaImpl other :
         {DeltaImpl::Recurrent, DeltaImpl::Chunked, DeltaImpl::Fused})
      EXPECT_LE(deltaCostNs(pick, T, 128, 128),
                deltaCostNs(other, T, 128, 128));
  }
}

TEST(DeltaNetPathsTest, ParseDeltaModeRejectsOtherText) {
  for (const char *ok : {"0", "1", "2", "auto"}) {
    auto m = parseDeltaMode(ok);
    ASSERT_TRUE(static_cast<bool>(m)) << ok;
    EXPECT_EQ(deltaModeName(*m), ok);
  }
  for (const char *bad : {"", "3", "fused", "-1", "Auto"}) {
    auto m = parseDeltaMode(bad);
    ASSERT_FALSE(static_cast<bool>(m)) << bad;
    EXPECT_NE(llvm::toString(m.takeError()).find("unknown delta mode"),
              std::string::npos);
  }
}

} // namespace

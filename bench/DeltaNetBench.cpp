//===- DeltaNetBench.cpp - recurrent vs chunked vs fused delta rule ------===//
//
// One value head at the real Qwen3-Next sizes (dk = dv = 128) over T tokens,
// single thread; the numbers behind the auto cost model
// (runtime/ops/DeltaNetHead.cpp, docs/delta-path.md). Run:
//   build-x/bin/qn-delta-bench --benchmark_filter=.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetHead.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

using namespace qn::runtime;

namespace {

void runHead(benchmark::State &st, DeltaImpl impl) {
  const int64_t T = st.range(0), dk = 128, dv = 128;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(-2.0f, -0.01f);
  std::vector<float> q(T * dk), k(T * dk), v(T * dv), g(T), beta(T, 0.5f),
      M(dk * dv), out(T * dv);
  for (auto *x : {&q, &k, &v, &M})
    for (float &e : *x)
      e = u(rng);
  for (int64_t t = 0; t < T; ++t) {
    g[t] = ug(rng);
    float nq = 0, nk = 0;
    for (int64_t j = 0; j < dk; ++j)
      nq += q[t * dk + j] * q[t * dk + j], nk += k[t * dk + j] * k[t * dk + j];
    for (int64_t j = 0; j < dk; ++j)
      q[t * dk + j] /= std::sqrt(nq), k[t * dk + j] /= std::sqrt(nk);
  }
  const std::vector<float> M0 = M;
  DeltaHeadArgs a;
  a.T = T, a.dk = dk, a.dv = dv;
  a.q = q.data(), a.k = k.data(), a.qkStride = dk;
  a.v = v.data(), a.vStride = dv;
  a.g = g.data(), a.beta = beta.data(), a.gStride = 1;
  a.M = M.data(), a.out = out.data(), a.outStride = dv;
  for (auto _ : st) {
    st.PauseTiming();
    M = M0; // keep the state bounded across iterations
    st.ResumeTiming();
    runDeltaHead(impl, a);
    benchmark::DoNotOptimize(out.data());
  }
  st.counters["ns_per_token"] = benchmark::Counter(
      static_cast<double>(T), benchmark::Counter::kIsIterationInvariantRate |
                                  benchmark::Counter::kInvert);
}

void BM_Recurrent(benchmark::State &st) { runHead(st, DeltaImpl::Recurrent); }
void BM_Chunked(benchmark::State &st) { runHead(st, DeltaImpl::Chunked); }
void BM_Fused(benchmark::State &st) { runHead(st, DeltaImpl::Fused); }

} // namespace

BENCHMARK(BM_Recurrent)->Arg(1)->Arg(64)->Arg(512);
BENCHMARK(BM_Chunked)->Arg(1)->Arg(64)->Arg(512);
BENCHMARK(BM_Fused)->Arg(1)->Arg(64)->Arg(512);
BENCHMARK_MAIN();

//===- PeakBench.cpp - arithmetic peak of this CPU, per core and total ----===//
//
// The yardstick for prefill GFLOP/s (docs/perf.md): how many F32 FMA
// (zmm / ymm) and int8 dot-product (vpdpbusd zmm: 64 multiply-adds) operations
// a core retires when nothing else limits it: 12 independent accumulator
// chains, no memory traffic. Counts 2 operations per multiply-add. Plain
// C++, no Google Benchmark:
//   qn-peak-bench [threads]     (default: every hardware thread)
//
//===----------------------------------------------------------------------===//

#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int Chains = 12;
constexpr long Iterations = 20'000'000;

__attribute__((target("avx512f"))) float fmaZmm() {
  __m512 acc[Chains];
  for (int i = 0; i < Chains; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < Iterations; ++n)
    for (int i = 0; i < Chains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float s = 0;
  for (int i = 0; i < Chains; ++i)
    s += _mm512_cvtss_f32(acc[i]);
  return s;
}

__attribute__((target("avx2,fma"))) float fmaYmm() {
  __m256 acc[Chains];
  for (int i = 0; i < Chains; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < Iterations; ++n)
    for (int i = 0; i < Chains; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  float s = 0;
  for (int i = 0; i < Chains; ++i)
    s += _mm256_cvtss_f32(acc[i]);
  return s;
}

__attribute__((target("avx512f,avx512vnni"))) float vnniZmm() {
  __m512i acc[Chains];
  for (int i = 0; i < Chains; ++i)
    acc[i] = _mm512_set1_epi32(i);
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (long n = 0; n < Iterations; ++n)
    for (int i = 0; i < Chains; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], u, s);
  int sum = 0;
  for (int i = 0; i < Chains; ++i)
    sum += _mm512_cvtsi512_si32(acc[i]);
  return static_cast<float>(sum);
}

struct Kernel {
  const char *name;
  const char *feature;
  float (*fn)();
  double opsPerInstr; // 2 per multiply-add
};

double run(const Kernel &k, int threads) {
  std::vector<std::thread> pool;
  std::vector<float> sink(threads);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] { sink[i] = k.fn(); });
  for (std::thread &t : pool)
    t.join();
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  volatile float keep = sink[0];
  (void)keep;
  return threads * k.opsPerInstr * Chains * Iterations / s * 1e-9;
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1
                    ? std::atoi(argv[1])
                    : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1)
    threads = 1;
  const Kernel kernels[] = {
      {"fma-zmm (F32)", "avx512f", fmaZmm, 2 * 16},
      {"fma-ymm (F32)", "avx2", fmaYmm, 2 * 8},
      {"vpdpbusd-zmm (int8)", "avx512vnni", vnniZmm, 2 * 64},
  };
  std::printf("%-22s %14s %14s\n", "kernel", "G op/s 1 thr",
              threads > 1 ? "G op/s all" : "");
  for (const Kernel &k : kernels) {
    bool ok =
        k.feature == std::string_view("avx512f")
            ? __builtin_cpu_supports("avx512f")
        : k.feature == std::string_view("avx2")
            ? __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
            : __builtin_cpu_supports("avx512vnni");
    if (!ok) {
      std::printf("%-22s %14s\n", k.name, "n/a");
      continue;
    }
    double one = run(k, 1);
    if (threads > 1)
      std::printf("%-22s %14.1f %14.1f (%d threads)\n", k.name, one,
                  run(k, threads), threads);
    else
      std::printf("%-22s %14.1f\n", k.name, one);
  }
  return 0;
}

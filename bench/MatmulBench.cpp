//===- MatmulBench.cpp - weight matmul throughput -------------------------===//
//
// Decode (1 token): weight bytes streamed per second, to set against the
// machine's memory bandwidth. The weights of one benchmark are replicated
// into a ring of copies larger than the last-level cache and each iteration
// uses the next copy, so the bytes come from DRAM as in a real decode step.
// Prefill (64, 512 tokens): GFLOP/s (2 * rows * cols * tokens per call).
//
// Shapes are Qwen3-Next-80B-A3B's (cols x rows = GGUF ne0 x ne1): an expert's
// gate/up 2048 x 512, a full-attention q/gate projection 2048 x 8192, and an
// output projection 4096 x 2048.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "gguf/GGMLType.h"
#include "runtime/ThreadPool.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/MatmulIsa.h"

#include "benchmark/benchmark.h"

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace qn::runtime;
using qn::gguf::GGMLType;

namespace {

constexpr size_t RingBytes = size_t(256) << 20; // > 8x a 32 MiB L3

/// Random valid weights: random bytes, then every F16 scale field set to a
/// small value (quantized formats), or random values (F32/F16/BF16). Timing
/// does not depend on the values except through denormals/NaNs, which
/// this avoids.
std::vector<uint8_t> makeWeights(GGMLType type, int64_t rows, int64_t cols) {
  std::mt19937 rng(42);
  size_t rowBytes = qn::gguf::rowBytes(type, cols);
  std::vector<uint8_t> data(rowBytes * rows);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  if (type == GGMLType::F32 || type == GGMLType::F16 ||
      type == GGMLType::BF16) {
    for (int64_t i = 0; i < rows * cols; ++i) {
      float v = unit(rng);
      if (type == GGMLType::F32)
        std::memcpy(data.data() + 4 * i, &v, 4);
      else {
        uint16_t h = type == GGMLType::F16 ? qn::gguf::floatToFp16(v)
                                           : qn::gguf::floatToBf16(v);
        std::memcpy(data.data() + 2 * i, &h, 2);
      }
    }
    return data;
  }
  for (uint8_t &b : data)
    b = static_cast<uint8_t>(rng());
  // Every block format keeps its F16 scales at even offsets of an even-sized
  // block; clearing the sign and top exponent bit of each 16-bit word makes
  // every such half finite and below 2 (the quant codes stay random).
  for (size_t i = 1; i < data.size(); i += 2)
    data[i] &= 0x3f;
  return data;
}

struct Shape {
  int64_t cols, rows;
  const char *name;
};

const Shape Shapes[] = {{2048, 512, "expert_2048x512"},
                        {2048, 8192, "attn_2048x8192"},
                        {4096, 2048, "out_4096x2048"}};

ThreadPool &poolFor(int threads) {
  static std::unique_ptr<ThreadPool> pools[65];
  if (!pools[threads])
    pools[threads] = std::make_unique<ThreadPool>(threads);
  return *pools[threads];
}

void runMatmul(benchmark::State &state, GGMLType type, Shape shape,
               int64_t nTokens, int threads, MatmulIsa isa,
               MatmulActivations act) {
  std::vector<uint8_t> one = makeWeights(type, shape.rows, shape.cols);
  size_t copies =
      nTokens == 1 ? std::max<size_t>(1, RingBytes / one.size()) : 1;
  std::vector<uint8_t> ring(one.size() * copies);
  for (size_t c = 0; c < copies; ++c)
    std::memcpy(ring.data() + c * one.size(), one.data(), one.size());
  std::vector<float> x(nTokens * shape.cols), y(nTokens * shape.rows);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (float &v : x)
    v = unit(rng);
  WeightView w;
  w.type = type;
  w.rows = shape.rows;
  w.cols = shape.cols;
  w.rowBytes = qn::gguf::rowBytes(type, shape.cols);
  ThreadPool &pool = poolFor(threads);
  size_t next = 0;
  for (auto _ : state) {
    w.data = ring.data() + next * one.size();
    next = next + 1 == copies ? 0 : next + 1;
    matmulWithIsa(isa, w, x.data(), nTokens, y.data(), &pool, act);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(one.size()));
  state.counters["FLOP"] =
      benchmark::Counter(2.0 * shape.rows * shape.cols * nTokens,
                         benchmark::Counter::kIsIterationInvariantRate);
}

/// The yardstick for decode: summing a 256 MiB buffer of floats, split
/// across the pool like a decode matmul splits its rows.
void readBandwidth(benchmark::State &state, int threads) {
  std::vector<float> buffer(RingBytes / sizeof(float), 1.0f);
  ThreadPool &pool = poolFor(threads);
  std::vector<float> partial(threads * 16, 0.0f);
  for (auto _ : state) {
    pool.runOnAll([&](unsigned index, unsigned total) {
      size_t n = buffer.size() / total;
      const float *p = buffer.data() + index * n;
      // Eight independent sums so the adds keep up with the loads.
      float s[8] = {};
      for (size_t i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k)
          s[k] += p[i + k];
      partial[index * 16] =
          s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(RingBytes));
}

} // namespace

int main(int argc, char **argv) {
  const GGMLType types[] = {
      GGMLType::F32,  GGMLType::F16,    GGMLType::BF16,   GGMLType::Q8_0,
      GGMLType::Q4_0, GGMLType::Q4_1,   GGMLType::Q5_0,   GGMLType::Q5_1,
      GGMLType::Q2_K, GGMLType::Q3_K,   GGMLType::Q4_K,   GGMLType::Q5_K,
      GGMLType::Q6_K, GGMLType::IQ4_NL, GGMLType::IQ4_XS, GGMLType::MXFP4};
  MatmulIsa isa = getDefaultMatmulIsa();
  int hw = static_cast<int>(ThreadPool::hardwareThreads());
  for (GGMLType type : types) {
    std::string tname = qn::gguf::getTypeName(type).str();
    for (const Shape &shape : Shapes) {
      for (int64_t nTokens : {1, 64, 512}) {
        for (int threads : {1, hw}) {
          if (threads == 1 && hw == 1)
            continue;
          for (MatmulActivations act :
               {MatmulActivations::F32, MatmulActivations::Q8}) {
            // 8-bit activations change decode of these formats and
            // prefill of those with an int8 GEMM.
            bool q8 = act == MatmulActivations::Q8;
            bool hasQ8Path = type != GGMLType::F32 && type != GGMLType::F16 &&
                             type != GGMLType::BF16 && type != GGMLType::Q2_K &&
                             type != GGMLType::Q3_K && type != GGMLType::IQ4_XS;
            bool hasGemm = type == GGMLType::Q8_0 || type == GGMLType::Q4_0 ||
                           type == GGMLType::Q5_0 || type == GGMLType::Q4_K ||
                           type == GGMLType::Q5_K || type == GGMLType::Q6_K;
            if (q8 && !(nTokens == 1 ? hasQ8Path : hasGemm))
              continue;
            std::string name =
                std::string(nTokens == 1 ? (q8 ? "decode-q8act" : "decode")
                                         : (q8 ? "prefill-q8act" : "prefill")) +
                "/" + tname + "/" + shape.name +
                "/tokens:" + std::to_string(nTokens) +
                "/threads:" + std::to_string(threads);
            benchmark::RegisterBenchmark(name.c_str(),
                                         [=](benchmark::State &s) {
                                           runMatmul(s, type, shape, nTokens,
                                                     threads, isa, act);
                                         })
                ->UseRealTime()
                ->Unit(benchmark::kMicrosecond);
          }
        }
      }
    }
  }
  for (int threads : {1, hw})
    benchmark::RegisterBenchmark(
        ("bandwidth/read/threads:" + std::to_string(threads)).c_str(),
        [=](benchmark::State &s) { readBandwidth(s, threads); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  benchmark::AddCustomContext("matmul_isa", getMatmulIsaName(isa).str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

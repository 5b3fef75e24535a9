//===- SamplerTest.cpp - greedy, filters, penalties, seeded draws ---------===//
#include "runtime/sampling/Sampler.h"

#include "ReferenceSampler.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <random>
#include <set>

using namespace qn::sampling;

namespace {

std::vector<float> randomLogits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 3.f);
  std::vector<float> logits(n);
  for (float &l : logits)
    l = dist(rng);
  return logits;
}

/// Plain argmax, written without the code under test.
int32_t plainArgmax(const std::vector<float> &logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best])
      best = static_cast<int32_t>(i);
  return best;
}

SamplerParams onlyTemperature(float t, uint32_t seed = 1) {
  SamplerParams p;
  p.temperature = t;
  p.topK = 0;
  p.topP = 1.f;
  p.minP = 0.f;
  p.seed = seed;
  return p;
}

/// How often each token is drawn in `n` samples of `logits`.
std::map<int32_t, int> histogram(Sampler &s, const std::vector<float> &logits,
                                 int n) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i)
    ++counts[s.sample(logits)];
  return counts;
}

TEST(Sampler, GreedyPicksTheArgmax) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = randomLogits(1000 + seed * 37, seed);
    Sampler s(onlyTemperature(0.f, seed));
    EXPECT_EQ(s.sample(logits), plainArgmax(logits));
    EXPECT_EQ(argmax(logits), plainArgmax(logits));
  }
}

TEST(Sampler, GreedyTiesGoToTheLowestIdAndNaNNeverWins) {
  Sampler s(onlyTemperature(0.f));
  EXPECT_EQ(s.sample({1.f, 3.f, 2.f, 3.f}), 1);
  float nan = std::nanf("");
  EXPECT_EQ(s.sample({nan, -5.f, nan, -4.f}), 3);
  EXPECT_EQ(argmax({nan, -5.f, nan, -4.f}), 3);
  EXPECT_EQ(s.sample({}), -1);
  EXPECT_EQ(argmax({}), -1);
}

TEST(Sampler, FixedSeedIsReproducible) {
  std::vector<float> logits(50, 0.f); // flat: every draw is a coin toss
  SamplerParams p = onlyTemperature(1.f, 1234);
  Sampler a(p), b(p);
  std::vector<int32_t> first, second;
  for (int i = 0; i < 200; ++i) {
    first.push_back(a.sample(logits));
    second.push_back(b.sample(logits));
  }
  EXPECT_EQ(first, second);
  // reset() replays the same sequence.
  a.reset();
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(a.sample(logits), first[i]);
  // Another seed gives another sequence.
  Sampler c(onlyTemperature(1.f, 4321));
  std::vector<int32_t> third;
  for (int i = 0; i < 200; ++i)
    third.push_back(c.sample(logits));
  EXPECT_NE(first, third);
}

TEST(Sampler, TopKOneIsGreedy) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::vector<float> logits = randomLogits(500, seed);
    SamplerParams p = onlyTemperature(1.5f, seed);
    p.topK = 1;
    Sampler s(p);
    for (int i = 0; i < 10; ++i)
      EXPECT_EQ(s.sample(logits), plainArgmax(logits));
  }
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  std::vector<float> logits = {0.f, 5.f, 1.f, 4.f, 3.f, 2.f};
  SamplerParams p = onlyTemperature(10.f); // nearly flat after temperature
  p.topK = 3;
  Sampler s(p);
  std::map<int32_t, int> counts = histogram(s, logits, 3000);
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[3], 0);
  EXPECT_GT(counts[4], 0);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05.
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                               std::log(0.05f)};
  SamplerParams p = onlyTemperature(1.f);
  p.topP = 0.7f; // 0.5 < 0.7 <= 0.5 + 0.3
  Sampler s(p);
  std::map<int32_t, int> counts = histogram(s, logits, 4000);
  EXPECT_EQ(counts.size(), 2u);
  // Renormalized 0.5 : 0.3 -> 0.625 of the draws for token 0.
  EXPECT_NEAR(counts[0] / 4000.0, 0.625, 0.03);
}

TEST(Sampler, MinPFiltersUnlikelyTokens) {
  // p relative to the best: 1, 0.5, 0.2, 0.05.
  std::vector<float> logits = {0.f, std::log(0.5f), std::log(0.2f),
                               std::log(0.05f)};
  SamplerParams p = onlyTemperature(1.f);
  p.minP = 0.1f;
  Sampler s(p);
  std::map<int32_t, int> counts = histogram(s, logits, 4000);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[2], 0);
}

TEST(Sampler, DrawsFollowTheTemperatureSoftmax) {
  std::vector<float> logits = {1.f, 2.f, 0.5f, -1.f, 1.5f};
  for (float t : {0.5f, 1.f, 2.f}) {
    Sampler s(onlyTemperature(t, 77));
    const int n = 40000;
    std::map<int32_t, int> counts = histogram(s, logits, n);
    double sum = 0;
    for (float l : logits)
      sum += std::exp(l / t);
    for (size_t i = 0; i < logits.size(); ++i) {
      double expected = std::exp(logits[i] / t) / sum;
      double sigma = std::sqrt(expected * (1 - expected) / n);
      EXPECT_NEAR(counts[static_cast<int32_t>(i)] / double(n), expected,
                  5 * sigma + 1e-4)
          << "temperature " << t << " token " << i;
    }
  }
}

TEST(Sampler, RepeatPenaltyDiscouragesRecentTokens) {
  std::vector<float> logits = {2.f, 1.9f, -1.f, -1.1f};
  SamplerParams p = onlyTemperature(0.f);
  p.repeatPenalty = 1.5f;
  p.repeatLastN = 2;
  Sampler s(p);
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0); // 2 / 1.5 = 1.33 < 1.9
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(1); // both penalized: 1.33 vs 1.27
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(3);
  s.accept(3); // the window of 2 forgot 0 and 1
  EXPECT_EQ(s.sample(logits), 0);
  // Negative logits are multiplied: -1 * 1.5 = -1.5 < -1.1.
  std::vector<float> negative = {-1.f, -1.1f};
  Sampler t(p);
  t.accept(0);
  EXPECT_EQ(t.sample(negative), 1);
}

TEST(Sampler, FrequencyAndPresencePenalties) {
  std::vector<float> logits = {3.f, 2.f};
  SamplerParams p = onlyTemperature(0.f);
  p.frequencyPenalty = 0.4f;
  p.repeatLastN = -1;
  Sampler s(p);
  s.accept(0);
  s.accept(0); // 3 - 2 * 0.4 = 2.2 > 2
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0); // 3 - 1.2 = 1.8 < 2
  EXPECT_EQ(s.sample(logits), 1);
  SamplerParams q = onlyTemperature(0.f);
  q.presencePenalty = 1.5f;
  Sampler u(q);
  u.accept(0);
  EXPECT_EQ(u.sample(logits), 1);
}

TEST(Sampler, AllMinusInfinityStillReturnsAToken) {
  float inf = std::numeric_limits<float>::infinity();
  Sampler s(onlyTemperature(1.f));
  int32_t t = s.sample({-inf, -inf, -inf});
  EXPECT_GE(t, 0);
  EXPECT_LT(t, 3);
}

TEST(Sampler, ValidatesParameters) {
  auto message = [](SamplerParams p) {
    llvm::Error err = validateSamplerParams(p);
    return err ? llvm::toString(std::move(err)) : std::string();
  };
  EXPECT_EQ(message(SamplerParams()), "");
  SamplerParams p;
  p.topP = 0.f;
  EXPECT_NE(message(p).find("--top-p"), std::string::npos);
  p = SamplerParams();
  p.minP = 1.5f;
  EXPECT_NE(message(p).find("--min-p"), std::string::npos);
  p = SamplerParams();
  p.repeatPenalty = 0.f;
  EXPECT_NE(message(p).find("--repeat-penalty"), std::string::npos);
  p = SamplerParams();
  p.temperature = std::nanf("");
  EXPECT_NE(message(p).find("--temp"), std::string::npos);
  p = SamplerParams();
  p.repeatLastN = -2;
  EXPECT_NE(message(p).find("--repeat-last-n"), std::string::npos);
}

TEST(Sampler, MatchesThePlainTwinOnRandomRows) {
  // Random parameters, histories and rows (vocabulary sizes around the
  // growth steps of the partial sorts, ties and -inf included); both
  // samplers draw from the same seed, so they must pick the same tokens.
  std::mt19937 rng(31337);
  std::uniform_int_distribution<int> vocab(1, 3000), pick(0, 9);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (int round = 0; round < 300; ++round) {
    SamplerParams p;
    p.seed = static_cast<uint32_t>(round);
    p.temperature = pick(rng) == 0 ? 0.f : 0.2f + 2.f * unit(rng);
    const int32_t topKs[] = {0, 0, 0, 1, 5, 40, 64, 300, 5000, -1};
    p.topK = topKs[pick(rng)];
    p.topP = pick(rng) < 4 ? 1.f : 0.05f + 0.95f * unit(rng);
    p.minP = pick(rng) < 4 ? 0.f : 0.3f * unit(rng);
    p.repeatPenalty = pick(rng) < 5 ? 1.f : 1.f + unit(rng);
    p.frequencyPenalty = pick(rng) < 7 ? 0.f : unit(rng);
    p.presencePenalty = pick(rng) < 7 ? 0.f : unit(rng);
    p.repeatLastN = pick(rng) < 5 ? 64 : -1;
    size_t n = static_cast<size_t>(vocab(rng));
    float scale = 0.5f + 6.f * unit(rng);
    std::vector<float> logits = randomLogits(n, static_cast<uint32_t>(round));
    for (float &l : logits) {
      l *= scale;
      if (pick(rng) == 0)
        l = std::round(l); // ties
    }
    logits[0] = -std::numeric_limits<float>::infinity();
    Sampler fast(p);
    ReferenceSampler plain(p);
    for (int k = 0; k < 20; ++k) {
      int32_t t = static_cast<int32_t>(
          std::uniform_int_distribution<size_t>(0, n - 1)(rng));
      fast.accept(t);
      plain.accept(t);
    }
    for (int draw = 0; draw < 10; ++draw) {
      int32_t a = fast.sample(logits), b = plain.sample(logits);
      ASSERT_EQ(a, b) << "round " << round << " draw " << draw << " n " << n
                      << " temp " << p.temperature << " top-k " << p.topK
                      << " top-p " << p.topP << " min-p " << p.minP;
      fast.accept(a);
      plain.accept(b);
    }
  }
}

} // namespace

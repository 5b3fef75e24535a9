//===- ReferenceSampler.cpp - the plain twin of Sampler -------------------===//
#include "ReferenceSampler.h"

#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qn::sampling;

ReferenceSampler::ReferenceSampler(const SamplerParams &params)
    : config(params) {
  reset();
}

void ReferenceSampler::reset() {
  history.clear();
  rng.seed(config.seed);
}

void ReferenceSampler::accept(int32_t token) {
  if (config.repeatLastN == 0)
    return;
  history.push_back(token);
  if (config.repeatLastN > 0 &&
      history.size() > static_cast<size_t>(config.repeatLastN))
    history.pop_front();
}

int32_t ReferenceSampler::sample(llvm::ArrayRef<float> logits) {
  if (logits.empty())
    return -1;
  candidates.resize(logits.size());
  const float negInf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i)
    candidates[i] = {static_cast<int32_t>(i),
                     std::isnan(logits[i]) ? negInf : logits[i], 0.f};
  sorted = false;
  applyPenalties();

  if (config.temperature <= 0.f) {
    auto best = std::max_element(candidates.begin(), candidates.end(),
                                 [](const Candidate &a, const Candidate &b) {
                                   return a.logit <
                                          b.logit; // first of equal maxima wins
                                 });
    return best->id;
  }
  if (config.topK > 0)
    keepTopK(static_cast<size_t>(config.topK));
  if (config.topP < 1.f)
    keepTopP(config.topP);
  if (config.minP > 0.f)
    keepMinP(config.minP);
  softmax(config.temperature);
  return draw();
}

/// llama.cpp's penalties: a logit of a token seen in the last N tokens is
/// divided by the repeat penalty if positive, multiplied if negative, then
/// lowered by count * frequency + presence.
void ReferenceSampler::applyPenalties() {
  if (history.empty() ||
      (config.repeatPenalty == 1.f && config.frequencyPenalty == 0.f &&
       config.presencePenalty == 0.f))
    return;
  llvm::DenseMap<int32_t, int> counts;
  for (int32_t t : history)
    ++counts[t];
  for (auto [token, count] : counts) {
    if (token < 0 || static_cast<size_t>(token) >= candidates.size())
      continue;
    float &logit = candidates[token].logit;
    logit = logit > 0.f ? logit / config.repeatPenalty
                        : logit * config.repeatPenalty;
    logit -= static_cast<float>(count) * config.frequencyPenalty +
             config.presencePenalty;
  }
}

bool ReferenceSampler::higher(const Candidate &a, const Candidate &b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

void ReferenceSampler::keepTopK(size_t k) {
  if (k >= candidates.size())
    return;
  std::partial_sort(candidates.begin(), candidates.begin() + k,
                    candidates.end(), higher);
  candidates.resize(k);
  sorted = true;
}

void ReferenceSampler::sortDescending() {
  if (!sorted)
    std::sort(candidates.begin(), candidates.end(), higher);
  sorted = true;
}

void ReferenceSampler::softmax(float temperature) {
  float maxLogit = -std::numeric_limits<float>::infinity();
  for (const Candidate &c : candidates)
    maxLogit = std::max(maxLogit, c.logit);
  double sum = 0;
  for (Candidate &c : candidates) {
    // All -inf: every candidate equally likely rather than NaN.
    c.p = std::isinf(maxLogit)
              ? 1.f
              : static_cast<float>(std::exp((c.logit - maxLogit) /
                                            static_cast<double>(temperature)));
    sum += c.p;
  }
  for (Candidate &c : candidates)
    c.p = static_cast<float>(c.p / sum);
}

/// Keeps the most likely tokens whose probabilities (at temperature 1)
/// first reach `p` together; at least one.
void ReferenceSampler::keepTopP(float p) {
  sortDescending();
  softmax(1.f);
  double cumulative = 0;
  size_t keep = candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    cumulative += candidates[i].p;
    if (cumulative >= p) {
      keep = i + 1;
      break;
    }
  }
  candidates.resize(keep);
}

/// Keeps tokens at least `p` times as likely as the most likely one.
void ReferenceSampler::keepMinP(float p) {
  sortDescending();
  softmax(1.f);
  float threshold = candidates.front().p * p;
  size_t keep = 1;
  while (keep < candidates.size() && candidates[keep].p >= threshold)
    ++keep;
  candidates.resize(keep);
}

/// Inverse-CDF draw with 24 random bits: same result for a seed on every
/// standard library (std::uniform_real_distribution is not specified
/// bit for bit).
int32_t ReferenceSampler::draw() {
  double u = static_cast<double>(rng() >> 8) * (1.0 / 16777216.0);
  double cumulative = 0;
  for (const Candidate &c : candidates) {
    cumulative += c.p;
    if (u < cumulative)
      return c.id;
  }
  // Rounding left u above the total: the last candidate with mass.
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it)
    if (it->p > 0.f)
      return it->id;
  return candidates.front().id;
}

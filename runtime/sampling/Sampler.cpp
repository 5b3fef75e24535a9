//===- Sampler.cpp - next-token sampling from logits ----------------------===//
#include "runtime/sampling/Sampler.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qn::sampling;

llvm::Error qn::sampling::validateSamplerParams(const SamplerParams &p) {
  auto bad = [](const char *what, double value) {
    return llvm::createStringError(
        llvm::formatv("{0} (got {1})", what, value).str());
  };
  if (!std::isfinite(p.temperature) || p.temperature < 0.f)
    return bad("--temp must be a finite number >= 0", p.temperature);
  if (!(p.topP > 0.f && p.topP <= 1.f))
    return bad("--top-p must be in (0, 1]", p.topP);
  if (!(p.minP >= 0.f && p.minP <= 1.f))
    return bad("--min-p must be in [0, 1]", p.minP);
  if (!(p.repeatPenalty > 0.f) || !std::isfinite(p.repeatPenalty))
    return bad("--repeat-penalty must be positive", p.repeatPenalty);
  if (!std::isfinite(p.frequencyPenalty) || !std::isfinite(p.presencePenalty))
    return llvm::createStringError("penalties must be finite numbers");
  if (p.repeatLastN < -1)
    return bad("--repeat-last-n must be -1 (all), 0 (off) or positive",
               p.repeatLastN);
  return llvm::Error::success();
}

int32_t qn::sampling::argmax(llvm::ArrayRef<float> logits) {
  int32_t best = -1;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isnan(logits[i]) && (best < 0 || logits[i] > logits[best]))
      best = static_cast<int32_t>(i);
  return logits.empty() ? -1 : std::max(best, 0);
}

Sampler::Sampler(const SamplerParams &params) : config(params) { reset(); }

void Sampler::reset() {
  history.clear();
  rng.seed(config.seed);
}

void Sampler::accept(int32_t token) {
  if (config.repeatLastN == 0)
    return;
  history.push_back(token);
  if (config.repeatLastN > 0 &&
      history.size() > static_cast<size_t>(config.repeatLastN))
    history.pop_front();
}

int32_t Sampler::sample(llvm::ArrayRef<float> logits) {
  if (logits.empty())
    return -1;
  const float negInf = -std::numeric_limits<float>::infinity();
  adjusted.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    adjusted[i] = std::isnan(logits[i]) ? negInf : logits[i];
  applyPenalties();

  if (config.temperature <= 0.f)
    return argmax(adjusted);
  size_t n = adjusted.size();
  if (config.topK > 0 && static_cast<size_t>(config.topK) < n) {
    selectTopK(static_cast<size_t>(config.topK));
  } else {
    candidates.resize(n);
    for (size_t i = 0; i < n; ++i)
      candidates[i] = {static_cast<int32_t>(i), adjusted[i], 0.f};
    sortedPrefix = 0;
  }
  // top-p then min-p, as a prefix cut each: the result is the shorter
  // prefix. min-p compares probability ratios, which top-p's renormalizing
  // does not change, so both cuts can use the probabilities over all
  // candidates, and the min-p cut (usually short) bounds the top-p scan.
  if (config.topP < 1.f || config.minP > 0.f) {
    softmax(1.f);
    size_t keep = candidates.size();
    if (config.minP > 0.f)
      keep = minPCut(config.minP);
    if (config.topP < 1.f)
      keep = topPCut(config.topP, keep);
    candidates.resize(keep);
    sortedPrefix = std::min(sortedPrefix, keep);
  }
  softmax(config.temperature);
  return draw();
}

/// llama.cpp's penalties: a logit of a token seen in the last N tokens is
/// divided by the repeat penalty if positive, multiplied if negative, then
/// lowered by count * frequency + presence.
void Sampler::applyPenalties() {
  if (history.empty() ||
      (config.repeatPenalty == 1.f && config.frequencyPenalty == 0.f &&
       config.presencePenalty == 0.f))
    return;
  llvm::DenseMap<int32_t, int> counts;
  for (int32_t t : history)
    ++counts[t];
  for (auto [token, count] : counts) {
    if (token < 0 || static_cast<size_t>(token) >= adjusted.size())
      continue;
    float &logit = adjusted[token];
    logit = logit > 0.f ? logit / config.repeatPenalty
                        : logit * config.repeatPenalty;
    logit -= static_cast<float>(count) * config.frequencyPenalty +
             config.presencePenalty;
  }
}

bool Sampler::higher(const Candidate &a, const Candidate &b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

/// The k best of `adjusted`, in order: one pass with a heap of the k best
/// so far (its top is the worst of them), so most tokens cost one compare.
void Sampler::selectTopK(size_t k) {
  candidates.clear();
  for (size_t i = 0; i < adjusted.size(); ++i) {
    Candidate c{static_cast<int32_t>(i), adjusted[i], 0.f};
    if (candidates.size() < k) {
      candidates.push_back(c);
      std::push_heap(candidates.begin(), candidates.end(), higher);
    } else if (higher(c, candidates.front())) {
      std::pop_heap(candidates.begin(), candidates.end(), higher);
      candidates.back() = c;
      std::push_heap(candidates.begin(), candidates.end(), higher);
    }
  }
  std::sort_heap(candidates.begin(), candidates.end(), higher);
  sortedPrefix = candidates.size();
}

void Sampler::sortPrefix(size_t k) {
  k = std::min(k, candidates.size());
  if (k <= sortedPrefix)
    return;
  if (k == candidates.size())
    std::sort(candidates.begin(), candidates.end(), higher);
  else
    std::partial_sort(candidates.begin(), candidates.begin() + k,
                      candidates.end(), higher);
  sortedPrefix = k;
}

void Sampler::softmax(float temperature) {
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

/// How many of the most likely tokens (probabilities at temperature 1 over
/// all candidates) first reach `p` together; at least one, at most
/// `limit`. Only a prefix is sorted: 64 first, 4x more while needed.
size_t Sampler::topPCut(float p, size_t limit) {
  for (size_t k = 64;; k *= 4) {
    sortPrefix(std::min(k, limit));
    double cumulative = 0;
    for (size_t i = 0; i < sortedPrefix && i < limit; ++i) {
      cumulative += candidates[i].p;
      if (cumulative >= p)
        return i + 1;
    }
    if (sortedPrefix >= limit)
      return limit; // rounding kept the total below p: keep all
  }
}

/// How many tokens are at least `p` times as likely as the most likely
/// one; the sorted prefix grows until it holds the first one that is not.
size_t Sampler::minPCut(float p) {
  for (size_t k = 64;; k *= 4) {
    sortPrefix(k);
    float threshold = candidates.front().p * p;
    for (size_t i = 1; i < sortedPrefix; ++i)
      if (candidates[i].p < threshold)
        return i;
    if (sortedPrefix == candidates.size())
      return sortedPrefix;
  }
}

/// Inverse-CDF draw with 24 random bits: same result for a seed on every
/// standard library (std::uniform_real_distribution is not specified
/// bit for bit).
int32_t Sampler::draw() {
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

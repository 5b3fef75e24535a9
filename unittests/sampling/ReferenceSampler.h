//===- ReferenceSampler.h - the plain twin of Sampler ----------*- C++ -*-===//
//
// The straightforward sampler: every token a candidate, full sorts. The
// optimized Sampler (heap top-k, growing partial sorts) must pick the same
// tokens; SamplerTest compares them on random rows.
//
//===----------------------------------------------------------------------===//
#ifndef QN_UNITTESTS_SAMPLING_REFERENCESAMPLER_H
#define QN_UNITTESTS_SAMPLING_REFERENCESAMPLER_H

#include "runtime/sampling/Sampler.h"

namespace qn::sampling {

class ReferenceSampler {
public:
  explicit ReferenceSampler(const SamplerParams &params);

  /// The next token for `logits` (one value per vocabulary entry). Does not
  /// record it: call accept() with the token actually used. NaN logits are
  /// treated as -inf. Returns -1 only for an empty row.
  int32_t sample(llvm::ArrayRef<float> logits);

  /// Records a token (prompt or generated) for the repetition penalties.
  void accept(int32_t token);
  /// Forgets the history and re-seeds the generator.
  void reset();

  const SamplerParams &params() const { return config; }

private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  /// Sort order: higher logit first, lower id first among equal ones.
  static bool higher(const Candidate &a, const Candidate &b);
  void applyPenalties();
  void keepTopK(size_t k);
  void sortDescending();
  void softmax(float temperature);
  void keepTopP(float p);
  void keepMinP(float p);
  int32_t draw();

  SamplerParams config;
  std::mt19937 rng;
  std::deque<int32_t> history;
  std::vector<Candidate> candidates; // reused between calls
  bool sorted = false;
};

} // namespace qn::sampling

#endif // QN_UNITTESTS_SAMPLING_REFERENCESAMPLER_H

//===- Sampler.h - next-token sampling from logits --------------*- C++ -*-===//
//
// Picks the next token from a row of logits the way llama.cpp's default
// chain does, in this order:
//   repetition penalties -> top-k -> top-p -> min-p -> temperature -> draw
// top-p and min-p look at probabilities before temperature, as there.
// Temperature <= 0 is greedy: the argmax after the penalties (lowest id on
// ties). The random draw uses std::mt19937 and its own uniform mapping, so
// a seed gives the same tokens on every platform.
//
// Vocabularies are large (151,936 for Qwen3), so nothing sorts the whole
// row unless it must: top-k selects with a heap, top-p and min-p sort a
// prefix that grows until their cut is inside it.
//
//===----------------------------------------------------------------------===//
#ifndef QN_RUNTIME_SAMPLING_SAMPLER_H
#define QN_RUNTIME_SAMPLING_SAMPLER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace qn::sampling {

struct SamplerParams {
  float temperature = 0.8f;     ///< <= 0: greedy
  int32_t topK = 40;            ///< <= 0: off
  float topP = 0.95f;           ///< >= 1: off
  float minP = 0.05f;           ///< <= 0: off
  float repeatPenalty = 1.0f;   ///< 1: off; > 1 discourages repeats
  float frequencyPenalty = 0.f; ///< subtracted once per occurrence
  float presencePenalty = 0.f;  ///< subtracted once if present
  int32_t repeatLastN = 64;     ///< history the penalties see; 0 off, -1 all
  uint32_t seed = 0;
};

/// Checks ranges; the error names the parameter (as a command-line user
/// would know it: --top-p, --temp, ...).
llvm::Error validateSamplerParams(const SamplerParams &params);

/// Index of the largest value, the lowest index among equal ones; NaN never
/// wins. -1 for an empty row.
int32_t argmax(llvm::ArrayRef<float> logits);

class Sampler {
public:
  explicit Sampler(const SamplerParams &params);

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
  void selectTopK(size_t k);
  /// Makes candidates[0, k) the k best, in order (partial sorts, growing).
  void sortPrefix(size_t k);
  void softmax(float temperature);
  size_t topPCut(float p, size_t limit);
  size_t minPCut(float p);
  int32_t draw();

  SamplerParams config;
  std::mt19937 rng;
  std::deque<int32_t> history;
  // Reused between calls.
  std::vector<float> adjusted; // logits after penalties, NaN -> -inf
  std::vector<Candidate> candidates;
  size_t sortedPrefix = 0; // candidates[0, sortedPrefix) are in order
};

} // namespace qn::sampling

#endif // QN_RUNTIME_SAMPLING_SAMPLER_H

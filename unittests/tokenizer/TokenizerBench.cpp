//===- TokenizerBench.cpp - tokenizer throughput on 1 MB of text ----------===//
//
//   qn-tokenizer-bench [--benchmark_filter=...]
//
// Encodes and decodes 1 MiB of generated mixed text (English-like words
// with a Zipf frequency profile, numbers, code punctuation, Cyrillic and CJK
// runs) with the Qwen3 vocabulary of the shared fixtures. Bytes/s is the
// number to watch; the target is 1 MB in well under a second.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/Tokenizer.h"
#include "tokenizer/Unicode.h"

#include "benchmark/benchmark.h"

#include <cmath>
#include <cstdlib>
#include <random>

using namespace qn::tokenizer;

namespace {

std::string makeText(size_t bytes) {
  std::mt19937 rng(42);
  // A lexicon of random words; word k is drawn with probability ~ 1/(k+1).
  std::vector<std::string> lexicon;
  std::uniform_int_distribution<int> wordLength(1, 11), letter(0, 25);
  for (int k = 0; k < 20000; ++k) {
    std::string w;
    for (int n = wordLength(rng); n > 0; --n)
      w.push_back(static_cast<char>('a' + letter(rng)));
    lexicon.push_back(w);
  }
  std::vector<double> weights;
  for (size_t k = 0; k < lexicon.size(); ++k)
    weights.push_back(1.0 / static_cast<double>(k + 1));
  std::discrete_distribution<size_t> pickWord(weights.begin(), weights.end());
  std::uniform_int_distribution<int> kind(0, 99), number(0, 99999);
  const char *punct[] = {", ",    ". ",  "; ",   "(",    ") ", " = ",
                         "{\n  ", "}\n", "\n\n", "    ", "\"", "'s "};
  std::uniform_int_distribution<size_t> pickPunct(0, std::size(punct) - 1);

  std::string text;
  while (text.size() < bytes) {
    int k = kind(rng);
    if (k < 75) {
      text += lexicon[pickWord(rng)];
      text += ' ';
    } else if (k < 85) {
      text += punct[pickPunct(rng)];
    } else if (k < 90) {
      text += std::to_string(number(rng));
      text += ' ';
    } else if (k < 95) { // a Cyrillic word
      for (int n = 3 + k % 6; n > 0; --n)
        appendUtf8(0x430 + static_cast<uint32_t>(letter(rng)), text);
      text += ' ';
    } else { // a CJK run without spaces
      for (int n = 4 + k % 9; n > 0; --n)
        appendUtf8(0x4E00 + static_cast<uint32_t>(number(rng) % 3000), text);
      text += "\xE3\x80\x82"; // 。
    }
  }
  return text;
}

const Tokenizer &qwen3() {
  static std::unique_ptr<Tokenizer> tok = [] {
    const char *shared = std::getenv("QN_SHARED_DIR");
    std::string path = std::string(shared ? shared : QN_DEFAULT_SHARED_DIR) +
                       "/fixtures/tokenizer/vocab-qwen3.gguf";
    llvm::Expected<std::unique_ptr<Tokenizer>> t = Tokenizer::fromFile(path);
    if (!t) {
      llvm::errs() << "qn-tokenizer-bench: " << llvm::toString(t.takeError())
                   << " (set QN_SHARED_DIR to the shared directory)\n";
      std::exit(1);
    }
    return std::move(*t);
  }();
  return *tok;
}

void BM_Encode1MiB(benchmark::State &state) {
  const Tokenizer &tok = qwen3();
  std::string text = makeText(1 << 20);
  size_t tokens = 0;
  for (auto _ : state) {
    std::vector<TokenId> ids = tok.encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_Encode1MiB)->Unit(benchmark::kMillisecond);

void BM_Decode1MiB(benchmark::State &state) {
  const Tokenizer &tok = qwen3();
  std::string text = makeText(1 << 20);
  std::vector<TokenId> ids = tok.encode(text);
  for (auto _ : state) {
    std::string out = tok.decode(ids);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_Decode1MiB)->Unit(benchmark::kMillisecond);

void BM_LoadVocabulary(benchmark::State &state) {
  const char *shared = std::getenv("QN_SHARED_DIR");
  std::string path = std::string(shared ? shared : QN_DEFAULT_SHARED_DIR) +
                     "/fixtures/tokenizer/vocab-qwen3.gguf";
  for (auto _ : state) {
    llvm::Expected<std::unique_ptr<Tokenizer>> t = Tokenizer::fromFile(path);
    if (!t) {
      state.SkipWithError(llvm::toString(t.takeError()).c_str());
      return;
    }
    benchmark::DoNotOptimize(t->get());
  }
}
BENCHMARK(BM_LoadVocabulary)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();

//===- BuiltinVocab.cpp - a small self-made GPT-2 style vocabulary --------===//

#include "gguf/BuiltinVocab.h"

#include <cctype>
#include <map>
#include <utility>

namespace qn::gguf {
namespace {

// Training text for the merges: plain English about the project, so common
// words ("the", "model", " Hello") become single tokens.
const char *const kTrainingText =
    "Hello world. Hello, world! This is a small test model made by qn. "
    "The model has random weights, so the text it writes means nothing, "
    "but the words it uses are real English words from this paragraph. "
    "A tokenizer turns text into tokens and tokens back into text. "
    "The quick brown fox jumps over the lazy dog. "
    "We write the weights of every layer to one file, and then we read the "
    "file again to check that each tensor has the right shape and type. "
    "There are linear attention layers and full attention layers, and every "
    "layer has a mixture of experts with a router and a shared expert. "
    "When the model runs, it reads the prompt, computes the logits for the "
    "next token, and samples one token at a time until it is done. "
    "The user asks a question and the assistant gives an answer. "
    "You are a helpful assistant. What is the weather like today? "
    "It is a nice day: the sun is out, and there is no rain in the forecast. "
    "Numbers such as 1, 2, 3, 10, 42 and 2025 are split into single digits. "
    "In the beginning there was the word, and the word was written in a "
    "file, and the file was read by a program that was written by people "
    "who wanted to know what the model would say next. "
    "This is the end of the text. Thank you for reading, and have a good "
    "day. Hello again, world. The end.\n";

bool isPunct(char c) {
  return !std::isalnum(static_cast<unsigned char>(c)) &&
         !std::isspace(static_cast<unsigned char>(c));
}

/// Splits roughly as the qwen2 pre-tokenizer does for ASCII text: an optional
/// leading space joins a word or a punctuation run; digits stand alone.
std::vector<std::string> preTokenize(const std::string &text) {
  std::vector<std::string> out;
  size_t i = 0, n = text.size();
  auto alpha = [&](size_t k) {
    return k < n && std::isalpha(static_cast<unsigned char>(text[k]));
  };
  while (i < n) {
    size_t j = i + 1;
    if (text[i] == ' ' && alpha(i + 1)) {
      while (alpha(j))
        ++j;
    } else if (text[i] == ' ' && i + 1 < n && isPunct(text[i + 1])) {
      while (j < n && isPunct(text[j]))
        ++j;
    } else if (alpha(i)) {
      while (alpha(j))
        ++j;
    } else if (std::isspace(static_cast<unsigned char>(text[i]))) {
      while (j < n && std::isspace(static_cast<unsigned char>(text[j])))
        ++j;
    } else if (isPunct(text[i])) {
      while (j < n && isPunct(text[j]))
        ++j;
    }
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

/// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others
/// to 256, 257, ... in byte order.
std::vector<std::string> byteToUnicode() {
  std::vector<std::string> map(256);
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable =
        (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    map[b] = utf8(printable ? b : next++);
  }
  return map;
}

} // namespace

std::vector<std::string> gpt2ByteTokens() {
  std::vector<std::string> map = byteToUnicode();
  std::vector<std::string> out;
  auto printable = [](uint32_t b) {
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
  };
  for (uint32_t b = 0; b < 256; ++b)
    if (printable(b))
      out.push_back(map[b]);
  for (uint32_t b = 0; b < 256; ++b)
    if (!printable(b))
      out.push_back(map[b]);
  return out;
}

BuiltinVocab makeBuiltinVocab(int64_t minSize, int64_t maxMerges) {
  BuiltinVocab v;
  v.tokens = gpt2ByteTokens();
  std::map<std::string, bool> known;
  for (const std::string &t : v.tokens)
    known[t] = true;

  std::vector<std::string> b2u = byteToUnicode();
  std::map<std::string, int64_t> wordCounts;
  for (const std::string &w : preTokenize(kTrainingText))
    ++wordCounts[w];
  std::vector<std::pair<std::vector<std::string>, int64_t>> words;
  for (const auto &[w, c] : wordCounts) {
    std::vector<std::string> syms;
    for (unsigned char ch : w)
      syms.push_back(b2u[ch]);
    words.emplace_back(std::move(syms), c);
  }

  for (int64_t m = 0; m < maxMerges; ++m) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto &[syms, c] : words)
      for (size_t i = 0; i + 1 < syms.size(); ++i)
        pairs[{syms[i], syms[i + 1]}] += c;
    const std::pair<std::string, std::string> *best = nullptr;
    int64_t bestCount = 1; // a pair seen once is not worth a merge
    for (const auto &[p, c] : pairs)
      if (c > bestCount) {
        best = &p;
        bestCount = c;
      }
    if (!best)
      break;
    const std::string a = best->first, b = best->second, ab = a + b;
    v.merges.push_back(a + " " + b);
    if (!known[ab]) {
      known[ab] = true;
      v.tokens.push_back(ab);
    }
    for (auto &[syms, c] : words) {
      std::vector<std::string> merged;
      for (size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          merged.push_back(ab);
          ++i;
        } else {
          merged.push_back(syms[i]);
        }
      }
      syms = std::move(merged);
    }
  }
  v.tokenTypes.assign(v.tokens.size(), 1);
  v.bosId = static_cast<uint32_t>(v.tokens.size());
  for (const char *special : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}) {
    v.tokens.push_back(special);
    v.tokenTypes.push_back(3);
  }
  v.eosId = static_cast<uint32_t>(v.tokens.size() - 1);
  for (int64_t i = static_cast<int64_t>(v.tokens.size()); i < minSize; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    v.tokenTypes.push_back(5);
  }
  return v;
}

} // namespace qn::gguf

//===- PreTokenizer.cpp - regex-equivalent text splitting -----------------===//
#include "tokenizer/PreTokenizer.h"
#include "tokenizer/Unicode.h"

#include "llvm/ADT/StringSwitch.h"

#include <vector>

using namespace qn::tokenizer;

std::optional<PreTokenizerKind>
qn::tokenizer::parsePreTokenizerName(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<PreTokenizerKind>>(name)
      .Case("qwen2", PreTokenizerKind::Qwen2)
      .Case("qwen35", PreTokenizerKind::Qwen35)
      .Default(std::nullopt);
}

namespace {
struct Char {
  size_t offset; // byte offset in the text
  uint32_t codePoint;
  CharClass cls;
};

bool isNewline(const Char &c) {
  return c.codePoint == '\r' || c.codePoint == '\n';
}

uint32_t asciiLower(uint32_t cp) {
  return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
}

/// End (exclusive char index) of the regex match starting at `i`. Each
/// alternative is tried in the regex's order; the first that matches wins,
/// as in a backtracking regex engine. `marksInWords`: the qwen35 regex
/// (\p{M} in words and out of symbol runs); else qwen2's, where a mark is
/// like any other symbol.
size_t matchQwenSplit(const std::vector<Char> &chars, size_t i,
                      bool marksInWords) {
  size_t n = chars.size();
  auto isWord = [&](size_t k) {
    return chars[k].cls == CharClass::Letter ||
           (marksInWords && chars[k].cls == CharClass::Mark);
  };
  auto isSymbol = [&](size_t k) {
    return chars[k].cls == CharClass::Other ||
           (!marksInWords && chars[k].cls == CharClass::Mark);
  };
  auto cls = [&](size_t k) { return chars[k].cls; };
  auto wordRunEnd = [&](size_t k) {
    while (k < n && isWord(k))
      ++k;
    return k;
  };

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (chars[i].codePoint == '\'' && i + 1 < n) {
    uint32_t c1 = asciiLower(chars[i + 1].codePoint);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
      return i + 2;
    if (i + 2 < n) {
      uint32_t c2 = asciiLower(chars[i + 2].codePoint);
      if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
          (c1 == 'l' && c2 == 'l'))
        return i + 3;
    }
  }

  // [^\r\n\p{L}\p{N}]?\p{L}+ (qwen35: [\p{L}\p{M}]+). A word character
  // at i starts the run itself (taking it as the optional prefix instead
  // ends at the same place).
  if (isWord(i))
    return wordRunEnd(i);
  if (cls(i) != CharClass::Number && !isNewline(chars[i]) && i + 1 < n &&
      isWord(i + 1))
    return wordRunEnd(i + 1);

  // \p{N}
  if (cls(i) == CharClass::Number)
    return i + 1;

  //  ?[^\s\p{L}\p{N}]+[\r\n]* (qwen35: not \p{M} either)
  size_t k = i;
  if (chars[i].codePoint == ' ' && i + 1 < n && isSymbol(i + 1))
    k = i + 1;
  if (isSymbol(k)) {
    while (k < n && isSymbol(k))
      ++k;
    while (k < n && isNewline(chars[k]))
      ++k;
    return k;
  }

  // Only whitespace is left: chars[i] is \s.
  size_t runEnd = i;
  while (runEnd < n && cls(runEnd) == CharClass::Space)
    ++runEnd;

  // \s*[\r\n]+ : \s* backs off to the last newline of the run.
  for (size_t last = runEnd; last > i; --last)
    if (isNewline(chars[last - 1]))
      return last;

  // \s+(?!\S) : the whole run at the end of the text, else all but the last
  // space so that the next piece can take it as its prefix.
  if (runEnd == n)
    return runEnd;
  if (runEnd - i >= 2)
    return runEnd - 1;

  // \s+
  return runEnd;
}
} // namespace

static void splitQwen(llvm::StringRef text, bool marksInWords,
                      llvm::function_ref<void(llvm::StringRef)> onPiece) {
  std::vector<Char> chars;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    DecodedChar d = decodeUtf8(text, pos);
    CharClass cls = d.valid ? classifyCodePoint(d.codePoint) : CharClass::Other;
    chars.push_back({pos, d.codePoint, cls});
    pos += d.length;
  }
  for (size_t i = 0; i < chars.size();) {
    size_t end = matchQwenSplit(chars, i, marksInWords);
    size_t from = chars[i].offset;
    size_t to = end < chars.size() ? chars[end].offset : text.size();
    onPiece(text.slice(from, to));
    i = end;
  }
}

void qn::tokenizer::splitQwen2(
    llvm::StringRef text, llvm::function_ref<void(llvm::StringRef)> onPiece) {
  splitQwen(text, /*marksInWords=*/false, onPiece);
}

void qn::tokenizer::splitQwen35(
    llvm::StringRef text, llvm::function_ref<void(llvm::StringRef)> onPiece) {
  splitQwen(text, /*marksInWords=*/true, onPiece);
}

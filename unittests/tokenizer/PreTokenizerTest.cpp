//===- PreTokenizerTest.cpp - the qwen2 split, case by case ---------------===//
//
// Expected pieces are worked out by hand from the regex
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// (first matching alternative wins, each alternative greedy with
// backtracking).
//
//===----------------------------------------------------------------------===//
#include "tokenizer/PreTokenizer.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

using namespace qn::tokenizer;

namespace {

std::vector<std::string> split(llvm::StringRef text) {
  std::vector<std::string> pieces;
  splitQwen2(text, [&](llvm::StringRef p) { pieces.push_back(p.str()); });
  return pieces;
}

using Pieces = std::vector<std::string>;

TEST(Qwen2PreTokenizer, WordsTakeTheirLeadingSpace) {
  EXPECT_EQ(split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split("$abc print(add"), (Pieces{"$abc", " print", "(add"}));
  // A space and punctuation: the " ?[^\s\p{L}\p{N}]+" alternative.
  EXPECT_EQ(split("$abc (add"), (Pieces{"$abc", " (", "add"}));
  EXPECT_EQ(split("\tand"), (Pieces{"\tand"}));
}

TEST(Qwen2PreTokenizer, Contractions) {
  EXPECT_EQ(split("I'm don't"), (Pieces{"I", "'m", " don", "'t"}));
  EXPECT_EQ(split("we'LL they'Ve"), (Pieces{"we", "'LL", " they", "'Ve"}));
  EXPECT_EQ(split("'re're"), (Pieces{"'re", "'re"}));
  // No contraction: the quote is a prefix of the following letters.
  EXPECT_EQ(split("'x"), (Pieces{"'x"}));
  EXPECT_EQ(split("abc'"), (Pieces{"abc", "'"}));
}

TEST(Qwen2PreTokenizer, DigitsOneByOne) {
  EXPECT_EQ(split("a123"), (Pieces{"a", "1", "2", "3"}));
  EXPECT_EQ(split(" 42"), (Pieces{" ", "4", "2"}));
  EXPECT_EQ(split("x\xC2\xB2"), (Pieces{"x", "\xC2\xB2"})); // superscript two
}

TEST(Qwen2PreTokenizer, PunctuationRunsKeepOneSpaceAndTrailingNewlines) {
  EXPECT_EQ(split(" !!\n\nx"), (Pieces{" !!\n\n", "x"}));
  EXPECT_EQ(split("  !!"), (Pieces{" ", " !!"}));
  EXPECT_EQ(split("\t!!"), (Pieces{"\t", "!!"}));
  EXPECT_EQ(split("a.b"), (Pieces{"a", ".b"}));
  EXPECT_EQ(split("a..b"), (Pieces{"a", "..", "b"}));
}

TEST(Qwen2PreTokenizer, WhitespaceRuns) {
  // \s+(?!\S): the last space is left to prefix the next word.
  EXPECT_EQ(split("a   b"), (Pieces{"a", "  ", " b"}));
  // \s+(?!\S) at the end of the text takes the whole run.
  EXPECT_EQ(split("a   "), (Pieces{"a", "   "}));
  // \s*[\r\n]+ runs to the last newline of the run.
  EXPECT_EQ(split("x  \n  y"), (Pieces{"x", "  \n", " ", " y"}));
  EXPECT_EQ(split("x\r\n\r\ny"), (Pieces{"x", "\r\n\r\n", "y"}));
  EXPECT_EQ(split("    \n\t\n   \n"), (Pieces{"    \n\t\n   \n"}));
  // A newline is never a word's prefix.
  EXPECT_EQ(split("\nabc"), (Pieces{"\n", "abc"}));
  // A single space before a non-letter: \s+.
  EXPECT_EQ(split(" 1"), (Pieces{" ", "1"}));
  // U+3000 (ideographic space) is \s.
  EXPECT_EQ(split("a\xE3\x80\x80\xE3\x80\x80"
                  "b"),
            (Pieces{"a", "\xE3\x80\x80",
                    "\xE3\x80\x80"
                    "b"}));
}

TEST(Qwen2PreTokenizer, NonLatinScripts) {
  // Japanese letters run together; the ideographic comma is punctuation.
  EXPECT_EQ(split("\xE6\xBC\xA2\xE5\xAD\x97\xE3\x80\x81\xE4\xB8\xAD"),
            (Pieces{"\xE6\xBC\xA2\xE5\xAD\x97", "\xE3\x80\x81\xE4\xB8\xAD"}));
  // A combining mark (U+0301) is not \p{L}: it splits the word.
  EXPECT_EQ(split("e\xCC\x81t"), (Pieces{"e", "\xCC\x81t"}));
}

TEST(Qwen2PreTokenizer, InvalidBytesArePunctuationLike) {
  EXPECT_EQ(split("\xFF\xFE"
                  "ab"),
            (Pieces{"\xFF\xFE", "ab"}));
  EXPECT_EQ(split("\xFF"
                  "ab"),
            (Pieces{"\xFF"
                    "ab"}));
  EXPECT_EQ(split("a\xC3"), (Pieces{"a", "\xC3"}));
}

TEST(Qwen2PreTokenizer, EmptyText) { EXPECT_TRUE(split("").empty()); }

TEST(Qwen2PreTokenizer, PiecesCoverRandomTextExactly) {
  std::mt19937 rng(1234);
  const char *atoms[] = {"a",
                         "Z",
                         " ",
                         "  ",
                         "\n",
                         "\r",
                         "\t",
                         "1",
                         "'",
                         "s",
                         "ll",
                         "!",
                         ".",
                         "\xC3\xA9",
                         "\xE4\xB8\xAD",
                         "\xF0\x9F\x98\x80",
                         "\xFF",
                         "\xE3\x80\x80",
                         "\xCC\x81"};
  std::uniform_int_distribution<size_t> pick(0, std::size(atoms) - 1);
  std::uniform_int_distribution<int> length(0, 40);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string text;
    for (int k = length(rng); k > 0; --k)
      text += atoms[pick(rng)];
    std::string joined;
    size_t count = 0;
    splitQwen2(text, [&](llvm::StringRef p) {
      EXPECT_FALSE(p.empty());
      joined += p.str();
      ++count;
    });
    EXPECT_EQ(joined, text);
    EXPECT_EQ(count == 0, text.empty());
  }
}

} // namespace

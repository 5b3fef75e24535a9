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

std::vector<std::string> split35(llvm::StringRef text) {
  std::vector<std::string> pieces;
  splitQwen35(text, [&](llvm::StringRef p) { pieces.push_back(p.str()); });
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

// qwen35: combining marks (Mn, Mc, Me) stay in words and out of symbol
// runs; everything else splits as qwen2.
TEST(Qwen35PreTokenizer, MarksStayInWords) {
  // "namaste" in Devanagari: virama U+094D and vowel sign U+0947 are Mn.
  const char *namaste = "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D"
                        "\xE0\xA4\xA4\xE0\xA5\x87";
  EXPECT_EQ(split35(namaste), (Pieces{namaste}));
  EXPECT_EQ(split(namaste),
            (Pieces{"\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8",
                    "\xE0\xA5\x8D\xE0\xA4\xA4", "\xE0\xA5\x87"}));
  // e + combining acute (U+0301) + t is one word.
  EXPECT_EQ(split35("e\xCC\x81t"), (Pieces{"e\xCC\x81t"}));
  // A word may start with a mark (prefix or not) and keep its space.
  EXPECT_EQ(split35(" \xCC\x81"
                    "a"),
            (Pieces{" \xCC\x81"
                    "a"}));
  EXPECT_EQ(split35("\xCC\x81"), (Pieces{"\xCC\x81"}));
}

TEST(Qwen35PreTokenizer, MarksLeaveSymbolRuns) {
  // U+2764 (So) + U+FE0F (Mn): the heart is the optional prefix of a word
  // made of the mark; qwen2 keeps the three symbols together.
  EXPECT_EQ(split35("\xE2\x9D\xA4\xEF\xB8\x8F-love"),
            (Pieces{"\xE2\x9D\xA4\xEF\xB8\x8F", "-love"}));
  EXPECT_EQ(split("\xE2\x9D\xA4\xEF\xB8\x8F-love"),
            (Pieces{"\xE2\x9D\xA4\xEF\xB8\x8F-", "love"}));
  // An enclosing mark (Me, U+20DD) after a digit: the digit alone, then the
  // mark as a word.
  EXPECT_EQ(split35("1\xE2\x83\x9D"), (Pieces{"1", "\xE2\x83\x9D"}));
  // Not marks: ZWJ (Cf) and a skin-tone modifier (Sk) are symbols in both.
  EXPECT_EQ(split35("a\xE2\x80\x8D!"), (Pieces{"a", "\xE2\x80\x8D!"}));
  EXPECT_EQ(split35("!\xF0\x9F\x8F\xBB"), split("!\xF0\x9F\x8F\xBB"));
}

TEST(Qwen35PreTokenizer, SameAsQwen2WithoutMarks) {
  for (const char *text : {"Hello world, it's 2024!\n\n  x", "don't  stop\r\n",
                           "a+b=c  ", "\xE6\xBC\xA2\xE5\xAD\x97\xE3\x80\x81",
                           "\xFF\xFE"
                           "ab"})
    EXPECT_EQ(split35(text), split(text)) << text;
}

TEST(Qwen35PreTokenizer, NameParses) {
  EXPECT_EQ(parsePreTokenizerName("qwen35"),
            std::optional<PreTokenizerKind>(PreTokenizerKind::Qwen35));
  EXPECT_EQ(parsePreTokenizerName("qwen2"),
            std::optional<PreTokenizerKind>(PreTokenizerKind::Qwen2));
  EXPECT_EQ(parsePreTokenizerName("qwen3"), std::nullopt);
}

} // namespace

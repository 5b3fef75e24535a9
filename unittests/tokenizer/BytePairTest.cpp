//===- BytePairTest.cpp - BPE, special tokens, decoding on small vocabs ---===//
//
// Hand-made vocabularies: the 256 byte tokens first (so the id of a single
// byte is the byte's value), then whatever a test adds.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/Tokenizer.h"
#include "tokenizer/Unicode.h"

#include "gtest/gtest.h"

#include <map>
#include <random>

using namespace qn::tokenizer;

namespace {

/// `bytes` written in GPT-2's byte alphabet (UnicodeTest checks it).
std::string byteLevel(llvm::StringRef bytes) {
  std::string out;
  for (char c : bytes)
    appendUtf8(byteToCodePoint(static_cast<uint8_t>(c)), out);
  return out;
}

VocabularySpec byteVocab() {
  VocabularySpec spec;
  for (unsigned b = 0; b < 256; ++b)
    spec.tokens.push_back(byteLevel(std::string(1, static_cast<char>(b))));
  return spec;
}

/// Adds a normal token for `bytes`; returns its id.
TokenId addToken(VocabularySpec &spec, llvm::StringRef bytes) {
  spec.tokens.push_back(byteLevel(bytes));
  return static_cast<TokenId>(spec.tokens.size() - 1);
}

void addMerge(VocabularySpec &spec, llvm::StringRef left,
              llvm::StringRef right) {
  spec.merges.push_back(byteLevel(left) + " " + byteLevel(right));
}

TokenId addSpecial(VocabularySpec &spec, llvm::StringRef text, TokenType type) {
  if (spec.types.empty())
    spec.types.assign(spec.tokens.size(), TokenType::Normal);
  spec.tokens.push_back(text.str());
  spec.types.push_back(type);
  return static_cast<TokenId>(spec.tokens.size() - 1);
}

std::unique_ptr<Tokenizer> build(VocabularySpec spec) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tok =
      Tokenizer::create(std::move(spec));
  if (!tok) {
    ADD_FAILURE() << llvm::toString(tok.takeError());
    return nullptr;
  }
  return std::move(*tok);
}

std::vector<TokenId> bytesOf(llvm::StringRef s) {
  std::vector<TokenId> ids;
  for (char c : s)
    ids.push_back(static_cast<uint8_t>(c));
  return ids;
}

using Ids = std::vector<TokenId>;

TEST(BytePair, WithoutMergesEveryByteIsAToken) {
  auto tok = build(byteVocab());
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("hi \xC3\xA9!"), bytesOf("hi \xC3\xA9!"));
  EXPECT_TRUE(tok->encode("").empty());
}

TEST(BytePair, LowestRankMergesFirst) {
  VocabularySpec spec = byteVocab();
  TokenId ab = addToken(spec, "ab"), bc = addToken(spec, "bc");
  VocabularySpec reversed = spec;
  addMerge(spec, "a", "b");
  addMerge(spec, "b", "c");
  addMerge(reversed, "b", "c");
  addMerge(reversed, "a", "b");
  EXPECT_EQ(build(spec)->encode("abc"), (Ids{ab, 'c'}));
  EXPECT_EQ(build(reversed)->encode("abc"), (Ids{'a', bc}));
}

TEST(BytePair, EqualPairsMergeLeftmostFirst) {
  VocabularySpec spec = byteVocab();
  TokenId aa = addToken(spec, "aa");
  addMerge(spec, "a", "a");
  auto tok = build(spec);
  EXPECT_EQ(tok->encode("aaa"), (Ids{aa, 'a'}));
  EXPECT_EQ(tok->encode("aaaa"), (Ids{aa, aa}));
}

TEST(BytePair, MergesChain) {
  VocabularySpec spec = byteVocab();
  addToken(spec, "he");
  addToken(spec, "ll");
  TokenId hell = addToken(spec, "hell");
  TokenId hello = addToken(spec, "hello");
  addMerge(spec, "h", "e");
  addMerge(spec, "l", "l");
  addMerge(spec, "he", "ll");
  addMerge(spec, "hell", "o");
  auto tok = build(spec);
  EXPECT_EQ(tok->encode("hello"), (Ids{hello}));
  EXPECT_EQ(tok->encode("hellhello"), (Ids{hell, hello}));
}

TEST(BytePair, MergesNeverCrossPieces) {
  VocabularySpec spec = byteVocab();
  TokenId spaceB = addToken(spec, " b");
  TokenId ab = addToken(spec, "ab");
  addMerge(spec, " ", "b");
  addMerge(spec, "a", "b");
  auto tok = build(spec);
  // Pieces "a", " b": the "a b" merge cannot join them across the space.
  EXPECT_EQ(tok->encode("a b"), (Ids{'a', spaceB}));
  // "1" and "b" are different pieces: no merge of "1b" even if it existed.
  EXPECT_EQ(tok->encode("ab1b"), (Ids{ab, '1', 'b'}));
}

TEST(BytePair, MergesWithoutResultTokenAreIgnored) {
  VocabularySpec spec = byteVocab();
  addMerge(spec, "x", "y"); // "xy" is not a token
  spec.merges.push_back("nospace");
  auto tok = build(spec);
  EXPECT_EQ(tok->numIgnoredMerges(), 2u);
  EXPECT_EQ(tok->encode("xy"), (Ids{'x', 'y'}));
}

TEST(BytePair, SpecialTokensAreCutOutFirst) {
  VocabularySpec spec = byteVocab();
  TokenId control = addSpecial(spec, "<|c|>", TokenType::Control);
  TokenId user = addSpecial(spec, "<u>", TokenType::UserDefined);
  auto tok = build(spec);
  EXPECT_EQ(tok->encode("a<|c|>b<u>"), (Ids{'a', control, 'b', user}));
  // Without parsing specials, control tokens are plain text; user-defined
  // ones are still matched.
  Ids plain = bytesOf("a<|c|>b");
  plain.push_back(user);
  EXPECT_EQ(tok->encode("a<|c|>b<u>", /*parseSpecial=*/false), plain);
  EXPECT_EQ(tok->encode("<|c|><|c|>"), (Ids{control, control}));
}

TEST(BytePair, LongestSpecialTokenWinsAtTheSamePosition) {
  VocabularySpec spec = byteVocab();
  TokenId shortTok = addSpecial(spec, "<u>", TokenType::UserDefined);
  TokenId longTok = addSpecial(spec, "<u>x", TokenType::UserDefined);
  auto tok = build(spec);
  EXPECT_EQ(tok->encode("<u>x<u>"), (Ids{longTok, shortTok}));
}

TEST(BytePair, BosOnlyWhenTheVocabularyAsksForIt) {
  VocabularySpec spec = byteVocab();
  TokenId bos = addSpecial(spec, "<s>", TokenType::Control);
  spec.bos = bos;
  EXPECT_EQ(build(spec)->encode("a"), (Ids{'a'}));
  spec.addBos = true;
  EXPECT_EQ(build(spec)->encode("a"), (Ids{bos, 'a'}));
}

TEST(BytePair, DecodeMapsBackToBytes) {
  VocabularySpec spec = byteVocab();
  TokenId spaceB = addToken(spec, " b\n");
  TokenId control = addSpecial(spec, "<|c|>", TokenType::Control);
  TokenId user = addSpecial(spec, "<u>", TokenType::UserDefined);
  TokenId unused = addSpecial(spec, "[PAD]", TokenType::Unused);
  auto tok = build(spec);
  Ids ids{'a', spaceB, control, user, unused, 0xC3, 0xA9, -1, 1 << 20};
  EXPECT_EQ(tok->decode(ids), "a b\n<|c|><u>\xC3\xA9");
  EXPECT_EQ(tok->decode(ids, /*renderSpecial=*/false), "a b\n<u>\xC3\xA9");
}

TEST(BytePair, EndOfGeneration) {
  VocabularySpec spec = byteVocab();
  TokenId imEnd = addSpecial(spec, "<|im_end|>", TokenType::Control);
  TokenId eos = addSpecial(spec, "</s>", TokenType::Control);
  TokenId other = addSpecial(spec, "<|im_start|>", TokenType::Control);
  spec.eos = eos;
  auto tok = build(spec);
  EXPECT_TRUE(tok->isEndOfGeneration(imEnd));
  EXPECT_TRUE(tok->isEndOfGeneration(eos));
  EXPECT_FALSE(tok->isEndOfGeneration(other));
  EXPECT_FALSE(tok->isEndOfGeneration('a'));
}

TEST(BytePair, StreamingDecoderHoldsBackSplitCharacters) {
  VocabularySpec spec = byteVocab();
  TokenId xEuroStart = addToken(spec, "x\xE2\x82");
  auto tok = build(spec);
  StreamingDecoder stream(*tok);
  EXPECT_EQ(stream.push(0xC3), "");
  EXPECT_EQ(stream.push(0xA9), "\xC3\xA9");
  EXPECT_EQ(stream.push(xEuroStart), "x");
  EXPECT_EQ(stream.push(0xAC), "\xE2\x82\xAC");
  EXPECT_EQ(stream.push(0xF0), "");
  EXPECT_EQ(stream.push(0x9F), "");
  EXPECT_EQ(stream.finish(), "\xF0\x9F");
  EXPECT_EQ(stream.finish(), "");
}

TEST(BytePair, RejectsBadVocabularies) {
  auto expectError = [](VocabularySpec spec, llvm::StringRef needle) {
    llvm::Expected<std::unique_ptr<Tokenizer>> tok =
        Tokenizer::create(std::move(spec));
    ASSERT_FALSE(static_cast<bool>(tok));
    std::string msg = llvm::toString(tok.takeError());
    EXPECT_NE(msg.find(needle.str()), std::string::npos) << msg;
  };
  expectError(VocabularySpec(), "empty");
  VocabularySpec noByte = byteVocab();
  noByte.tokens[' '] = "space";
  expectError(noByte, "no token for byte 0x20");
  VocabularySpec pre = byteVocab();
  pre.preTokenizer = "llama3";
  expectError(pre, "unsupported pre-tokenizer 'llama3'");
  VocabularySpec types = byteVocab();
  types.types.assign(3, TokenType::Normal);
  expectError(types, "3 token types for 256 tokens");
  VocabularySpec eos = byteVocab();
  eos.eos = 256;
  expectError(eos, "EOS token id 256 is outside");
  VocabularySpec bos = byteVocab();
  bos.addBos = true;
  expectError(bos, "no BOS token");
  VocabularySpec badType = byteVocab();
  badType.types.assign(256, TokenType::Normal);
  badType.types[7] = static_cast<TokenType>(9);
  expectError(badType, "token 7 has unknown type 9");
}

//===----------------------------------------------------------------------===//
// The heap-based merge loop against the plain one, on random vocabularies
//===----------------------------------------------------------------------===//

/// The plain quadratic merge loop: merge the adjacent pair of lowest rank
/// (the leftmost of equal ones), one pair at a time, until none is left.
/// This is the semantics of HF tokenizers and llama.cpp; GPT-2's original
/// loop merges all occurrences of the pair at once, which differs only for
/// vocabularies where a merge's result also comes from a lower-ranked
/// merge. Works on strings, not ids.
std::vector<std::string> referenceBpe(
    const std::string &word,
    const std::map<std::pair<std::string, std::string>, size_t> &ranks) {
  std::vector<std::string> symbols;
  for (char c : word)
    symbols.push_back(std::string(1, c));
  while (symbols.size() > 1) {
    size_t best = SIZE_MAX, bestRank = SIZE_MAX;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      auto it = ranks.find({symbols[i], symbols[i + 1]});
      if (it != ranks.end() && it->second < bestRank) {
        bestRank = it->second;
        best = i;
      }
    }
    if (best == SIZE_MAX)
      break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + best + 1);
  }
  return symbols;
}

TEST(BytePair, MatchesQuadraticReferenceOnRandomVocabularies) {
  std::mt19937 rng(7);
  for (int vocabIter = 0; vocabIter < 20; ++vocabIter) {
    VocabularySpec spec = byteVocab();
    std::map<std::string, TokenId> ids;
    for (char c : std::string("abcd"))
      ids[std::string(1, c)] = static_cast<uint8_t>(c);
    std::vector<std::string> known{"a", "b", "c", "d"};
    std::map<std::pair<std::string, std::string>, size_t> ranks;
    // Random merges of known symbols, each producing a new token.
    for (int m = 0; m < 60; ++m) {
      std::uniform_int_distribution<size_t> pick(0, known.size() - 1);
      std::string l = known[pick(rng)], r = known[pick(rng)];
      if (ranks.count({l, r}) || l.size() + r.size() > 8)
        continue;
      ranks[{l, r}] = spec.merges.size();
      addMerge(spec, l, r);
      if (!ids.count(l + r)) {
        ids[l + r] = addToken(spec, l + r);
        known.push_back(l + r);
      }
    }
    auto tok = build(spec);
    ASSERT_TRUE(tok);
    std::uniform_int_distribution<int> letter(0, 3), length(1, 30);
    for (int wordIter = 0; wordIter < 200; ++wordIter) {
      std::string word;
      for (int k = length(rng); k > 0; --k)
        word.push_back(static_cast<char>('a' + letter(rng)));
      Ids expected;
      for (const std::string &s : referenceBpe(word, ranks))
        expected.push_back(ids.at(s));
      EXPECT_EQ(tok->encode(word), expected) << word;
    }
  }
}

TEST(BytePair, RandomBytesRoundTrip) {
  VocabularySpec spec = byteVocab();
  addToken(spec, " t");
  addToken(spec, "\xC3\xA9");
  addMerge(spec, " ", "t");
  addMerge(spec, "\xC3", "\xA9");
  addSpecial(spec, "<|c|>", TokenType::Control);
  auto tok = build(spec);
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int iter = 0; iter < 1000; ++iter) {
    std::string text;
    for (int k = length(rng); k > 0; --k)
      text.push_back(static_cast<char>(byte(rng)));
    if (iter % 10 == 0)
      text += "<|c|> t\xC3\xA9";
    Ids ids = tok->encode(text);
    for (TokenId id : ids)
      ASSERT_TRUE(tok->isValid(id));
    EXPECT_EQ(tok->decode(ids), text);
    StreamingDecoder stream(*tok);
    std::string streamed;
    for (TokenId id : ids)
      streamed += stream.push(id);
    streamed += stream.finish();
    EXPECT_EQ(streamed, text);
  }
}

} // namespace

//===- FixtureTest.cpp - the Qwen3 vocabulary against the peer's ids ------===//
//
// ../shared/fixtures/tokenizer/cases.json gives texts and the ids two
// independent tokenizers agree on; manifest.json's greedy cases give the
// prompt ids of the fixture models' (truncated) vocabularies;
// qwen35/tokenizer-cases.json the ids of the same vocabulary under the
// `qwen35` pre-tokenizer, and under `qwen2` for comparison.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/Tokenizer.h"
#include "tokenizer/Unicode.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <random>

using namespace qn::tokenizer;

namespace {

std::string fixturesDir() {
  const char *shared = std::getenv("QN_SHARED_DIR");
  return std::string(shared ? shared : QN_DEFAULT_SHARED_DIR) + "/fixtures";
}

/// Parses a fixture JSON file; a failure names the file.
std::optional<llvm::json::Value> readJson(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << "cannot read fixture " << path << ": "
                  << buffer.getError().message()
                  << " (set QN_SHARED_DIR to the shared directory)";
    return std::nullopt;
  }
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    ADD_FAILURE() << path << ": " << llvm::toString(json.takeError());
    return std::nullopt;
  }
  return std::move(*json);
}

std::unique_ptr<Tokenizer> loadTokenizer(const std::string &path) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromFile(path);
  if (!tok) {
    ADD_FAILURE() << "cannot load the tokenizer of " << path << ": "
                  << llvm::toString(tok.takeError())
                  << " (set QN_SHARED_DIR to the shared directory)";
    return nullptr;
  }
  return std::move(*tok);
}

std::vector<TokenId> readIds(const llvm::json::Array *array) {
  std::vector<TokenId> ids;
  if (array)
    for (const llvm::json::Value &v : *array)
      ids.push_back(static_cast<TokenId>(v.getAsInteger().value_or(-1)));
  return ids;
}

/// Decodes token by token. For valid UTF-8 text (`validText`), no emitted
/// piece may end inside a character; invalid bytes pass through as they
/// come.
std::string streamDecode(const Tokenizer &tok, llvm::ArrayRef<TokenId> ids,
                         bool validText = true) {
  StreamingDecoder stream(tok);
  std::string text;
  for (TokenId id : ids) {
    std::string piece = stream.push(id);
    if (validText) {
      EXPECT_EQ(completeUtf8PrefixLength(piece), piece.size());
    }
    text += piece;
  }
  return text + stream.finish();
}

/// One text case of a tokenizer fixture file: its name, text and the ids
/// under each key asked for (empty where absent).
struct TextCase {
  std::string name, text;
  std::vector<std::vector<TokenId>> ids;
};

/// The "cases" of a fixture file whose root is `root`.
std::vector<TextCase> readTextCases(const llvm::json::Object &root,
                                    std::initializer_list<const char *> keys) {
  std::vector<TextCase> result;
  const llvm::json::Array *cases = root.getArray("cases");
  if (!cases) {
    ADD_FAILURE() << "the fixture has no \"cases\" array";
    return result;
  }
  for (const llvm::json::Value &c : *cases) {
    const llvm::json::Object *obj = c.getAsObject();
    if (!obj) {
      ADD_FAILURE() << "a case is not an object";
      continue;
    }
    TextCase tc{obj->getString("name").value_or("?").str(),
                obj->getString("text").value_or("").str(),
                {}};
    for (const char *key : keys)
      tc.ids.push_back(readIds(obj->getArray(key)));
    result.push_back(std::move(tc));
  }
  return result;
}

class Qwen3Vocab : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    tok =
        loadTokenizer(fixturesDir() + "/tokenizer/vocab-qwen3.gguf").release();
  }
  static void TearDownTestSuite() {
    delete tok;
    tok = nullptr;
  }
  void SetUp() override {
    if (!tok)
      GTEST_FAIL() << "the Qwen3 vocabulary fixture did not load";
  }
  static Tokenizer *tok;
};
Tokenizer *Qwen3Vocab::tok = nullptr;

TEST_F(Qwen3Vocab, Metadata) {
  EXPECT_EQ(tok->size(), 151936u);
  EXPECT_FALSE(tok->addsBos());
  EXPECT_EQ(tok->numIgnoredMerges(), 0u);
  EXPECT_EQ(tok->lookup("<|im_end|>"), std::optional<TokenId>(151645));
  EXPECT_TRUE(tok->isEndOfGeneration(151645));  // <|im_end|>
  EXPECT_TRUE(tok->isEndOfGeneration(151643));  // <|endoftext|>
  EXPECT_FALSE(tok->isEndOfGeneration(151644)); // <|im_start|>
}

TEST_F(Qwen3Vocab, EveryCaseOfCasesJson) {
  std::optional<llvm::json::Value> json =
      readJson(fixturesDir() + "/tokenizer/cases.json");
  ASSERT_TRUE(json);
  const llvm::json::Object *root = json->getAsObject();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->getBoolean("parse_special"), std::optional<bool>(true));
  EXPECT_EQ(root->getBoolean("add_bos"), std::optional<bool>(false));
  std::vector<TextCase> cases = readTextCases(*root, {"ids"});
  EXPECT_GE(cases.size(), 20u);
  for (const TextCase &c : cases) {
    const std::vector<TokenId> &expected = c.ids[0];
    ASSERT_FALSE(expected.empty()) << c.name;
    EXPECT_EQ(tok->encode(c.text), expected)
        << "case " << c.name << ": " << c.text;
    EXPECT_EQ(tok->decode(expected), c.text) << "case " << c.name;
    EXPECT_EQ(streamDecode(*tok, expected), c.text) << "case " << c.name;
  }
}

TEST_F(Qwen3Vocab, ControlTokensAreTextWithoutParseSpecial) {
  std::vector<TokenId> parsed = tok->encode("<|im_start|>user");
  EXPECT_EQ(parsed, (std::vector<TokenId>{151644, 872}));
  std::vector<TokenId> plain = tok->encode("<|im_start|>user", false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 151644), 0);
  EXPECT_GT(plain.size(), 2u);
  EXPECT_EQ(tok->decode(plain), "<|im_start|>user");
  // Rendering: control tokens only on request.
  EXPECT_EQ(tok->decode(parsed, /*renderSpecial=*/false), "user");
}

TEST_F(Qwen3Vocab, RandomUtf8RoundTrips) {
  // Code points from the blocks real text uses, plus whitespace and
  // characters of the special tokens' syntax.
  const std::pair<uint32_t, uint32_t> ranges[] = {
      {0x20, 0x7E},     {0x09, 0x0D},       {0xA0, 0x24F},
      {0x300, 0x36F},   {0x391, 0x3C9},     {0x400, 0x4FF},
      {0x600, 0x6FF},   {0x900, 0x97F},     {0x2000, 0x206F},
      {0x3000, 0x30FF}, {0x4E00, 0x9FFF},   {0xAC00, 0xD7A3},
      {0xFF00, 0xFFEF}, {0x1F300, 0x1FAFF}, {0x10000, 0x10FFFF}};
  std::mt19937 rng(2024);
  std::uniform_int_distribution<size_t> pickRange(0, std::size(ranges) - 1);
  std::uniform_int_distribution<int> length(1, 80);
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    for (int k = length(rng); k > 0; --k) {
      auto [lo, hi] = ranges[pickRange(rng)];
      uint32_t cp = std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
      if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 'x';
      appendUtf8(cp, text);
      if (iter % 7 == 0 && k % 9 == 0)
        text += k % 2 ? "<|im_end|>" : "<think>";
    }
    std::vector<TokenId> ids = tok->encode(text);
    EXPECT_EQ(tok->decode(ids), text);
    EXPECT_EQ(streamDecode(*tok, ids), text);
  }
}

TEST_F(Qwen3Vocab, RandomBytesRoundTrip) {
  // Arbitrary bytes, invalid UTF-8 included: byte-level BPE loses nothing.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255), length(1, 200);
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    for (int k = length(rng); k > 0; --k)
      text.push_back(static_cast<char>(byte(rng)));
    std::vector<TokenId> ids = tok->encode(text);
    for (TokenId id : ids)
      ASSERT_TRUE(tok->isValid(id));
    EXPECT_EQ(tok->decode(ids), text);
    EXPECT_EQ(streamDecode(*tok, ids, /*validText=*/false), text);
  }
}

TEST(FixtureModels, GreedyCasePromptTokens) {
  std::optional<llvm::json::Value> json =
      readJson(fixturesDir() + "/manifest.json");
  ASSERT_TRUE(json);
  const llvm::json::Array *cases =
      json->getAsObject() ? json->getAsObject()->getArray("cases") : nullptr;
  ASSERT_TRUE(cases) << "manifest.json has no cases array";
  int checked = 0;
  for (const llvm::json::Value &c : *cases) {
    const llvm::json::Object *obj = c.getAsObject();
    if (!obj ||
        obj->getString("kind") != std::optional<llvm::StringRef>("greedy"))
      continue;
    std::string name = obj->getString("name").value_or("?").str();
    std::string model = obj->getString("model").value_or("").str();
    std::unique_ptr<Tokenizer> tok = loadTokenizer(fixturesDir() + "/" + model);
    ASSERT_TRUE(tok) << name;
    std::string text = obj->getString("prompt_text").value_or("").str();
    std::vector<TokenId> expected = readIds(obj->getArray("prompt_tokens"));
    EXPECT_EQ(tok->encode(text), expected) << "case " << name;
    EXPECT_EQ(tok->decode(expected), text) << "case " << name;
    ++checked;
  }
  EXPECT_GE(checked, 1) << "no greedy case in manifest.json";
}

// The qwen35 cases: texts whose ids change with the pre-tokenizer (marks).
// vocab-qwen35.gguf is the Qwen3 vocabulary with `pre = qwen35`, so the
// qwen2 ids come from vocab-qwen3.gguf.
TEST_F(Qwen3Vocab, Qwen35PreTokenizerCases) {
  std::optional<llvm::json::Value> json =
      readJson(fixturesDir() + "/qwen35/tokenizer-cases.json");
  ASSERT_TRUE(json);
  const llvm::json::Object *root = json->getAsObject();
  ASSERT_TRUE(root);
  EXPECT_EQ(root->getString("pre"), std::optional<llvm::StringRef>("qwen35"));
  std::unique_ptr<Tokenizer> q35 =
      loadTokenizer(fixturesDir() + "/qwen35/vocab-qwen35.gguf");
  ASSERT_TRUE(q35);
  std::vector<TextCase> cases = readTextCases(*root, {"ids", "ids_qwen2_pre"});
  EXPECT_GE(cases.size(), 10u);
  for (const TextCase &c : cases) {
    const std::vector<TokenId> &expected = c.ids[0], &qwen2 = c.ids[1];
    ASSERT_FALSE(expected.empty()) << c.name;
    EXPECT_EQ(q35->encode(c.text), expected)
        << "case " << c.name << ": " << c.text;
    EXPECT_EQ(q35->decode(expected), c.text) << "case " << c.name;
    EXPECT_EQ(streamDecode(*q35, expected), c.text) << "case " << c.name;
    if (!qwen2.empty()) {
      EXPECT_EQ(tok->encode(c.text), qwen2)
          << "case " << c.name << " under qwen2: " << c.text;
    }
  }
}

} // namespace

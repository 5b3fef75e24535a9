//===- GGUFVocabTest.cpp - reading tokenizer.ggml.* from small GGUFs ------===//
//
// Builds GGUF files in memory with the gguf layer's writer, so every key
// the tokenizer reads can be left out or given a wrong type.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/ChatTemplate.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/Unicode.h"

#include "gguf/GGUFFile.h"
#include "gguf/GGUFWriter.h"

#include "gtest/gtest.h"

using namespace qn::tokenizer;
using qn::gguf::GGUFFile;
using qn::gguf::GGUFWriter;
using qn::gguf::Value;
using qn::gguf::ValueType;

namespace {

Value strings(const std::vector<std::string> &items) {
  std::vector<Value> values;
  for (const std::string &s : items)
    values.push_back(Value::makeString(s));
  return Value::makeArray(ValueType::String, std::move(values));
}

Value ints(const std::vector<int64_t> &items) {
  std::vector<Value> values;
  for (int64_t v : items)
    values.push_back(Value::makeInt(ValueType::Int32, v));
  return Value::makeArray(ValueType::Int32, std::move(values));
}

/// 256 byte tokens, "ab" (256), <|im_end|> (257, control), <s> (258,
/// control); merge "a b"; EOS = 257, BOS = 258.
struct VocabFile {
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  GGUFWriter writer;

  VocabFile() {
    for (unsigned b = 0; b < 256; ++b) {
      std::string t;
      appendUtf8(byteToCodePoint(static_cast<uint8_t>(b)), t);
      tokens.push_back(t);
      types.push_back(1);
    }
    tokens.insert(tokens.end(), {"ab", "<|im_end|>", "<s>"});
    types.insert(types.end(), {1, 3, 3});
    writer.setValue("general.architecture", Value::makeString("qwen3next"));
    writer.setValue("tokenizer.ggml.model", Value::makeString("gpt2"));
    writer.setValue("tokenizer.ggml.pre", Value::makeString("qwen2"));
    writer.setValue("tokenizer.ggml.tokens", strings(tokens));
    writer.setValue("tokenizer.ggml.token_type", ints(types));
    writer.setValue("tokenizer.ggml.merges", strings({"a b"}));
    writer.setValue("tokenizer.ggml.eos_token_id",
                    Value::makeUInt(ValueType::UInt32, 257));
    writer.setValue("tokenizer.ggml.bos_token_id",
                    Value::makeUInt(ValueType::UInt32, 258));
  }

  /// Writes the file, opens it, builds the tokenizer.
  llvm::Expected<std::unique_ptr<Tokenizer>> load() const {
    auto buffer =
        llvm::MemoryBuffer::getMemBufferCopy(writer.serialize(), "vocab.gguf");
    llvm::Expected<std::unique_ptr<GGUFFile>> file =
        GGUFFile::fromBuffer(std::move(buffer));
    if (!file)
      return file.takeError();
    return Tokenizer::fromGGUF(**file);
  }
};

/// The error message of a load that must fail ("" if it did not).
std::string loadError(const VocabFile &file) {
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = file.load();
  if (tok)
    return "";
  return llvm::toString(tok.takeError());
}

#define EXPECT_LOAD_ERROR(file, needle)                                        \
  do {                                                                         \
    std::string msg = loadError(file);                                         \
    EXPECT_NE(msg.find(needle), std::string::npos)                             \
        << "message: '" << msg << "'";                                         \
  } while (false)

TEST(GGUFVocab, ReadsTokensTypesMergesAndSpecialIds) {
  VocabFile file;
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = file.load();
  ASSERT_TRUE(static_cast<bool>(tok)) << llvm::toString(tok.takeError());
  Tokenizer &t = **tok;
  EXPECT_EQ(t.size(), 259u);
  EXPECT_EQ(t.encode("ab<|im_end|>"), (std::vector<TokenId>{256, 257}));
  EXPECT_EQ(t.eos(), std::optional<TokenId>(257));
  EXPECT_EQ(t.bos(), std::optional<TokenId>(258));
  EXPECT_FALSE(t.addsBos());
  EXPECT_TRUE(t.isEndOfGeneration(257));
  EXPECT_EQ(t.tokenType(257), TokenType::Control);
}

TEST(GGUFVocab, AddBosToken) {
  VocabFile file;
  file.writer.setValue("tokenizer.ggml.add_bos_token", Value::makeBool(true));
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = file.load();
  ASSERT_TRUE(static_cast<bool>(tok)) << llvm::toString(tok.takeError());
  EXPECT_EQ((*tok)->encode("ab"), (std::vector<TokenId>{258, 256}));
}

TEST(GGUFVocab, TokenTypesAreOptional) {
  VocabFile file;
  // Rebuild without token_type: every token is normal, so "<|im_end|>" is
  // plain text.
  file.writer = GGUFWriter();
  file.writer.setValue("tokenizer.ggml.model", Value::makeString("gpt2"));
  file.writer.setValue("tokenizer.ggml.pre", Value::makeString("qwen2"));
  file.writer.setValue("tokenizer.ggml.tokens", strings(file.tokens));
  file.writer.setValue("tokenizer.ggml.merges", strings({"a b"}));
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = file.load();
  ASSERT_TRUE(static_cast<bool>(tok)) << llvm::toString(tok.takeError());
  std::vector<TokenId> ids = (*tok)->encode("<|im_end|>");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 257), 0);
  EXPECT_GT(ids.size(), 1u);
}

TEST(GGUFVocab, NoTokenizer) {
  VocabFile file;
  file.writer = GGUFWriter();
  file.writer.setValue("general.architecture", Value::makeString("qwen3next"));
  EXPECT_LOAD_ERROR(file, "vocab.gguf: the model has no tokenizer");
}

TEST(GGUFVocab, UnsupportedModelOrPreTokenizer) {
  VocabFile llama;
  llama.writer.setValue("tokenizer.ggml.model", Value::makeString("llama"));
  EXPECT_LOAD_ERROR(llama, "unsupported tokenizer.ggml.model 'llama'");
  VocabFile pre;
  pre.writer.setValue("tokenizer.ggml.pre", Value::makeString("gpt-4o"));
  EXPECT_LOAD_ERROR(pre, "unsupported pre-tokenizer 'gpt-4o'");
}

TEST(GGUFVocab, MissingOrMistypedKeys) {
  VocabFile noPre;
  noPre.writer = GGUFWriter();
  noPre.writer.setValue("tokenizer.ggml.model", Value::makeString("gpt2"));
  noPre.writer.setValue("tokenizer.ggml.tokens", strings(noPre.tokens));
  EXPECT_LOAD_ERROR(noPre, "tokenizer.ggml.pre");

  VocabFile noMerges;
  noMerges.writer = GGUFWriter();
  noMerges.writer.setValue("tokenizer.ggml.model", Value::makeString("gpt2"));
  noMerges.writer.setValue("tokenizer.ggml.pre", Value::makeString("qwen2"));
  noMerges.writer.setValue("tokenizer.ggml.tokens", strings(noMerges.tokens));
  EXPECT_LOAD_ERROR(noMerges, "tokenizer.ggml.merges");

  VocabFile intTokens;
  intTokens.writer.setValue("tokenizer.ggml.tokens", ints({1, 2, 3}));
  EXPECT_LOAD_ERROR(intTokens, "tokenizer.ggml.tokens");

  VocabFile shortTypes;
  shortTypes.writer.setValue("tokenizer.ggml.token_type", ints({1, 1}));
  EXPECT_LOAD_ERROR(shortTypes, "tokenizer.ggml.token_type must be an "
                                "integer array of 259 elements");

  VocabFile badType;
  badType.types[5] = 9;
  badType.writer.setValue("tokenizer.ggml.token_type", ints(badType.types));
  EXPECT_LOAD_ERROR(badType, "invalid token type");

  VocabFile eosString;
  eosString.writer.setValue("tokenizer.ggml.eos_token_id",
                            Value::makeString("</s>"));
  EXPECT_LOAD_ERROR(eosString, "tokenizer.ggml.eos_token_id is not a token id");

  VocabFile eosRange;
  eosRange.writer.setValue("tokenizer.ggml.eos_token_id",
                           Value::makeUInt(ValueType::UInt32, 999999));
  EXPECT_LOAD_ERROR(eosRange, "EOS token id 999999 is outside the vocabulary");
}

} // namespace

namespace {

std::unique_ptr<GGUFFile> openFile(const GGUFWriter &writer) {
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(writer.serialize(), "chat.gguf");
  llvm::Expected<std::unique_ptr<GGUFFile>> file =
      GGUFFile::fromBuffer(std::move(buffer));
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return nullptr;
  }
  return std::move(*file);
}

TEST(GGUFChatTemplate, BuiltInWhenAbsent) {
  VocabFile vocab;
  auto file = openFile(vocab.writer);
  ASSERT_TRUE(file);
  llvm::Expected<std::string> out =
      applyModelChatTemplate(*file, nullptr, {{"user", "Hi"}}, {});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_EQ(*out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(GGUFChatTemplate, TheFilesTemplateWithItsSpecialTokens) {
  VocabFile vocab;
  vocab.writer.setValue(
      "tokenizer.chat_template",
      Value::makeString("{{ bos_token }}{% for m in messages %}{{ m.role }}: "
                        "{{ m.content }}{{ eos_token }}{% endfor %}"));
  auto file = openFile(vocab.writer);
  ASSERT_TRUE(file);
  llvm::Expected<std::unique_ptr<Tokenizer>> tok = Tokenizer::fromGGUF(*file);
  ASSERT_TRUE(static_cast<bool>(tok)) << llvm::toString(tok.takeError());
  llvm::Expected<std::string> out =
      applyModelChatTemplate(*file, tok->get(), {{"user", "Hi"}}, {});
  ASSERT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
  EXPECT_EQ(*out, "<s>user: Hi<|im_end|>");
}

TEST(GGUFChatTemplate, BrokenTemplateNamesTheFileAndKey) {
  VocabFile vocab;
  vocab.writer.setValue("tokenizer.chat_template",
                        Value::makeString("{% if x %}never closed"));
  auto file = openFile(vocab.writer);
  ASSERT_TRUE(file);
  llvm::Expected<std::string> out =
      applyModelChatTemplate(*file, nullptr, {{"user", "Hi"}}, {});
  ASSERT_FALSE(static_cast<bool>(out));
  EXPECT_EQ(llvm::toString(out.takeError()),
            "chat.gguf: tokenizer.chat_template: chat template line 1: "
            "missing {% endif %}");
}

} // namespace

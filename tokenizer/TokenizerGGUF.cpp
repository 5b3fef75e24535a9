//===- TokenizerGGUF.cpp - build a Tokenizer from tokenizer.ggml.* --------===//
//
// The keys llama.cpp's converter writes for a GPT-2-style vocabulary:
//   tokenizer.ggml.model        "gpt2" (byte-level BPE)
//   tokenizer.ggml.pre          pre-tokenizer name ("qwen2")
//   tokenizer.ggml.tokens       [str]  the vocabulary, id = index
//   tokenizer.ggml.token_type   [i32]  TokenType per token (optional)
//   tokenizer.ggml.merges       [str]  "left right", rank = index
//   tokenizer.ggml.{bos,eos,eot,padding}_token_id, add_bos_token (optional)
//
//===----------------------------------------------------------------------===//
#include "tokenizer/Tokenizer.h"

#include "gguf/GGUFFile.h"

#include "llvm/Support/FormatVariadic.h"

using namespace qn::tokenizer;
using qn::gguf::GGUFFile;
using qn::gguf::Value;

namespace {
llvm::Error fileError(const GGUFFile &file, const llvm::Twine &msg) {
  return llvm::createStringError((file.bufferIdentifier() + ": " + msg).str());
}

/// An optional token-id key; an error if present but not a small integer.
llvm::Error readOptionalId(const GGUFFile &file, llvm::StringRef key,
                           std::optional<TokenId> &out) {
  const Value *v = file.find(key);
  if (!v)
    return llvm::Error::success();
  std::optional<int64_t> id = v->asInt();
  if (!id || *id < 0 || *id > INT32_MAX)
    return fileError(file, key + " is not a token id: " + v->toString());
  out = static_cast<TokenId>(*id);
  return llvm::Error::success();
}
} // namespace

llvm::Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromGGUF(const GGUFFile &file) {
  const Value *tokens = file.find("tokenizer.ggml.tokens");
  if (!tokens)
    return fileError(file, "the model has no tokenizer "
                           "(no tokenizer.ggml.tokens key)");
  llvm::Expected<llvm::StringRef> model =
      file.getString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  if (*model != "gpt2")
    return fileError(file, "unsupported tokenizer.ggml.model '" + *model +
                               "' (supported: gpt2, byte-level BPE)");

  VocabularySpec spec;
  llvm::Expected<llvm::StringRef> pre = file.getString("tokenizer.ggml.pre");
  if (!pre)
    return pre.takeError();
  spec.preTokenizer = pre->str();

  llvm::Expected<std::vector<llvm::StringRef>> texts =
      file.getStringArray("tokenizer.ggml.tokens");
  if (!texts)
    return texts.takeError();
  spec.tokens.reserve(texts->size());
  for (llvm::StringRef t : *texts)
    spec.tokens.push_back(t.str());

  if (const Value *types = file.find("tokenizer.ggml.token_type")) {
    if (!types->isArray() || types->arraySize() != spec.tokens.size())
      return fileError(
          file, llvm::formatv("tokenizer.ggml.token_type must be an integer "
                              "array of {0} elements, found {1}",
                              spec.tokens.size(), types->toString())
                    .str());
    spec.types.reserve(spec.tokens.size());
    for (const Value &t : types->array()) {
      std::optional<int64_t> type = t.asInt();
      if (!type || *type < 0 || *type > 6)
        return fileError(file, "tokenizer.ggml.token_type holds an invalid "
                               "token type: " +
                                   t.toString());
      spec.types.push_back(static_cast<TokenType>(*type));
    }
  }

  llvm::Expected<std::vector<llvm::StringRef>> merges =
      file.getStringArray("tokenizer.ggml.merges");
  if (!merges)
    return merges.takeError();
  spec.merges.reserve(merges->size());
  for (llvm::StringRef m : *merges)
    spec.merges.push_back(m.str());

  for (auto [key, slot] : {std::pair{"tokenizer.ggml.bos_token_id", &spec.bos},
                           {"tokenizer.ggml.eos_token_id", &spec.eos},
                           {"tokenizer.ggml.eot_token_id", &spec.eot},
                           {"tokenizer.ggml.padding_token_id", &spec.padding}})
    if (llvm::Error err = readOptionalId(file, key, *slot))
      return std::move(err);
  if (file.find("tokenizer.ggml.add_bos_token")) {
    llvm::Expected<bool> addBos = file.getBool("tokenizer.ggml.add_bos_token");
    if (!addBos)
      return addBos.takeError();
    spec.addBos = *addBos;
  }

  llvm::Expected<std::unique_ptr<Tokenizer>> tok = create(std::move(spec));
  if (!tok)
    return fileError(file, llvm::toString(tok.takeError()));
  return tok;
}

llvm::Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromFile(llvm::StringRef path) {
  llvm::Expected<std::unique_ptr<GGUFFile>> file = GGUFFile::open(path);
  if (!file)
    return file.takeError();
  return fromGGUF(**file);
}

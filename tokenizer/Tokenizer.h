//===- Tokenizer.h - byte-level BPE tokenizer from GGUF metadata -*- C++
//-*-===//
//
// The tokenizer of GPT-2-style vocabularies (`tokenizer.ggml.model = gpt2`)
// as Qwen2/Qwen3 models use them:
//   1. special tokens (control and user-defined added tokens such as
//      `<|im_start|>` or `<think>`) are cut out of the text first,
//   2. the rest is split by the pre-tokenizer regex (PreTokenizer.h),
//   3. each piece is mapped byte by byte to GPT-2's printable alphabet and
//      merged pairwise, always the pair with the lowest merge rank first.
// Decoding maps tokens back to the bytes they stand for. A Tokenizer is
// immutable once built: encode and decode may run on many threads at once.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_TOKENIZER_H
#define QN_TOKENIZER_TOKENIZER_H

#include "tokenizer/PreTokenizer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qn::gguf {
class GGUFFile;
} // namespace qn::gguf

namespace qn::tokenizer {

using TokenId = int32_t;

/// ggml's token types, as stored in `tokenizer.ggml.token_type`.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,     // e.g. <|im_start|>: matched in text only when asked
  UserDefined = 4, // e.g. <think>: always matched, always rendered
  Unused = 5,
  Byte = 6,
};

/// What the `tokenizer.ggml.*` keys of a GGUF hold. Unit tests build small
/// vocabularies by hand with it.
struct VocabularySpec {
  std::vector<std::string> tokens;
  /// One per token; empty means every token is Normal.
  std::vector<TokenType> types;
  /// "left right" pairs in the byte-level alphabet; line i has rank i.
  std::vector<std::string> merges;
  std::string preTokenizer = "qwen2";
  std::optional<TokenId> bos, eos, eot, padding;
  bool addBos = false;
};

class Tokenizer {
public:
  /// Checks the spec (types match tokens, special ids in range, the 256
  /// byte tokens present, known pre-tokenizer) and builds the tables.
  static llvm::Expected<std::unique_ptr<Tokenizer>> create(VocabularySpec spec);
  /// Reads `tokenizer.ggml.*` from a model file. A file without a
  /// tokenizer, or with one of another kind, gives an error naming the key.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromGGUF(const gguf::GGUFFile &file);
  /// Opens `path` as GGUF and calls fromGGUF.
  static llvm::Expected<std::unique_ptr<Tokenizer>>
  fromFile(llvm::StringRef path);

  /// Token ids of `text` (any bytes; invalid UTF-8 is kept byte by byte).
  /// With `parseSpecial`, control tokens written in the text become their
  /// ids; user-defined added tokens are matched either way (as llama.cpp
  /// does). Prepends BOS only if the vocabulary asks for it (`addsBos`).
  std::vector<TokenId> encode(llvm::StringRef text,
                              bool parseSpecial = true) const;

  /// The bytes of `ids` concatenated. Control and unknown tokens are
  /// rendered as their text only with `renderSpecial`; unused tokens and
  /// out-of-range ids render as nothing.
  std::string decode(llvm::ArrayRef<TokenId> ids,
                     bool renderSpecial = true) const;
  /// Appends one token's bytes to `out`, as decode does.
  void appendTokenBytes(TokenId id, std::string &out,
                        bool renderSpecial = true) const;

  size_t size() const { return texts.size(); }
  bool isValid(TokenId id) const {
    return id >= 0 && static_cast<size_t>(id) < texts.size();
  }
  /// The token as the vocabulary stores it (byte-level alphabet for normal
  /// tokens). Requires isValid(id).
  llvm::StringRef tokenText(TokenId id) const { return texts[id]; }
  TokenType tokenType(TokenId id) const { return types[id]; }
  /// The id whose vocabulary text is exactly `text`.
  std::optional<TokenId> lookup(llvm::StringRef text) const;

  std::optional<TokenId> bos() const { return bosId; }
  std::optional<TokenId> eos() const { return eosId; }
  std::optional<TokenId> eot() const { return eotId; }
  std::optional<TokenId> padding() const { return paddingId; }
  bool addsBos() const { return addBosToken; }
  /// True for tokens that end generation: EOS, EOT, and control tokens
  /// that chat models emit at the end of a turn (<|im_end|>,
  /// <|endoftext|>).
  bool isEndOfGeneration(TokenId id) const;

  /// Merges dropped at load because a side or the result is not a token.
  size_t numIgnoredMerges() const { return ignoredMerges; }

private:
  Tokenizer() = default;
  struct EncodeState;
  void encodeRaw(llvm::StringRef text, EncodeState &state,
                 std::vector<TokenId> &out) const;
  void encodePiece(llvm::StringRef piece, EncodeState &state,
                   std::vector<TokenId> &out) const;
  void mergePiece(llvm::StringRef piece, EncodeState &state) const;

  struct Merge {
    uint32_t rank;
    TokenId result;
  };
  static uint64_t pairKey(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }

  std::vector<std::string> texts;
  std::vector<TokenType> types;
  /// What each token decodes to (normal tokens mapped back to bytes).
  std::vector<std::string> bytes;
  llvm::StringMap<TokenId> textToId;
  llvm::DenseMap<uint64_t, Merge> merges;
  TokenId byteTokens[256] = {};
  /// Special tokens by first byte, longest first (leftmost-longest match).
  std::vector<TokenId> specialsByFirstByte[256];
  PreTokenizerKind preTokenizer = PreTokenizerKind::Qwen2;
  std::optional<TokenId> bosId, eosId, eotId, paddingId;
  std::vector<TokenId> endOfGeneration;
  bool addBosToken = false;
  size_t ignoredMerges = 0;
};

/// Turns a stream of tokens into text without ever emitting half a UTF-8
/// character: a character split across tokens is held back until the token
/// that completes it arrives. The concatenated output equals
/// Tokenizer::decode of all tokens pushed.
class StreamingDecoder {
public:
  explicit StreamingDecoder(const Tokenizer &tokenizer,
                            bool renderSpecial = true)
      : tokenizer(tokenizer), renderSpecial(renderSpecial) {}

  /// Adds one token; returns the text completed by it (maybe empty).
  std::string push(TokenId id);
  /// Returns whatever is still held back (an unfinished character at the
  /// end of the stream) and resets.
  std::string finish();

private:
  const Tokenizer &tokenizer;
  bool renderSpecial;
  std::string pending;
};

} // namespace qn::tokenizer

#endif // QN_TOKENIZER_TOKENIZER_H

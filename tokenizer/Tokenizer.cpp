//===- Tokenizer.cpp - byte-level BPE encode and decode -------------------===//
#include "tokenizer/Tokenizer.h"
#include "tokenizer/Unicode.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

using namespace qn::tokenizer;
using llvm::StringRef;

namespace {
llvm::Error specError(const llvm::Twine &msg) {
  return llvm::createStringError("tokenizer: " + msg);
}

/// What a normal token stands for: its text mapped back from GPT-2's byte
/// alphabet. A character outside the alphabet (malformed vocabulary) is
/// kept as its UTF-8 rather than dropped.
std::string byteLevelDecode(StringRef text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    DecodedChar d = decodeUtf8(text, pos);
    int byte = d.valid ? codePointToByte(d.codePoint) : -1;
    if (byte >= 0)
      out.push_back(static_cast<char>(byte));
    else
      out.append(text.data() + pos, d.length);
    pos += d.length;
  }
  return out;
}

/// A byte token's text is "<0xAB>".
std::string byteTokenDecode(StringRef text) {
  unsigned value;
  if (text.size() == 6 && text.starts_with("<0x") && text.ends_with(">") &&
      !text.substr(3, 2).getAsInteger(16, value))
    return std::string(1, static_cast<char>(value));
  return text.str();
}
} // namespace

llvm::Expected<std::unique_ptr<Tokenizer>>
Tokenizer::create(VocabularySpec spec) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  size_t n = spec.tokens.size();
  if (n == 0)
    return specError("the vocabulary is empty");
  if (n > static_cast<size_t>(INT32_MAX))
    return specError(llvm::formatv("{0} tokens are too many", n).str());
  if (!spec.types.empty() && spec.types.size() != n)
    return specError(
        llvm::formatv("{0} token types for {1} tokens", spec.types.size(), n)
            .str());
  std::optional<PreTokenizerKind> pre =
      parsePreTokenizerName(spec.preTokenizer);
  if (!pre)
    return specError("unsupported pre-tokenizer '" + spec.preTokenizer +
                     "' (supported: qwen2, qwen35)");
  tok->preTokenizer = *pre;

  for (auto [name, id] : {std::pair{"BOS", spec.bos},
                          {"EOS", spec.eos},
                          {"EOT", spec.eot},
                          {"padding", spec.padding}})
    if (id && (*id < 0 || static_cast<size_t>(*id) >= n))
      return specError(
          llvm::formatv("{0} token id {1} is outside the vocabulary of {2}",
                        name, *id, n)
              .str());
  if (spec.addBos && !spec.bos)
    return specError("the vocabulary asks for BOS but has no BOS token");
  tok->bosId = spec.bos;
  tok->eosId = spec.eos;
  tok->eotId = spec.eot;
  tok->paddingId = spec.padding;
  tok->addBosToken = spec.addBos;

  tok->texts = std::move(spec.tokens);
  tok->types = spec.types.empty() ? std::vector<TokenType>(n, TokenType::Normal)
                                  : std::move(spec.types);
  tok->bytes.resize(n);
  tok->textToId = llvm::StringMap<TokenId>(static_cast<unsigned>(n));
  for (size_t i = 0; i < n; ++i) {
    TokenId id = static_cast<TokenId>(i);
    StringRef text = tok->texts[i];
    tok->textToId.try_emplace(text, id); // the first of duplicates wins
    int32_t rawType = static_cast<int32_t>(tok->types[i]);
    if (rawType < 0 || rawType > static_cast<int32_t>(TokenType::Byte))
      return specError(
          llvm::formatv("token {0} has unknown type {1}", i, rawType).str());
    switch (tok->types[i]) {
    case TokenType::Normal:
    case TokenType::Undefined:
      tok->bytes[i] = byteLevelDecode(text);
      break;
    case TokenType::Byte:
      tok->bytes[i] = byteTokenDecode(text);
      break;
    case TokenType::Unused:
      break;
    case TokenType::Unknown:
    case TokenType::Control:
    case TokenType::UserDefined:
      tok->bytes[i] = text.str();
      if (!text.empty())
        tok->specialsByFirstByte[static_cast<uint8_t>(text[0])].push_back(id);
      break;
    }
  }
  for (std::vector<TokenId> &ids : tok->specialsByFirstByte)
    std::sort(ids.begin(), ids.end(), [&](TokenId a, TokenId b) {
      size_t la = tok->texts[a].size(), lb = tok->texts[b].size();
      return la != lb ? la > lb : a < b;
    });

  for (unsigned b = 0; b < 256; ++b) {
    std::string text;
    appendUtf8(byteToCodePoint(static_cast<uint8_t>(b)), text);
    std::optional<TokenId> id = tok->lookup(text);
    if (!id)
      return specError(
          llvm::formatv("the vocabulary has no token for byte 0x{0:X-2} "
                        "('{1}'), so it is not a byte-level BPE vocabulary",
                        b, text)
              .str());
    tok->byteTokens[b] = *id;
  }

  tok->merges.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    StringRef line = spec.merges[rank];
    // The separator is the first space after the first character (the
    // byte-level alphabet has no space, but be lenient with a leading one).
    size_t sep = line.find(' ', 1);
    std::optional<TokenId> left, right, result;
    if (sep != StringRef::npos) {
      StringRef l = line.take_front(sep), r = line.drop_front(sep + 1);
      left = tok->lookup(l);
      right = tok->lookup(r);
      joined.assign(l.begin(), l.end());
      joined.append(r.begin(), r.end());
      result = tok->lookup(joined);
    }
    if (!left || !right || !result) {
      ++tok->ignoredMerges;
      continue;
    }
    tok->merges.try_emplace(pairKey(*left, *right),
                            Merge{static_cast<uint32_t>(rank), *result});
  }

  for (size_t i = 0; i < n; ++i) {
    TokenId id = static_cast<TokenId>(i);
    bool turnEnd =
        tok->types[i] == TokenType::Control &&
        (tok->texts[i] == "<|im_end|>" || tok->texts[i] == "<|endoftext|>");
    if (turnEnd || id == spec.eos || id == spec.eot)
      tok->endOfGeneration.push_back(id);
  }
  return tok;
}

std::optional<TokenId> Tokenizer::lookup(StringRef text) const {
  auto it = textToId.find(text);
  if (it == textToId.end())
    return std::nullopt;
  return it->second;
}

bool Tokenizer::isEndOfGeneration(TokenId id) const {
  return llvm::is_contained(endOfGeneration, id);
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

/// Scratch space of one encode call: the merge work arrays, reused for every
/// piece, and a cache of pieces already merged (text repeats words a lot).
struct Tokenizer::EncodeState {
  llvm::StringMap<std::pair<uint32_t, uint32_t>> cache; // [first, count)
  std::vector<TokenId> cachedIds;

  struct Candidate {
    uint32_t rank;
    uint32_t left, right; // symbol positions
    TokenId leftId, rightId, result;
  };
  std::vector<TokenId> symbols; // token id per position; -1 once merged away
  std::vector<uint32_t> prev, next;
  std::vector<Candidate> heap;
};

std::vector<TokenId> Tokenizer::encode(StringRef text,
                                       bool parseSpecial) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (addBosToken)
    out.push_back(*bosId);
  EncodeState state;
  // Cut out special tokens, leftmost first, the longest where several
  // start at the same byte (as HF's added-token matcher does).
  size_t rawStart = 0;
  for (size_t pos = 0; pos < text.size();) {
    const std::vector<TokenId> &candidates =
        specialsByFirstByte[static_cast<uint8_t>(text[pos])];
    TokenId match = -1;
    for (TokenId id : candidates) {
      if (!parseSpecial && types[id] != TokenType::UserDefined)
        continue;
      if (text.substr(pos).starts_with(texts[id])) {
        match = id;
        break;
      }
    }
    if (match < 0) {
      ++pos;
      continue;
    }
    encodeRaw(text.slice(rawStart, pos), state, out);
    out.push_back(match);
    pos += texts[match].size();
    rawStart = pos;
  }
  encodeRaw(text.substr(rawStart), state, out);
  return out;
}

void Tokenizer::encodeRaw(StringRef text, EncodeState &state,
                          std::vector<TokenId> &out) const {
  if (text.empty())
    return;
  preTokenize(preTokenizer, text,
              [&](StringRef piece) { encodePiece(piece, state, out); });
}

void Tokenizer::encodePiece(StringRef piece, EncodeState &state,
                            std::vector<TokenId> &out) const {
  if (piece.size() == 1) {
    out.push_back(byteTokens[static_cast<uint8_t>(piece[0])]);
    return;
  }
  auto [it, inserted] = state.cache.try_emplace(piece);
  if (inserted) {
    mergePiece(piece, state);
    uint32_t first = static_cast<uint32_t>(state.cachedIds.size());
    for (uint32_t p = 0; p < piece.size(); p = state.next[p])
      state.cachedIds.push_back(state.symbols[p]);
    it->second = {first, static_cast<uint32_t>(state.cachedIds.size()) - first};
  }
  auto [first, count] = it->second;
  out.insert(out.end(), state.cachedIds.begin() + first,
             state.cachedIds.begin() + first + count);
}

/// Byte-pair merging of one piece: start from one symbol per byte, then
/// repeatedly merge the adjacent pair with the lowest rank (the leftmost of
/// equal ones). A heap of candidate pairs keeps this O(n log n); a candidate
/// whose symbols changed since it was queued is skipped when popped. Leaves
/// the result as the linked list state.symbols/next starting at position 0.
void Tokenizer::mergePiece(StringRef piece, EncodeState &state) const {
  uint32_t n = static_cast<uint32_t>(piece.size());
  state.symbols.resize(n);
  state.prev.resize(n);
  state.next.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    state.symbols[i] = byteTokens[static_cast<uint8_t>(piece[i])];
    state.prev[i] = i - 1; // wraps for i == 0: "no previous"
    state.next[i] = i + 1; // n: "no next"
  }
  auto later = [](const EncodeState::Candidate &a,
                  const EncodeState::Candidate &b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  auto consider = [&](uint32_t left, uint32_t right) {
    TokenId l = state.symbols[left], r = state.symbols[right];
    auto it = merges.find(pairKey(l, r));
    if (it == merges.end())
      return;
    state.heap.push_back(
        {it->second.rank, left, right, l, r, it->second.result});
    std::push_heap(state.heap.begin(), state.heap.end(), later);
  };
  state.heap.clear();
  for (uint32_t i = 0; i + 1 < n; ++i)
    consider(i, i + 1);
  while (!state.heap.empty()) {
    std::pop_heap(state.heap.begin(), state.heap.end(), later);
    EncodeState::Candidate c = state.heap.back();
    state.heap.pop_back();
    if (state.symbols[c.left] != c.leftId || state.next[c.left] != c.right ||
        state.symbols[c.right] != c.rightId)
      continue; // stale
    state.symbols[c.left] = c.result;
    state.symbols[c.right] = -1;
    uint32_t after = state.next[c.right];
    state.next[c.left] = after;
    if (after < n)
      state.prev[after] = c.left;
    if (c.left > 0)
      consider(state.prev[c.left], c.left);
    if (after < n)
      consider(c.left, after);
  }
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

void Tokenizer::appendTokenBytes(TokenId id, std::string &out,
                                 bool renderSpecial) const {
  if (!isValid(id))
    return;
  TokenType type = types[id];
  if (!renderSpecial &&
      (type == TokenType::Control || type == TokenType::Unknown))
    return;
  out += bytes[id];
}

std::string Tokenizer::decode(llvm::ArrayRef<TokenId> ids,
                              bool renderSpecial) const {
  std::string out;
  for (TokenId id : ids)
    appendTokenBytes(id, out, renderSpecial);
  return out;
}

std::string StreamingDecoder::push(TokenId id) {
  tokenizer.appendTokenBytes(id, pending, renderSpecial);
  size_t ready = completeUtf8PrefixLength(pending);
  std::string out = pending.substr(0, ready);
  pending.erase(0, ready);
  return out;
}

std::string StreamingDecoder::finish() {
  std::string out;
  out.swap(pending);
  return out;
}

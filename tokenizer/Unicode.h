//===- Unicode.h - UTF-8 and character classes for tokenizers ---*- C++ -*-===//
//
// The small part of Unicode a byte-level BPE tokenizer needs: decoding UTF-8
// one code point at a time (tolerating invalid bytes, since a tokenizer must
// accept any byte string), the character classes the pre-tokenizer regexes
// use (\p{L}, \p{N}, \p{M}, \s), and GPT-2's byte <-> code point mapping.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_UNICODE_H
#define QN_TOKENIZER_UNICODE_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace qn::tokenizer {

/// The classes the pre-tokenizer regexes distinguish. Every code point is
/// in exactly one: \p{L} (general category L*), \p{N} (N*), \p{M}
/// (combining marks Mn, Mc, Me), \s (Unicode White_Space), or none of
/// these. (No mark is White_Space, so the order of the checks is moot.)
enum class CharClass : uint8_t { Letter, Number, Mark, Space, Other };

CharClass classifyCodePoint(uint32_t cp);

/// One decoded UTF-8 sequence. An invalid or truncated sequence decodes as
/// a single byte (`valid` false, `length` 1) so that no input byte is lost.
struct DecodedChar {
  uint32_t codePoint;
  uint32_t length;
  bool valid;
};

/// Decodes the sequence starting at `text[pos]` (pos < text.size()).
/// Rejects overlong forms, surrogates and code points above U+10FFFF.
DecodedChar decodeUtf8(llvm::StringRef text, size_t pos);

/// Appends the UTF-8 encoding of `cp` (<= U+10FFFF) to `out`.
void appendUtf8(uint32_t cp, std::string &out);

/// Length of the longest prefix of `bytes` that does not end inside a UTF-8
/// sequence that later bytes could still complete. Bytes that can never
/// become valid UTF-8 are not held back: they count as part of the prefix.
size_t completeUtf8PrefixLength(llvm::StringRef bytes);

/// GPT-2's byte-level alphabet: every byte maps to a printable code point
/// (printable Latin-1 bytes to themselves, the rest to U+0100 upwards), so a
/// vocabulary of byte strings can be stored as text.
uint32_t byteToCodePoint(uint8_t byte);
/// Inverse of byteToCodePoint; -1 for code points outside the alphabet.
int codePointToByte(uint32_t cp);

} // namespace qn::tokenizer

#endif // QN_TOKENIZER_UNICODE_H

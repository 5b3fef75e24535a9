//===- Unicode.cpp - UTF-8 and character classes for tokenizers -----------===//
#include "tokenizer/Unicode.h"

#include <unicode/uchar.h>

using namespace qn::tokenizer;

namespace {
// Both tables are built at compile time, so no static-initialization order
// question arises when other globals tokenize during start-up.

/// ASCII is most of most text; classify it without calling ICU.
struct AsciiClasses {
  CharClass table[128] = {};
};
constexpr AsciiClasses makeAsciiClasses() {
  AsciiClasses result;
  for (uint32_t c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      result.table[c] = CharClass::Letter;
    else if (c >= '0' && c <= '9')
      result.table[c] = CharClass::Number;
    else if ((c >= 0x09 && c <= 0x0D) || c == ' ')
      result.table[c] = CharClass::Space;
    else
      result.table[c] = CharClass::Other;
  }
  return result;
}
constexpr AsciiClasses asciiClasses = makeAsciiClasses();

/// GPT-2's bytes_to_unicode: bytes that are printable Latin-1 keep their
/// value; the other 68 go, in byte order, to U+0100, U+0101, ...
struct ByteAlphabet {
  uint32_t toCodePoint[256] = {};
  int16_t fromCodePoint[512] = {}; // every image is below U+0144
};
constexpr ByteAlphabet makeByteAlphabet() {
  ByteAlphabet result;
  for (int16_t &slot : result.fromCodePoint)
    slot = -1;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    result.toCodePoint[b] = printable ? b : next++;
    result.fromCodePoint[result.toCodePoint[b]] = static_cast<int16_t>(b);
  }
  return result;
}
constexpr ByteAlphabet byteAlphabet = makeByteAlphabet();
} // namespace

CharClass qn::tokenizer::classifyCodePoint(uint32_t cp) {
  if (cp < 128)
    return asciiClasses.table[cp];
  UChar32 c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c))
    return CharClass::Space;
  uint32_t mask = U_GET_GC_MASK(c);
  if (mask & U_GC_L_MASK)
    return CharClass::Letter;
  if (mask & U_GC_N_MASK)
    return CharClass::Number;
  if (mask & U_GC_M_MASK)
    return CharClass::Mark;
  return CharClass::Other;
}

DecodedChar qn::tokenizer::decodeUtf8(llvm::StringRef text, size_t pos) {
  auto byteAt = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  uint8_t lead = byteAt(pos);
  DecodedChar invalid{lead, 1, false};
  if (lead < 0x80)
    return {lead, 1, true};
  uint32_t length, cp, minimum;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, cp = lead & 0x1F, minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, cp = lead & 0x0F, minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, cp = lead & 0x07, minimum = 0x10000;
  } else {
    return invalid;
  }
  if (pos + length > text.size())
    return invalid;
  for (uint32_t k = 1; k < length; ++k) {
    uint8_t b = byteAt(pos + k);
    if ((b & 0xC0) != 0x80)
      return invalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return invalid;
  return {cp, length, true};
}

void qn::tokenizer::appendUtf8(uint32_t cp, std::string &out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t qn::tokenizer::completeUtf8PrefixLength(llvm::StringRef bytes) {
  // Only the last (up to) three bytes can be the start of an unfinished
  // sequence. Find the last lead byte among them and check whether the
  // continuation bytes after it are fewer than it announces.
  size_t n = bytes.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    uint8_t b = static_cast<uint8_t>(bytes[n - back]);
    if ((b & 0xC0) == 0x80)
      continue; // continuation byte: keep looking for its lead
    size_t need = 0;
    if (b >= 0xC2 && b <= 0xDF)
      need = 2;
    else if (b >= 0xE0 && b <= 0xEF)
      need = 3;
    else if (b >= 0xF0 && b <= 0xF4)
      need = 4;
    // An unfinished sequence is held back; anything else (ASCII, a complete
    // sequence, a byte that can never start one) is ready.
    return back < need ? n - back : n;
  }
  return n;
}

uint32_t qn::tokenizer::byteToCodePoint(uint8_t byte) {
  return byteAlphabet.toCodePoint[byte];
}

int qn::tokenizer::codePointToByte(uint32_t cp) {
  if (cp >= 512)
    return -1;
  return byteAlphabet.fromCodePoint[cp];
}

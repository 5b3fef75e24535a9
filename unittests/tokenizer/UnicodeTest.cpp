//===- UnicodeTest.cpp - UTF-8, character classes, byte alphabet ----------===//
#include "tokenizer/Unicode.h"

#include "gtest/gtest.h"

#include <set>

using namespace qn::tokenizer;

namespace {

TEST(Unicode, DecodesValidSequences) {
  // "aé€😀": 1, 2, 3 and 4 bytes.
  std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  DecodedChar a = decodeUtf8(text, 0);
  EXPECT_EQ(a.codePoint, 0x61u);
  EXPECT_EQ(a.length, 1u);
  DecodedChar e = decodeUtf8(text, 1);
  EXPECT_EQ(e.codePoint, 0xE9u);
  EXPECT_EQ(e.length, 2u);
  DecodedChar euro = decodeUtf8(text, 3);
  EXPECT_EQ(euro.codePoint, 0x20ACu);
  EXPECT_EQ(euro.length, 3u);
  DecodedChar smile = decodeUtf8(text, 6);
  EXPECT_EQ(smile.codePoint, 0x1F600u);
  EXPECT_EQ(smile.length, 4u);
  EXPECT_TRUE(a.valid && e.valid && euro.valid && smile.valid);
}

TEST(Unicode, InvalidBytesDecodeAsSingleBytes) {
  for (const char *bad : {"\x80", "\xC0\xAF" /*overlong*/, "\xC3" /*cut*/,
                          "\xED\xA0\x80" /*surrogate*/, "\xF5\x80\x80\x80",
                          "\xE2\x28\xA1", "\xFF"}) {
    DecodedChar d = decodeUtf8(bad, 0);
    EXPECT_FALSE(d.valid) << bad;
    EXPECT_EQ(d.length, 1u);
  }
}

TEST(Unicode, AppendUtf8InvertsDecode) {
  for (uint32_t cp :
       {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    appendUtf8(cp, s);
    DecodedChar d = decodeUtf8(s, 0);
    EXPECT_TRUE(d.valid);
    EXPECT_EQ(d.codePoint, cp);
    EXPECT_EQ(d.length, s.size());
  }
}

TEST(Unicode, CompletePrefixHoldsBackUnfinishedCharacters) {
  EXPECT_EQ(completeUtf8PrefixLength(""), 0u);
  EXPECT_EQ(completeUtf8PrefixLength("ab"), 2u);
  EXPECT_EQ(completeUtf8PrefixLength("ab\xC3"), 2u);
  EXPECT_EQ(completeUtf8PrefixLength("ab\xC3\xA9"), 4u);
  EXPECT_EQ(completeUtf8PrefixLength("\xE2\x82"), 0u);
  EXPECT_EQ(completeUtf8PrefixLength("x\xF0\x9F\x98"), 1u);
  EXPECT_EQ(completeUtf8PrefixLength("x\xF0\x9F\x98\x80"), 5u);
  // Bytes that can never start a character are not held back.
  EXPECT_EQ(completeUtf8PrefixLength("a\xFF"), 2u);
  EXPECT_EQ(completeUtf8PrefixLength("a\x80"), 2u);
}

TEST(Unicode, ClassifiesLettersNumbersSpaces) {
  for (uint32_t cp :
       {uint32_t('a'), uint32_t('Z'), 0xE9u /*é*/, 0x3B1u /*α*/, 0x416u /*Ж*/,
        0x6F22u /*漢*/, 0xD55Cu /*한*/, 0x3072u /*ひ*/})
    EXPECT_EQ(classifyCodePoint(cp), CharClass::Letter) << cp;
  for (uint32_t cp : {uint32_t('0'), uint32_t('9'), 0x663u /*Arabic-Indic 3*/,
                      0xB2u /*²*/, 0xBDu /*½*/, 0x2163u /*Roman IV*/})
    EXPECT_EQ(classifyCodePoint(cp), CharClass::Number) << cp;
  for (uint32_t cp : {0x20u, 0x09u, 0x0Au, 0x0Du, 0x0Bu, 0x0Cu, 0x85u, 0xA0u,
                      0x2003u, 0x2028u, 0x3000u})
    EXPECT_EQ(classifyCodePoint(cp), CharClass::Space) << cp;
  for (uint32_t cp : {uint32_t('!'), uint32_t('\''), uint32_t('_'), 0x0u,
                      0x3002u /*。*/, 0x1F600u /*😀*/, 0x200Du /*ZWJ, Cf*/,
                      0x1F3FBu /*skin tone, Sk*/, 0x2764u /*heart, So*/})
    EXPECT_EQ(classifyCodePoint(cp), CharClass::Other) << cp;
  for (uint32_t cp : {0x300u /*combining grave, Mn*/, 0x94Du /*virama, Mn*/,
                      0x903u /*visarga, Mc*/, 0x20DDu /*enclosing circle, Me*/,
                      0xFE0Fu /*variation selector 16, Mn*/})
    EXPECT_EQ(classifyCodePoint(cp), CharClass::Mark) << cp;
}

TEST(Unicode, ByteAlphabetIsGpt2s) {
  // GPT-2's bytes_to_unicode, written out independently: printable
  // Latin-1 bytes map to themselves, the others to 256, 257, ... in order.
  std::set<uint32_t> images;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool keeps = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) ||
                 (b >= 174 && b <= 255);
    uint32_t expected = keeps ? b : next++;
    EXPECT_EQ(byteToCodePoint(static_cast<uint8_t>(b)), expected) << b;
    EXPECT_EQ(codePointToByte(expected), static_cast<int>(b));
    images.insert(expected);
  }
  EXPECT_EQ(images.size(), 256u);
  EXPECT_EQ(byteToCodePoint(' '), 0x120u);  // 'Ġ'
  EXPECT_EQ(byteToCodePoint('\n'), 0x10Au); // 'Ċ'
  EXPECT_EQ(codePointToByte(' '), -1);
  EXPECT_EQ(codePointToByte(0x144), -1);
  EXPECT_EQ(codePointToByte(0x10FFFF), -1);
}

} // namespace

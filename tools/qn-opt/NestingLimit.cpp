//===- NestingLimit.cpp - refuse IR nested deeper than the parser's stack -===//

#include "NestingLimit.h"

#include "gguf/InputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

namespace qn::opt {

llvm::Error checkNestingDepth(llvm::MemoryBufferRef buffer, unsigned limit) {
  llvm::StringRef text = buffer.getBuffer();
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  for (size_t i = 0, n = text.size(); i < n; ++i) {
    const char c = text[i];
    switch (c) {
    case '\n':
      ++line;
      lineStart = i + 1;
      break;
    case '"': // a string literal: skip to its closing quote
      for (++i; i < n && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/': // a `//` comment: skip to the end of the line
      if (i + 1 < n && text[i + 1] == '/')
        while (i + 1 < n && text[i + 1] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > limit)
        return llvm::createStringError(
            llvm::formatv("{0}:{1}:{2}: IR nested deeper than {3} levels "
                          "(brackets, regions, attributes or types); qn-opt "
                          "refuses it rather than overflow the parser's stack",
                          buffer.getBufferIdentifier(), line, i - lineStart + 1,
                          limit)
                .str());
      break;
    case ')':
    case ']':
    case '}':
      depth -= depth > 0;
      break;
    case '>':
      // `->` (function types) and `>=` (integer sets) close nothing.
      if ((i > 0 && text[i - 1] == '-') || (i + 1 < n && text[i + 1] == '='))
        break;
      depth -= depth > 0;
      break;
    default:
      break;
    }
  }
  return llvm::Error::success();
}

} // namespace qn::opt

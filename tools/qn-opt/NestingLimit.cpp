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

llvm::Error checkInputNesting(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError((path + ": " + why).str());
  };
  if (path != "-") {
    auto buf = qn::getInputFile(path, /*isText=*/false,
                                /*requiresNullTerminator=*/false);
    if (!buf) // worded as MlirOptMain words it
      return llvm::createStringError("cannot open input file '" + path +
                                     "': " + buf.getError().message());
    return checkNestingDepth((*buf)->getMemBufferRef());
  }
  auto buf = llvm::MemoryBuffer::getSTDIN();
  if (!buf)
    return fail(buf.getError().message());
  if (llvm::Error err = checkNestingDepth((*buf)->getMemBufferRef()))
    return err;
  int fd;
  llvm::SmallString<128> tmp;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("qn-opt-stdin", "mlir", fd, tmp))
    return fail("cannot keep standard input: " + ec.message());
  llvm::sys::fs::remove(tmp); // lives on through fd only
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/false);
    os << (*buf)->getBuffer();
    os.flush();
    if (os.has_error()) {
      std::error_code ec = os.error();
      os.clear_error();
      ::close(fd);
      return fail("cannot keep standard input: " + ec.message());
    }
  }
  if (::lseek(fd, 0, SEEK_SET) != 0 || ::dup2(fd, STDIN_FILENO) < 0) {
    ::close(fd);
    return fail("cannot keep standard input");
  }
  ::close(fd);
  return llvm::Error::success();
}

} // namespace qn::opt

//===- InputFile.cpp - read input files, refusing special files -----------===//

#include "gguf/InputFile.h"

#include "llvm/Support/FileSystem.h"

#include <string>

namespace qn {

namespace {
using llvm::sys::fs::file_type;

/// Messages for the file types that are refused; the value is the
/// file_type, so the category needs no table of its own.
class SpecialFileCategory : public std::error_category {
public:
  const char *name() const noexcept override { return "qn.input-file"; }
  std::string message(int value) const override {
    switch (static_cast<file_type>(value)) {
    case file_type::directory_file:
      return "is a directory, not a regular file";
    case file_type::fifo_file:
      return "is a FIFO (named pipe), not a regular file";
    case file_type::character_file:
      return "is a character device, not a regular file";
    case file_type::block_file:
      return "is a block device, not a regular file";
    case file_type::socket_file:
      return "is a socket, not a regular file";
    default:
      return "is not a regular file";
    }
  }
};

const std::error_category &specialFileCategory() {
  static SpecialFileCategory category;
  return category;
}
} // namespace

std::error_code checkRegularFile(const llvm::Twine &path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return ec;
  if (status.type() == file_type::regular_file)
    return {};
  return {static_cast<int>(status.type()), specialFileCategory()};
}

llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>>
getInputFile(const llvm::Twine &path, bool isText,
             bool requiresNullTerminator) {
  if (std::error_code ec = checkRegularFile(path))
    return ec;
  return llvm::MemoryBuffer::getFile(path, isText, requiresNullTerminator);
}

llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>>
getInputFileOrSTDIN(const llvm::Twine &path, bool isText,
                    bool requiresNullTerminator) {
  if (path.str() == "-")
    return llvm::MemoryBuffer::getSTDIN();
  return getInputFile(path, isText, requiresNullTerminator);
}

} // namespace qn

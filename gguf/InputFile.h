//===- InputFile.h - read input files, refusing special files ---*- C++ -*-===//
//
// Every file the tools read (models, state files, token/prompt files, saved
// logits, manifests, dumps) goes through these instead of
// llvm::MemoryBuffer::getFile. They stat the path first and refuse anything
// that is not a regular file: opening a FIFO with no writer blocks forever,
// reading /dev/zero never ends (and allocates until the process dies), and a
// directory or socket is never what the user meant. The error is an
// std::error_code, so callers that print `getError().message()` after the
// path keep working and name the file.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_INPUTFILE_H
#define QN_GGUF_INPUTFILE_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/ErrorOr.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <system_error>

namespace qn {

/// Success if `path` (after following links) is a regular file; otherwise
/// an error whose message says what it is ("is a FIFO, not a regular file")
/// or the OS error of stat.
std::error_code checkRegularFile(const llvm::Twine &path);

/// MemoryBuffer::getFile after checkRegularFile.
llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>>
getInputFile(const llvm::Twine &path, bool isText = false,
             bool requiresNullTerminator = true);

/// Same, except that "-" reads standard input (as getFileOrSTDIN).
llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>>
getInputFileOrSTDIN(const llvm::Twine &path, bool isText = false,
                    bool requiresNullTerminator = true);

} // namespace qn

#endif // QN_GGUF_INPUTFILE_H

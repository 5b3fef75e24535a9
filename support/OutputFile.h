//===- OutputFile.h - outputs that never destroy inputs or old files -*- C++
//-*-===//
//
// Every file the tools write goes through here (docs/reliability.md):
//  - an output that is the same file as an input (same device and inode,
//    links followed: a symlink, a hard link, ./m.gguf vs $PWD/m.gguf) is
//    refused before anything is opened for writing, because truncating a
//    mapped input kills the reader with SIGBUS and leaves the input cut;
//  - the bytes go to a temporary file next to the destination, which is
//    fsynced and renamed over it only when complete: a failed, interrupted
//    or killed run leaves the old file intact and nothing partial under the
//    final name (the temporary is removed on failure and on SIGINT/SIGTERM);
//  - every write is checked: a full disk or a read-only directory becomes an
//    llvm::Error naming the path and the OS message, never LLVM's fatal
//    "IO failure on output stream".
// Special files (/dev/full, /dev/null, a FIFO) cannot be renamed over and are
// written in place, with the same error checks; so is "-", standard output.
//
//===----------------------------------------------------------------------===//

#ifndef QN_SUPPORT_OUTPUTFILE_H
#define QN_SUPPORT_OUTPUTFILE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace qn::support {

/// Fails when `output` names the same file as one of `inputs` (empty names
/// and "-" are skipped; names that do not exist cannot clash).
llvm::Error checkNotAnInput(llvm::StringRef output,
                            llvm::ArrayRef<std::string> inputs);

/// An output being written. Nothing appears under the final name until
/// commit(); destroying an uncommitted OutputFile removes its temporary.
class OutputFile {
public:
  /// What happens when the destination is a symbolic link.
  enum class Links {
    /// Write the file the link points to (the link stays): user outputs.
    Follow,
    /// Replace the link itself, and any special file, by a regular file:
    /// caches, whose entries may be damaged or foreign.
    Replace,
  };

  /// Checks `path` against `inputs`, then opens a temporary file in its
  /// directory (or the special file itself).
  static llvm::Expected<OutputFile> create(llvm::StringRef path,
                                           llvm::ArrayRef<std::string> inputs,
                                           Links links = Links::Follow);
  OutputFile(OutputFile &&other);
  OutputFile &operator=(OutputFile &&) = delete;
  ~OutputFile();

  llvm::raw_ostream &os() { return *stream; }
  /// The name given to create (for messages).
  llvm::StringRef path() const { return name; }

  /// Checks that every write succeeded, fsyncs and renames the temporary
  /// over the destination. On failure the temporary is removed and the old
  /// file (if any) is untouched. Call once.
  llvm::Error commit();
  /// Drops what was written; the destination is untouched.
  void discard();

private:
  OutputFile() = default;
  llvm::Error writeError(std::error_code ec) const;

  std::string name;
  /// What the temporary is renamed to: `name` with links resolved.
  std::string destination;
  /// Absent for special files, written in place.
  std::optional<llvm::sys::fs::TempFile> temp;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
  bool finished = false;
};

/// Writes `path` through an OutputFile: `write` fills the stream; when it
/// fails nothing is committed and its error is returned.
llvm::Error
writeFileAtomically(llvm::StringRef path, llvm::ArrayRef<std::string> inputs,
                    llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write,
                    OutputFile::Links links = OutputFile::Links::Follow);

} // namespace qn::support

#endif // QN_SUPPORT_OUTPUTFILE_H

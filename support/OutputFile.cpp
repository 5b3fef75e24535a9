//===- OutputFile.cpp - outputs that never destroy inputs or old files ----===//

#include "support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Errno.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <unistd.h>

namespace qn::support {

namespace {
llvm::Error cannotWrite(llvm::StringRef path, std::error_code ec) {
  if (path == "-")
    return llvm::createStringError(ec, "error writing to standard output: " +
                                           ec.message());
  return llvm::createStringError(ec, "cannot write '" + path +
                                         "': " + ec.message());
}
} // namespace

llvm::Error checkNotAnInput(llvm::StringRef output,
                            llvm::ArrayRef<std::string> inputs) {
  // getUniqueID stats (follows links): device + inode name the file itself,
  // whatever path, link or hard link leads to it.
  llvm::sys::fs::UniqueID outID;
  if (output.empty() || output == "-" ||
      llvm::sys::fs::getUniqueID(output, outID))
    return llvm::Error::success();
  for (const std::string &input : inputs) {
    llvm::sys::fs::UniqueID inID;
    if (input.empty() || input == "-" ||
        llvm::sys::fs::getUniqueID(input, inID) || inID != outID)
      continue;
    return llvm::createStringError(
        std::make_error_code(std::errc::file_exists),
        "output '" + output + "' is the same file as the input '" + input +
            "'; refusing to overwrite an input");
  }
  return llvm::Error::success();
}

llvm::Expected<OutputFile>
OutputFile::create(llvm::StringRef path, llvm::ArrayRef<std::string> inputs,
                   Links links) {
  if (path.empty())
    return llvm::createStringError("no output file name given");
  if (llvm::Error err = checkNotAnInput(path, inputs))
    return std::move(err);
  OutputFile out;
  out.name = path.str();
  out.destination = path.str();
  if (path == "-") {
    // Standard output, in place; what llvm::outs() holds goes first.
    llvm::outs().flush();
    out.stream = std::make_unique<llvm::raw_fd_ostream>(STDOUT_FILENO,
                                                        /*shouldClose=*/false);
    return std::move(out);
  }

  llvm::sys::fs::file_status st;
  const bool exists = !llvm::sys::fs::status(path, st);
  if (exists && st.type() == llvm::sys::fs::file_type::directory_file)
    return cannotWrite(path, std::make_error_code(std::errc::is_a_directory));
  if (exists && st.type() != llvm::sys::fs::file_type::regular_file &&
      links == Links::Follow) {
    // /dev/full, /dev/null, a FIFO: nothing to rename over.
    std::error_code ec;
    out.stream = std::make_unique<llvm::raw_fd_ostream>(path, ec,
                                                        llvm::sys::fs::OF_None);
    if (ec) {
      out.stream->clear_error();
      out.stream.reset();
      return cannotWrite(path, ec);
    }
    return std::move(out);
  }
  if (exists && links == Links::Follow) {
    // Rename over the file a link points to, so the link survives.
    llvm::SmallString<256> real;
    if (!llvm::sys::fs::real_path(path, real))
      out.destination = real.str().str();
  }

  // The temporary lives beside the destination: the rename stays inside one
  // file system, so it is atomic.
  llvm::SmallString<256> model(llvm::sys::path::parent_path(out.destination));
  llvm::sys::path::append(model,
                          "." + llvm::sys::path::filename(out.destination) +
                              ".tmp-%%%%%%%%");
  auto temp = llvm::sys::fs::TempFile::create(model);
  if (!temp)
    return cannotWrite(path, llvm::errorToErrorCode(temp.takeError()));
  out.temp.emplace(std::move(*temp));
  // An overwritten file keeps its permissions (a new one gets 0666 & ~umask).
  if (exists && st.type() == llvm::sys::fs::file_type::regular_file)
    (void)llvm::sys::fs::setPermissions(out.temp->FD, st.permissions());
  out.stream = std::make_unique<llvm::raw_fd_ostream>(out.temp->FD,
                                                      /*shouldClose=*/false);
  return std::move(out);
}

OutputFile::OutputFile(OutputFile &&other)
    : name(std::move(other.name)), destination(std::move(other.destination)),
      stream(std::move(other.stream)), finished(other.finished) {
  if (other.temp) {
    temp.emplace(std::move(*other.temp));
    other.temp.reset();
  }
  other.finished = true;
}

OutputFile::~OutputFile() {
  if (!finished)
    discard();
}

llvm::Error OutputFile::writeError(std::error_code ec) const {
  return cannotWrite(name, ec);
}

void OutputFile::discard() {
  finished = true;
  if (stream) {
    // Flush into the doomed temporary and forget any error, so that the
    // stream's destructor does not call report_fatal_error.
    stream->flush();
    stream->clear_error();
    stream.reset();
  }
  if (temp) {
    llvm::consumeError(temp->discard());
    temp.reset();
  }
}

llvm::Error OutputFile::commit() {
  if (finished)
    return llvm::createStringError("'" + name + "' was already written");
  stream->flush();
  if (stream->has_error()) {
    std::error_code ec = stream->error();
    discard();
    return writeError(ec);
  }
  if (!temp) {
    if (name != "-")
      stream->close();
    std::error_code ec = stream->error();
    stream->clear_error();
    stream.reset();
    finished = true;
    return ec ? writeError(ec) : llvm::Error::success();
  }
  // The data must be on disk before the name points at it: a crash after
  // the rename must not leave an empty or partial file.
  if (::fsync(temp->FD) != 0) {
    std::error_code ec(errno, std::generic_category());
    discard();
    return writeError(ec);
  }
  stream.reset();
  finished = true;
  llvm::Error err = temp->keep(destination);
  temp.reset();
  if (err)
    return writeError(llvm::errorToErrorCode(std::move(err)));
  return llvm::Error::success();
}

llvm::Error
writeFileAtomically(llvm::StringRef path, llvm::ArrayRef<std::string> inputs,
                    llvm::function_ref<llvm::Error(llvm::raw_ostream &)> write,
                    OutputFile::Links links) {
  auto out = OutputFile::create(path, inputs, links);
  if (!out)
    return out.takeError();
  if (llvm::Error err = write(out->os())) {
    out->discard();
    return err;
  }
  return out->commit();
}

} // namespace qn::support

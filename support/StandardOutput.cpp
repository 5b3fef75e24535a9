//===- StandardOutput.cpp - report failed writes to stdout ----------------===//

#include "support/StandardOutput.h"

#include "llvm/Support/raw_ostream.h"

namespace qn::support {

int checkStandardOutput(llvm::StringRef tool, int exitCode) {
  llvm::raw_fd_ostream &out = llvm::outs();
  out.flush();
  if (!out.has_error())
    return exitCode;
  std::error_code ec = out.error();
  out.clear_error();
  llvm::errs() << tool << ": error writing to standard output: " << ec.message()
               << "\n";
  return 1;
}

} // namespace qn::support

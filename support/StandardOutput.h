//===- StandardOutput.h - report failed writes to stdout --------*- C++ -*-===//
//
// llvm::outs() records a failed write (`qn-gguf info m.gguf > /dev/full`) and,
// left alone, its destructor ends the process with LLVM's fatal "IO failure
// on output stream". Each tool's main returns through checkStandardOutput so
// the user gets a message and exit code 1 instead.
//
//===----------------------------------------------------------------------===//

#ifndef QN_SUPPORT_STANDARDOUTPUT_H
#define QN_SUPPORT_STANDARDOUTPUT_H

#include "llvm/ADT/StringRef.h"

namespace qn::support {

/// Flushes llvm::outs(). When a write to it failed, prints "<tool>: error
/// writing to standard output: <reason>", clears the error and returns 1;
/// otherwise returns `exitCode`.
int checkStandardOutput(llvm::StringRef tool, int exitCode);

} // namespace qn::support

#endif // QN_SUPPORT_STANDARDOUTPUT_H

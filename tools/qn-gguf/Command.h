//===- Command.h - qn-gguf subcommand registry ------------------*- C++ -*-===//
//
// qn-gguf inspects and rewrites GGUF files. Each subcommand lives in its own
// file: an llvm::cl::SubCommand, its options (cl::sub), and a static
// CommandRegistration binding it to its entry function.
//
//===----------------------------------------------------------------------===//

#ifndef QN_TOOLS_QNGGUF_COMMAND_H
#define QN_TOOLS_QNGGUF_COMMAND_H

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

namespace qn::gguftool {

/// Entry of a subcommand; returns the process exit code.
using CommandFn = int (*)();

struct CommandRegistration {
  CommandRegistration(llvm::cl::SubCommand *sub, CommandFn fn);
};

/// Prints "qn-gguf <cmd>: <error>" to stderr and returns 1.
int reportError(llvm::StringRef cmd, llvm::Error err);

} // namespace qn::gguftool

#endif // QN_TOOLS_QNGGUF_COMMAND_H

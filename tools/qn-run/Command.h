//===- Command.h - qn-run subcommand registry -------------------*- C++ -*-===//
//
// qn-run is one executable with llama.cpp-like subcommands (`logits`,
// `tokenize`, `bench`, ...). Each subcommand lives in its own file: it
// declares an llvm::cl::SubCommand, its options with cl::sub(...), and a
// static CommandRegistration binding the subcommand to its entry function.
// The plain invocation (no subcommand) is text generation.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOOLS_QNRUN_COMMAND_H
#define QN_TOOLS_QNRUN_COMMAND_H

#include "llvm/Support/CommandLine.h"

namespace qn::run {

/// Entry of a subcommand; returns the process exit code.
using CommandFn = int (*)();

/// Registers `fn` to run when `sub` is the active subcommand. Use
/// `&llvm::cl::SubCommand::getTopLevel()` for the plain invocation.
struct CommandRegistration {
  CommandRegistration(llvm::cl::SubCommand *sub, CommandFn fn);
};

} // namespace qn::run

#endif // QN_TOOLS_QNRUN_COMMAND_H

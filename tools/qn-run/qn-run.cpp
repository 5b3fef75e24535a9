//===- qn-run.cpp - the qn executor -------------------------------------===//
//
// Dispatches to the subcommand registered for the parsed llvm::cl
// subcommand. Subcommands register themselves (see Command.h), so adding one
// is adding a file.
//
//===----------------------------------------------------------------------===//
#include "Command.h"

#include "support/StandardOutput.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <utility>

using namespace llvm;

namespace qn::run {
namespace {
SmallVector<std::pair<cl::SubCommand *, CommandFn>, 8> &registry() {
  static SmallVector<std::pair<cl::SubCommand *, CommandFn>, 8> commands;
  return commands;
}
} // namespace

CommandRegistration::CommandRegistration(cl::SubCommand *sub, CommandFn fn) {
  registry().push_back({sub, fn});
}
} // namespace qn::run

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "qn-run: run Qwen3-Next GGUF models with the qn compiler and runtime\n");
  // A failed write to stdout (a full disk) is reported, not left to
  // llvm::outs()'s destructor, which would abort.
  for (auto &[sub, fn] : qn::run::registry())
    if (*sub)
      return qn::support::checkStandardOutput("qn-run", fn());
  for (auto &[sub, fn] : qn::run::registry())
    if (sub == &cl::SubCommand::getTopLevel())
      return qn::support::checkStandardOutput("qn-run", fn());
  errs() << "qn-run: no command given; see qn-run --help\n";
  return 1;
}

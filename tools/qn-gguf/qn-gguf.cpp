//===- qn-gguf.cpp - inspect and rewrite GGUF files -----------------------===//
//
//   qn-gguf info FILE [--json]            metadata and tensor table
//   qn-gguf describe FILE [--json]        the qwen3next model, validated
//   qn-gguf dequant FILE TENSOR -o OUT    a tensor as raw little-endian f32
//   qn-gguf to-split IN OUT               legacy ssm_in -> attn_qkv+attn_gate
//   qn-gguf diff A B                      compare tensors (and metadata)
//   qn-gguf requant IN OUT --type T       weight matrices in another format
//   qn-gguf split IN PREFIX --parts N     gguf-split parts (open the first)
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "support/StandardOutput.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <utility>

using namespace llvm;

namespace qn::gguftool {
namespace {
SmallVector<std::pair<cl::SubCommand *, CommandFn>, 8> &registry() {
  static SmallVector<std::pair<cl::SubCommand *, CommandFn>, 8> commands;
  return commands;
}
} // namespace

CommandRegistration::CommandRegistration(cl::SubCommand *sub, CommandFn fn) {
  registry().push_back({sub, fn});
}

int reportError(StringRef cmd, Error err) {
  errs() << "qn-gguf " << cmd << ": " << toString(std::move(err)) << "\n";
  return 1;
}
} // namespace qn::gguftool

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "qn-gguf: inspect and rewrite GGUF files\n");
  for (auto &[sub, fn] : qn::gguftool::registry())
    if (*sub)
      return qn::support::checkStandardOutput("qn-gguf", fn());
  errs() << "qn-gguf: no command given; see qn-gguf --help\n";
  return 1;
}

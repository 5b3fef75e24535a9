//===- Engine.h - --engine compiled|direct for qn-run subcommands -*- C++
//-*-===//
//
// Every subcommand that evaluates the model offers `--engine`:
//   compiled (default)  GGUF -> qn IR -> qn-cpu-pipeline -> dispatch plans +
//                       JIT-compiled elementwise kernels (codegen/), run by
//                       the runtime's plan executor;
//   direct              the runtime's hand-written layer loop: the reference
//                       twin the compiled plans are tested against.
// and `--jit-cache DIR` (where compiled kernels are kept; "" = no cache),
// and `--activations q8|q8prefill|f32` (what the matmuls multiply with: the
// compiled engine's qn-select-activations mode, the direct engine's
// setMatmulActivations).
//
//===----------------------------------------------------------------------===//

#ifndef QN_TOOLS_QNRUN_ENGINE_H
#define QN_TOOLS_QNRUN_ENGINE_H

#include "codegen/CompileModel.h"
#include "runtime/Context.h"
#include "runtime/Model.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace qn::run {

/// The --engine and --jit-cache options of one subcommand.
struct EngineFlags {
  EngineFlags(llvm::cl::SubCommand &sub, llvm::cl::OptionCategory &cat);
  llvm::cl::opt<std::string> engine;
  llvm::cl::opt<std::string> jitCache;
  llvm::cl::opt<bool> fuseRepeatBroadcast;
  llvm::cl::opt<bool> fuseEpilogues;
  llvm::cl::opt<std::string> activations;
};

/// What the compiled engine keeps alive while contexts run its plans.
struct Engine {
  std::unique_ptr<codegen::CompiledModel> compiled; // null: direct engine
};

/// Checks the flags and, for the compiled engine, compiles `model` with
/// params.kvType and params.deltaMode and points params.prefillProgram /
/// decodeProgram at the plans. With `verbose`, one line about the compile
/// goes to stderr. `cmd` names the subcommand in messages.
llvm::Expected<Engine> prepareEngine(const EngineFlags &flags,
                                     const runtime::Model &model,
                                     runtime::ContextParams &params,
                                     bool verbose = false);

} // namespace qn::run

#endif // QN_TOOLS_QNRUN_ENGINE_H

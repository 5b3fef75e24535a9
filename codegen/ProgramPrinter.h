//===- ProgramPrinter.h - readable listing of a runtime plan ----*- C++ -*-===//
//
// Prints a runtime::plan::Program (runtime/plan/Program.h) for people and
// FileCheck: `qn-run ir --emit plan`. Plain C++ over the plan's data (no
// MLIR), so runtime-side tools may use it too. Format in docs/codegen.md.
//
//===----------------------------------------------------------------------===//

#ifndef QN_CODEGEN_PROGRAMPRINTER_H
#define QN_CODEGEN_PROGRAMPRINTER_H

#include "runtime/plan/Program.h"

#include "llvm/Support/raw_ostream.h"

namespace qn::codegen {

/// A header line, one line per value (kind, name, type and shape, slot or
/// view), one line per dispatch (kind, name, operands -> results,
/// attributes, kernel name). Symbolic dimensions print as T (tokens), R
/// (output rows) and C (context rows).
void printProgram(llvm::raw_ostream &os, const runtime::plan::Program &program);

/// The listing's name of a delta net's `i0` (`cost-model`, `recurrent`,
/// `chunked`, `fused`).
const char *deltaImplName(int64_t impl);

} // namespace qn::codegen

#endif // QN_CODEGEN_PROGRAMPRINTER_H

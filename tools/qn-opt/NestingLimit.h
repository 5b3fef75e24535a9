//===- NestingLimit.h - refuse IR nested too deep to parse -----*- C++ -*-===//
//
// MLIR's parser recurses once per nested region, attribute, type or
// parenthesis, so 10,000 levels of `[[[[...` overflow the stack (SIGSEGV)
// before any diagnostic. qn-opt scans the buffer for bracket depth first,
// skipping string literals and `//` comments, and refuses anything deeper
// than kMaxIRNesting with an error at the line and column where the limit
// is crossed. Real qn IR nests a few levels (module, func, scf.for, types).
//
//===----------------------------------------------------------------------===//

#ifndef QN_TOOLS_QNOPT_NESTINGLIMIT_H
#define QN_TOOLS_QNOPT_NESTINGLIMIT_H

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

namespace qn::opt {

/// Deeper nesting than any real IR; shallow enough for the parser's
/// recursion to fit an 8 MiB stack.
constexpr unsigned kMaxIRNesting = 512;

/// Fails with "<buffer>:<line>:<col>: IR nested deeper than N levels" at the
/// first bracket ( [ { < that opens level N + 1. `->` and `>=` are not
/// closing brackets.
llvm::Error checkNestingDepth(llvm::MemoryBufferRef buffer,
                              unsigned limit = kMaxIRNesting);


} // namespace qn::opt

#endif // QN_TOOLS_QNOPT_NESTINGLIMIT_H

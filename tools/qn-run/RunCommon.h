//===- RunCommon.h - helpers shared by qn-run subcommands -------*- C++ -*-===//

#ifndef QN_TOOLS_QNRUN_RUNCOMMON_H
#define QN_TOOLS_QNRUN_RUNCOMMON_H

#include "runtime/ops/Attention.h"
#include "support/FlagTable.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qn::run {

/// Parses "1,2,3" (commas and/or whitespace between ids). Fails on anything
/// that is not a non-negative integer fitting int32.
llvm::Expected<std::vector<int32_t>> parseTokenList(llvm::StringRef text);

/// Reads a file of token ids in the same syntax.
llvm::Expected<std::vector<int32_t>> readTokenFile(llvm::StringRef path);

/// "f16" / "f32" (case-insensitive).
llvm::Expected<runtime::KVType> parseKVType(llvm::StringRef name);

/// Positions are int32 in a batch, so no count of tokens may exceed this.
constexpr int64_t kMaxPositions = 2147483647;

// The numeric flag tables live in support/ (qn-gguf uses them too).
using support::checkFlagRanges;
using support::FlagDomain;
using support::FlagRange;
using support::FlagTable;

/// -t: 0 (one thread per hardware thread) to ThreadPool::kMaxThreads.
FlagDomain threadsDomain(llvm::cl::opt<unsigned> &threads);

/// `a + b` positions (prompt + generated): fails naming both parts when the
/// sum overflows or exceeds kMaxPositions, instead of a nonsense context.
llvm::Expected<int64_t> addPositions(llvm::StringRef whatA, int64_t a,
                                     llvm::StringRef whatB, int64_t b);

/// Prints "qn-run <cmd>: <message>" to stderr and returns 1.
int fail(llvm::StringRef cmd, llvm::Error err);
int fail(llvm::StringRef cmd, const llvm::Twine &message);

} // namespace qn::run

#endif // QN_TOOLS_QNRUN_RUNCOMMON_H

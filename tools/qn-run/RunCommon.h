//===- RunCommon.h - helpers shared by qn-run subcommands -------*- C++ -*-===//

#ifndef QN_TOOLS_QNRUN_RUNCOMMON_H
#define QN_TOOLS_QNRUN_RUNCOMMON_H

#include "runtime/ops/Attention.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qn::run {

/// Parses "1,2,3" (commas and/or whitespace between ids). Fails on anything
/// that is not a non-negative integer fitting int32.
llvm::Expected<std::vector<int32_t>> parseTokenList(llvm::StringRef text);

/// Reads a file of token ids in the same syntax.
llvm::Expected<std::vector<int32_t>> readTokenFile(llvm::StringRef path);

/// "f16" / "f32" (case-insensitive).
llvm::Expected<runtime::KVType> parseKVType(llvm::StringRef name);

/// Prints "qn-run <cmd>: <message>" to stderr and returns 1.
int fail(llvm::StringRef cmd, llvm::Error err);
int fail(llvm::StringRef cmd, const llvm::Twine &message);

} // namespace qn::run

#endif // QN_TOOLS_QNRUN_RUNCOMMON_H

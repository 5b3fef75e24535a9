//===- RunCommon.h - helpers shared by qn-run subcommands -------*- C++ -*-===//

#ifndef QN_TOOLS_QNRUN_RUNCOMMON_H
#define QN_TOOLS_QNRUN_RUNCOMMON_H

#include "runtime/ops/Attention.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
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

/// The domain of one integer flag: each command lists its flags in one
/// table and checks it before reading anything.
struct FlagRange {
  llvm::StringRef flag; // as the user types it: "-t", "--ubatch"
  int64_t value, lo, hi;
};

/// The first flag outside its range, as "<flag> <value> is out of range:
/// must be in [lo, hi]".
llvm::Error checkFlagRanges(llvm::ArrayRef<FlagRange> table);

struct FlagDomain;
/// -t: 0 (one thread per hardware thread) to ThreadPool::kMaxThreads.
FlagDomain threadsDomain(llvm::cl::opt<unsigned> &threads);

struct FlagDomain {
  template <typename T>
  FlagDomain(llvm::cl::opt<T> &opt, int64_t lo, int64_t hi)
      : option(&opt), lo(lo), hi(hi),
        value([&opt] { return static_cast<int64_t>(opt.getValue()); }) {}
  llvm::cl::Option *option;
  int64_t lo, hi;
  std::function<int64_t()> value;
};

/// A command's integer flags and their domains, declared once after its
/// options (at namespace scope): the constructor appends " [lo, hi]" to
/// each option's --help text, and check() validates the parsed values with
/// the same bounds, so help and validation cannot disagree.
class FlagTable {
public:
  FlagTable(std::initializer_list<FlagDomain> domains);
  /// The first flag outside its domain (checkFlagRanges' message).
  llvm::Error check() const;

private:
  std::vector<FlagDomain> domains;
  std::vector<std::string> helpTexts; // what the options' descriptions point to
};

/// `a + b` positions (prompt + generated): fails naming both parts when the
/// sum overflows or exceeds kMaxPositions, instead of a nonsense context.
llvm::Expected<int64_t> addPositions(llvm::StringRef whatA, int64_t a,
                                     llvm::StringRef whatB, int64_t b);

/// Prints "qn-run <cmd>: <message>" to stderr and returns 1.
int fail(llvm::StringRef cmd, llvm::Error err);
int fail(llvm::StringRef cmd, const llvm::Twine &message);

} // namespace qn::run

#endif // QN_TOOLS_QNRUN_RUNCOMMON_H

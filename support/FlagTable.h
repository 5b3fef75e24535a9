//===- FlagTable.h - numeric flag domains, one table per command -*- C++
//-*-===//
//
// Every command with numeric flags declares their domains once, after its
// llvm::cl options (at namespace scope). The table appends the domain to each
// option's --help text and check() validates the parsed values with the same
// bounds before the command reads or writes anything, so --help and
// validation cannot disagree (docs/reliability.md, "Domains").
//
// Integer domains are closed ranges [lo, hi]. Floating domains also refuse
// NaN and infinities (cl::opt<double> parses "nan" and "inf") and may leave
// their lower bound open: "(0, 1]". A flag that was not given keeps its
// default, which may be a sentinel outside the domain (-1: "keep the
// preset"), so only flags given on the command line are checked.
//
// Plain C++ with LLVM Support (no MLIR): qn-run and qn-gguf share it.
//
//===----------------------------------------------------------------------===//

#ifndef QN_SUPPORT_FLAGTABLE_H
#define QN_SUPPORT_FLAGTABLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace qn::support {

/// One integer value against its closed range.
struct FlagRange {
  llvm::StringRef flag; // as the user types it: "-t", "--ubatch"
  int64_t value, lo, hi;
};

/// The first flag outside its range, as "<flag> <value> is out of range:
/// must be in [lo, hi]".
llvm::Error checkFlagRanges(llvm::ArrayRef<FlagRange> table);

/// +infinity, for a floating domain without an upper bound.
constexpr double kNoUpperBound = std::numeric_limits<double>::infinity();

/// The domain of one numeric flag.
struct FlagDomain {
  enum class Lower { Closed, Open };

  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  FlagDomain(llvm::cl::opt<T> &opt, int64_t lo, int64_t hi)
      : option(&opt), isFloat(false), lo(double(lo)), hi(double(hi)), intLo(lo),
        intHi(hi),
        intValue([&opt] { return static_cast<int64_t>(opt.getValue()); }) {}

  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  FlagDomain(llvm::cl::opt<T> &opt, double lo, double hi,
             Lower lower = Lower::Closed)
      : option(&opt), isFloat(true), lowerOpen(lower == Lower::Open), lo(lo),
        hi(hi), floatValue([&opt] { return double(opt.getValue()); }) {}

  llvm::cl::Option *option;
  bool isFloat;
  bool lowerOpen = false;
  double lo, hi; // floating bounds (hi may be kNoUpperBound)
  int64_t intLo = 0, intHi = 0;
  std::function<int64_t()> intValue;
  std::function<double()> floatValue;

  /// "[lo, hi]", "(0, 1]", "[0, inf)": what --help shows.
  std::string describe() const;
  /// The flag as the user types it: "-t", "--ubatch".
  std::string flagName() const;
  /// An error naming the flag and its value when the value is outside.
  llvm::Error check() const;
};

/// A command's numeric flags and their domains. The constructor appends
/// " [lo, hi]" to each option's --help text.
class FlagTable {
public:
  FlagTable(std::initializer_list<FlagDomain> domains);
  FlagTable(const FlagTable &) = delete; // all() keeps its address
  /// The first given flag outside its domain.
  llvm::Error check() const;
  llvm::ArrayRef<FlagDomain> domains() const { return entries; }
  /// Every table constructed so far (they live at namespace scope), for the
  /// command-line fuzzer, which checks them all after each parse.
  static llvm::ArrayRef<const FlagTable *> all();

private:
  std::vector<FlagDomain> entries;
  std::vector<std::string> helpTexts; // what the options' descriptions point to
};

} // namespace qn::support

#endif // QN_SUPPORT_FLAGTABLE_H

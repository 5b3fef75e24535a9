//===- FlagTable.cpp - numeric flag domains, one table per command --------===//

#include "support/FlagTable.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdio>

using namespace llvm;

namespace qn::support {

Error checkFlagRanges(ArrayRef<FlagRange> table) {
  for (const FlagRange &f : table)
    if (f.value < f.lo || f.value > f.hi)
      return createStringError(
          formatv("{0} {1} is out of range: must be in [{2}, {3}]", f.flag,
                  f.value, f.lo, f.hi)
              .str());
  return Error::success();
}

namespace {
/// Bounds and values as a user types them: "0.001", "1e+30", "inf", "nan".
std::string bound(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}
} // namespace

std::string FlagDomain::describe() const {
  if (!isFloat)
    return formatv("[{0}, {1}]", intLo, intHi).str();
  return (lowerOpen ? "(" : "[") + bound(lo) + ", " + bound(hi) +
         (std::isinf(hi) ? ")" : "]");
}

std::string FlagDomain::flagName() const {
  return (option->ArgStr.size() == 1 ? "-" : "--") + option->ArgStr.str();
}

Error FlagDomain::check() const {
  if (!isFloat) {
    std::string name = flagName();
    return checkFlagRanges({{name, intValue(), intLo, intHi}});
  }
  const double v = floatValue();
  // Written so that NaN fails every comparison and is refused.
  const bool inside =
      std::isfinite(v) && (lowerOpen ? v > lo : v >= lo) && v <= hi;
  if (inside)
    return Error::success();
  return createStringError(
      formatv("{0} {1} is out of range: must be a finite number in {2}",
              flagName(), bound(v), describe())
          .str());
}

static std::vector<const FlagTable *> &registry() {
  static std::vector<const FlagTable *> tables;
  return tables;
}

ArrayRef<const FlagTable *> FlagTable::all() { return registry(); }

FlagTable::FlagTable(std::initializer_list<FlagDomain> list) : entries(list) {
  registry().push_back(this);
  helpTexts.reserve(entries.size()); // descriptions keep pointing at them
  for (const FlagDomain &d : entries) {
    helpTexts.push_back((d.option->HelpStr + " " + d.describe()).str());
    d.option->setDescription(helpTexts.back());
  }
}

Error FlagTable::check() const {
  for (const FlagDomain &d : entries)
    if (d.option->getNumOccurrences())
      if (Error err = d.check())
        return err;
  return Error::success();
}

} // namespace qn::support

//===- FlagTableTest.cpp - numeric flag domains of support/FlagTable ------===//
//
// The domains the tables print in --help and check: closed integer ranges,
// floating ranges that refuse NaN and infinities and may leave their lower
// bound open. The messages name the flag and the value.
//
//===----------------------------------------------------------------------===//

#include "support/FlagTable.h"

#include "llvm/Support/CommandLine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using qn::support::FlagDomain;

namespace {

// Options in a subcommand of their own, so they never meet the test
// binary's real command line.
llvm::cl::SubCommand testCmd("flag-table-test", "");
llvm::cl::opt<int64_t> count("count", llvm::cl::init(0),
                             llvm::cl::sub(testCmd));
llvm::cl::opt<unsigned> threads("t", llvm::cl::init(0), llvm::cl::sub(testCmd));
llvm::cl::opt<double> ratio("ratio", llvm::cl::init(0.5),
                            llvm::cl::sub(testCmd));
// Global too: llvm::cl keeps pointers to every option it has seen.
llvm::cl::opt<int64_t> described("described", llvm::cl::desc("things"),
                                 llvm::cl::init(-1), llvm::cl::sub(testCmd));

std::string message(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : "";
}

TEST(FlagTableTest, IntegerRangeIsClosedAndNamesTheFlag) {
  FlagDomain d(count, -1, 4096);
  EXPECT_EQ(d.describe(), "[-1, 4096]");
  EXPECT_EQ(d.flagName(), "--count");
  count = -1;
  EXPECT_EQ(message(d.check()), "");
  count = 4096;
  EXPECT_EQ(message(d.check()), "");
  count = 4097;
  EXPECT_EQ(message(d.check()),
            "--count 4097 is out of range: must be in [-1, 4096]");
  count = INT64_MIN;
  EXPECT_EQ(message(d.check()), "--count -9223372036854775808 is out of "
                                "range: must be in [-1, 4096]");
}

TEST(FlagTableTest, OneLetterFlagsHaveOneDash) {
  FlagDomain d(threads, 0, 1024);
  threads = 5000;
  EXPECT_EQ(message(d.check()),
            "-t 5000 is out of range: must be in [0, 1024]");
}

TEST(FlagTableTest, FloatingRangeRefusesNaNAndInfinities) {
  FlagDomain closed(ratio, 0.0, qn::support::kNoUpperBound);
  EXPECT_EQ(closed.describe(), "[0, inf)");
  ratio = 0.0;
  EXPECT_EQ(message(closed.check()), "");
  ratio = 1e30;
  EXPECT_EQ(message(closed.check()), "");
  ratio = std::nan("");
  EXPECT_EQ(message(closed.check()), "--ratio nan is out of range: must be a "
                                     "finite number in [0, inf)");
  ratio = INFINITY;
  EXPECT_NE(message(closed.check()), "");
  ratio = -0.001;
  EXPECT_EQ(message(closed.check()), "--ratio -0.001 is out of range: must "
                                     "be a finite number in [0, inf)");
}

TEST(FlagTableTest, OpenLowerBoundExcludesIt) {
  FlagDomain open(ratio, 0.0, 1.0, FlagDomain::Lower::Open);
  EXPECT_EQ(open.describe(), "(0, 1]");
  ratio = 0.0;
  EXPECT_NE(message(open.check()), "");
  ratio = 1.0;
  EXPECT_EQ(message(open.check()), "");
  ratio = 1.0000001;
  EXPECT_NE(message(open.check()), "");
}

TEST(FlagTableTest, HelpTextGetsTheDomain) {
  // Static: the option's description keeps pointing at the table's text.
  static const qn::support::FlagTable table{{described, 1, 8}};
  EXPECT_EQ(described.HelpStr.str(), "things [1, 8]");
  // Not given on the command line: the default (a sentinel) is not checked.
  EXPECT_EQ(message(table.check()), "");
}

} // namespace

//===- FixturePaths.h - where the shared reference fixtures are -*- C++ -*-===//
//
// Unit tests read ../shared/fixtures in place. lit sets QN_SHARED_DIR; run by
// hand, the binary falls back to the path next to the source checkout.
//
//===----------------------------------------------------------------------===//

#ifndef QN_UNITTESTS_FIXTUREPATHS_H
#define QN_UNITTESTS_FIXTUREPATHS_H

#include "llvm/Support/FileSystem.h"

#include <cstdlib>
#include <string>

namespace qn::test {

inline std::string sharedDir() {
  if (const char *env = std::getenv("QN_SHARED_DIR"); env && *env)
    return env;
  return QN_DEFAULT_SHARED_DIR;
}

inline std::string fixturePath(const std::string &relative) {
  return sharedDir() + "/fixtures/" + relative;
}

inline bool haveFixtures() {
  return llvm::sys::fs::is_directory(sharedDir() + "/fixtures");
}

} // namespace qn::test

#define QN_REQUIRE_FIXTURES()                                                  \
  do {                                                                         \
    if (!qn::test::haveFixtures())                                             \
      GTEST_SKIP() << "no fixtures at " << qn::test::sharedDir();              \
  } while (false)

#endif // QN_UNITTESTS_FIXTUREPATHS_H

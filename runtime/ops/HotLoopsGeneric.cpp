//===- HotLoopsGeneric.cpp - baseline build of HotLoops.inc --------------===//

#include "runtime/ops/HotLoops.h"

#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <cstdlib>
#include <cstring>

namespace qn::runtime {
namespace hot_generic {
#include "runtime/ops/HotLoops.inc"
} // namespace hot_generic

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool useAvx2HotLoops() {
  static const bool use = [] {
    const char *env = std::getenv("QN_OPS_ISA");
    if (env && std::strcmp(env, "generic") == 0)
      return false;
    return cpuHasAvx2Fma();
  }();
  return use;
}

} // namespace qn::runtime

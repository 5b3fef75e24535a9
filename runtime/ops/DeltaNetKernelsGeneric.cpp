//===- DeltaNetKernelsGeneric.cpp - baseline build of DeltaNetKernels.inc ===//

#include "runtime/ops/DeltaNetKernels.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qn::runtime {
namespace delta_generic {
#include "runtime/ops/DeltaNetKernels.inc"
} // namespace delta_generic
} // namespace qn::runtime

//===- matmul_dispatch.cpp - choose a matmul kernel ----------------------===//
//
// Placeholder written by the runtime owner so the executor links before the
// fast kernels exist: every format goes to the reference. The kernels owner
// replaces this file (it matches runtime/kernels/matmul*) with the dispatch
// to format/ISA-specific kernels.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/Matmul.h"

namespace qn::runtime {

void matmul(const WeightView &w, const float *x, int64_t nTokens, float *y,
            ThreadPool *pool) {
  matmulReference(w, x, nTokens, y, pool);
}

} // namespace qn::runtime

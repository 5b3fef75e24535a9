//===- KernelCall.h - call a generated CPU kernel from C++ -------*- C++
//-*-===//
//
// A generated elementwise or loop kernel (MLIR's C interface: one memref
// descriptor pointer per argument, CpuKernelCall.cpp) called on dense
// row-major f32 arrays: what tools and tests use to run one kernel
// outside a plan (the executor builds its descriptors without allocating).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_CPU_KERNELCALL_H
#define QN_RUNTIME_CPU_KERNELCALL_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace qn::runtime::cpu {

/// A dense row-major f32 array of `shape`.
struct KernelArray {
  float *data = nullptr;
  std::vector<int64_t> shape;
};

/// Calls `kernel` (`_mlir_ciface_<name>`) on `arrays`: its operands, then
/// its results. At most plan::kMaxKernelArgs arrays; more is a usage error.
void callGeneratedKernel(void *kernel, llvm::ArrayRef<KernelArray> arrays);

} // namespace qn::runtime::cpu

#endif // QN_RUNTIME_CPU_KERNELCALL_H

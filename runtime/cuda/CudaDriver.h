//===- CudaDriver.h - the CUDA driver, loaded at run time --------*- C++
//-*-===//
//
// libcuda.so.1 opened with dlopen on first use, so the same binary runs
// CPU-only where no NVIDIA driver is installed and says why. Only the
// driver API entry points qn uses are declared (cuda.h is not needed to
// build).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_CUDA_CUDADRIVER_H
#define QN_RUNTIME_CUDA_CUDADRIVER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <string>
#include <vector>

namespace qn::runtime::cuda {

struct CudaDevice {
  int ordinal = 0;
  std::string name;
  /// Compute capability, e.g. 9.0 for an H100/H200.
  int major = 0, minor = 0;
  size_t memoryBytes = 0;
  int multiprocessors = 0;

  /// NVRTC's virtual architecture for it: "compute_90".
  std::string virtualArch() const {
    return "compute_" + std::to_string(major) + std::to_string(minor);
  }
};

class CudaDriver {
public:
  /// Loads and initialises the driver (cuInit), or an error saying which
  /// library was missing or what cuInit answered.
  static llvm::Expected<const CudaDriver *> load();

  /// Driver API version, e.g. 13000.
  int version = 0;

  /// Every device the driver sees.
  llvm::Expected<std::vector<CudaDevice>> devices() const;

  // What running kernels needs, each failure an error naming the call.
  using DevicePtr = unsigned long long;
  /// Makes device `ordinal`'s primary context current on this thread.
  llvm::Error useDevice(int ordinal) const;
  /// Loads PTX (JIT-compiled by the driver for the current device).
  llvm::Expected<void *> loadModule(llvm::StringRef ptx) const;
  llvm::Expected<void *> function(void *module, llvm::StringRef name) const;
  llvm::Expected<DevicePtr> allocate(size_t bytes) const;
  void release(DevicePtr p) const;
  llvm::Error copyToDevice(DevicePtr dst, const void *src, size_t bytes) const;
  llvm::Error copyToHost(void *dst, DevicePtr src, size_t bytes) const;
  /// Launches `fn` on a 1-D grid; `params` as cuLaunchKernel takes them
  /// (one pointer per kernel argument).
  llvm::Error launch(void *fn, unsigned blocks, unsigned threads,
                     void **params) const;
  llvm::Error synchronize() const;

  struct Api;
  const Api *api = nullptr;
};

} // namespace qn::runtime::cuda

#endif // QN_RUNTIME_CUDA_CUDADRIVER_H

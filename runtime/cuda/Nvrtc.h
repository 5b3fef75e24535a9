//===- Nvrtc.h - NVRTC, loaded at run time -----------------------*- C++
//-*-===//
//
// CUDA stays optional at build and at run time: NVRTC is opened with
// dlopen on first use (libnvrtc.so.13, .so.12, .so, or $QN_NVRTC), so one
// binary compiles CUDA C++ where the toolkit is installed and says so
// clearly where it is not. NVRTC needs no GPU: PTX for any architecture
// compiles on a machine without one.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_CUDA_NVRTC_H
#define QN_RUNTIME_CUDA_NVRTC_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qn::runtime::cuda {

/// The library, once loaded (process lifetime).
class Nvrtc {
public:
  /// Loads NVRTC, or an error naming the libraries tried and why.
  static llvm::Expected<const Nvrtc *> load();

  /// NVRTC's version, e.g. {13, 0}.
  int major = 0, minor = 0;

  /// Compiles `source` (one translation unit named `programName` in
  /// messages) to PTX for virtual architecture `arch` (e.g. "compute_90").
  /// `options` are passed to NVRTC after --gpu-architecture. A failed
  /// compile is an error carrying NVRTC's log.
  llvm::Expected<std::string>
  compileToPtx(llvm::StringRef source, llvm::StringRef programName,
               llvm::StringRef arch,
               llvm::ArrayRef<std::string> options = {}) const;

  struct Api;
  const Api *api = nullptr;
};

} // namespace qn::runtime::cuda

#endif // QN_RUNTIME_CUDA_NVRTC_H

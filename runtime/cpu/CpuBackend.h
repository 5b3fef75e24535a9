//===- CpuBackend.h - the CPU backend of the plan executor -------*- C++
//-*-===//
//
// Runs `on cpu` dispatches with the runtime's micro-kernels (the functions
// the direct engine calls, runtime/ops and runtime/layers) and the
// JIT-compiled elementwise and loop kernels. Its memory is host memory;
// weights are read in place from the GGUF mapping, with a float copy where
// a kernel reads a block-format weight as floats and the conv kernels
// transposed.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_CPU_CPUBACKEND_H
#define QN_RUNTIME_CPU_CPUBACKEND_H

#include "runtime/layers/GatedAttention.h"
#include "runtime/layers/MoE.h"
#include "runtime/plan/Backend.h"

#include <cstdlib>
#include <memory>
#include <vector>

namespace qn::runtime::cpu {

class CpuBackend final : public plan::DispatchBackend {
public:
  plan::Backend kind() const override { return plan::Backend::Cpu; }
  llvm::Expected<uint8_t *> allocate(size_t bytes) override;
  llvm::Error bindWeight(plan::Bindings &b, int32_t id,
                         plan::WeightUse use) override;
  llvm::Error reserve(const plan::Bindings &b, size_t index) override;
  llvm::Error finishReserving(const plan::Bindings &b) override;
  void run(plan::Bindings &b, size_t index, llvm::ArrayRef<SeqGroup> groups,
           ThreadPool *pool, const Dumper &dump) override;
  void transfer(uint8_t *dst, plan::Backend dstOn, const uint8_t *src,
                plan::Backend srcOn, size_t bytes) override;

private:
  /// Calls the generated kernel of Elementwise or Loop dispatch `d`
  /// (CpuKernelCall.cpp); with `group`, over that sequence group only.
  void callKernel(plan::Bindings &b, const plan::Dispatch &d,
                  const SeqGroup *group = nullptr);
  void attention(plan::Bindings &b, const plan::Dispatch &d,
                 llvm::ArrayRef<SeqGroup> groups, ThreadPool *pool,
                 const Dumper &dump);
  void moe(plan::Bindings &b, const plan::Dispatch &d, ThreadPool *pool,
           const Dumper &dump);

  /// What the dispatches' kernels need, noted by reserve.
  struct Needs {
    int64_t convWindow = 0;
    int64_t qDim = 0, kvDim = 0, group = 0;
    MoEDims moe;
    /// Generated-kernel calls: memref descriptor words and arguments.
    size_t descriptorWords = 0, kernelArgs = 0;
  } needs;

  // The micro-kernels' scratch, sized over all dispatches.
  AttentionScratch attentionScratch;
  MoEScratch moeScratch;
  std::vector<float> convWindow;
  std::vector<int64_t> descriptors;
  std::vector<void *> kernelArgs;

  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  /// Scratch slots (allocate).
  std::vector<std::unique_ptr<uint8_t, Free>> memory;
  /// Float copies and transposes of weights (bindWeight).
  std::vector<std::vector<float>> owned;
};

} // namespace qn::runtime::cpu

#endif // QN_RUNTIME_CPU_CPUBACKEND_H

//===- CpuBackend.cpp - memory, weights and scratch of the CPU backend ---===//
//
// Running a dispatch is CpuDispatches.cpp; calling a generated kernel is
// CpuKernelCall.cpp.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuBackend.h"

#include "runtime/plan/Bindings.h"

#include "gguf/Dequantize.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstring>

namespace qn::runtime::plan {
// The interface's out-of-line anchor.
DispatchBackend::~DispatchBackend() = default;
} // namespace qn::runtime::plan

namespace qn::runtime::cpu {

using namespace plan;

llvm::Expected<uint8_t *> CpuBackend::allocate(size_t bytes) {
  // Cache-line aligned: the micro-kernels load whole vectors.
  constexpr size_t kAlign = 64;
  const size_t rounded =
      (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  auto *p = static_cast<uint8_t *>(std::aligned_alloc(kAlign, rounded));
  if (!p)
    return llvm::createStringError(
        llvm::formatv("out of host memory ({0} bytes)", rounded));
  std::memset(p, 0, rounded);
  memory.emplace_back(p);
  return p;
}

llvm::Error CpuBackend::bindWeight(Bindings &b, int32_t id, WeightUse use) {
  Bound &w = b.values[id];
  const gguf::TensorInfo &t = *w.tensor;
  switch (use) {
  case WeightUse::Matrix:
    // Interleaved (_r4/_r8) rows decode a group at a time, which the row
    // tiles of the matmul kernels do not do yet.
    if (!gguf::canDequantize(t.type) || gguf::rowsPerGroup(t.type) > 1 ||
        !gguf::isValidRowLength(t.type, t.ne[0]))
      return llvm::createStringError(llvm::Twine("is stored as ") +
                                     gguf::getTypeName(t.type) +
                                     ", which qn cannot multiply");
    w.matrix.type = t.type;
    w.matrix.data = t.data;
    w.matrix.cols = t.ne[0];
    w.matrix.rows = t.ne.size() > 1 ? t.ne[1] : 1;
    w.matrix.rowBytes = gguf::rowBytes(t.type, t.ne[0]);
    return llvm::Error::success();
  case WeightUse::Floats:
  case WeightUse::ConvKernel:
    if (!w.floats) {
      std::vector<float> &copy =
          owned.emplace_back(static_cast<size_t>(t.numElements()));
      if (llvm::Error err = gguf::dequantizeRows(
              t.type, t.data, copy.data(),
              t.ne[0] > 0 ? static_cast<int64_t>(copy.size()) / t.ne[0] : 0,
              t.ne[0]))
        return llvm::createStringError("cannot be read as floats: " +
                                       llvm::toString(std::move(err)));
      w.floats = copy.data();
      w.data = reinterpret_cast<uint8_t *>(copy.data());
    }
    if (use == WeightUse::ConvKernel && !w.convKernelT) {
      // [C x Kc] as the file stores it; the conv reads [Kc x C].
      const std::vector<int64_t> &shape = b.value(id).shape;
      const int64_t C = shape[0], Kc = shape[1];
      std::vector<float> &tr = owned.emplace_back(static_cast<size_t>(C * Kc));
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < Kc; ++i)
          tr[i * C + c] = w.floats[c * Kc + i];
      w.convKernelT = tr.data();
    }
    return llvm::Error::success();
  }
  return llvm::createStringError("an unknown weight use");
}

llvm::Error CpuBackend::reserve(const Bindings &b, size_t index) {
  const Dispatch &d = b.program.dispatches[index];
  auto rank = [&](int32_t id) { return b.value(id).shape.size(); };
  switch (d.kind) {
  case DispatchKind::Conv1dCausal: {
    const std::vector<int64_t> &s = b.value(d.operands[2]).shape; // [C, Kc-1]
    needs.convWindow = std::max(needs.convWindow, s[0] * s[1]);
    return llvm::Error::success();
  }
  case DispatchKind::GatedAttention: {
    const AttentionParams &p = d.get<AttentionParams>();
    if (p.impl != AttentionImpl::Plain)
      return b.dispatchError(index, "impl " + attentionImplName(p.impl) +
                                        " has no CPU kernel");
    needs.qDim = std::max(needs.qDim, p.numHeads * p.headDim);
    needs.kvDim = std::max(needs.kvDim, p.numKvHeads * p.headDim);
    needs.group = std::max(needs.group, p.numHeads / p.numKvHeads);
    return llvm::Error::success();
  }
  case DispatchKind::MoE: {
    const MoEParams &p = d.get<MoEParams>();
    const std::vector<int64_t> &router = b.value(d.operands[1]).shape;
    needs.moe.E = std::max(needs.moe.E, router[0]);
    needs.moe.D = std::max(needs.moe.D, router[1]);
    needs.moe.F = std::max(needs.moe.F, b.value(d.operands[2]).shape[1]);
    needs.moe.K = std::max(needs.moe.K, p.topK);
    if (p.sharedExpert)
      needs.moe.Fs = std::max(needs.moe.Fs, b.value(d.operands[6]).shape[0]);
    return llvm::Error::success();
  }
  case DispatchKind::Elementwise:
  case DispatchKind::Loop: {
    const KernelParams &p = d.get<KernelParams>();
    if (!p.kernel)
      return b.dispatchError(index, "kernel '" + p.kernelName +
                                        "' has no address (the plan's "
                                        "kernels were not compiled)");
    // One memref descriptor (3 + 2 * rank words) per argument.
    size_t words = 0, args = 0;
    for (const std::vector<int32_t> *ids : {&d.operands, &d.results})
      for (int32_t id : *ids) {
        words += 3 + 2 * rank(id);
        ++args;
      }
    needs.descriptorWords = std::max(needs.descriptorWords, words);
    needs.kernelArgs = std::max(needs.kernelArgs, args);
    return llvm::Error::success();
  }
  default:
    return llvm::Error::success();
  }
}

llvm::Error CpuBackend::finishReserving(const Bindings &b) {
  convWindow.assign(static_cast<size_t>(std::max<int64_t>(needs.convWindow, 1)),
                    0.0f);
  if (needs.qDim > 0)
    attentionScratch.allocate(needs.qDim, needs.kvDim, needs.group, b.maxTokens,
                              b.nCtx, b.nThreads);
  if (needs.moe.D > 0)
    moeScratch.allocate(needs.moe, b.maxTokens);
  descriptors.assign(needs.descriptorWords, 0);
  kernelArgs.assign(needs.kernelArgs, nullptr);
  return llvm::Error::success();
}

void CpuBackend::transfer(uint8_t *dst, Backend, const uint8_t *src, Backend,
                          size_t bytes) {
  // Both sides are host memory when the CPU copies.
  std::memcpy(dst, src, bytes);
}

} // namespace qn::runtime::cpu

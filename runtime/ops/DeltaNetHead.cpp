//===- DeltaNetHead.cpp - delta-rule algorithm choice and dispatch -------===//

#include "runtime/ops/DeltaNetHead.h"

#include "runtime/ops/DeltaNet.h"
#include "runtime/ops/DeltaNetChunked.h"
#include "runtime/ops/DeltaNetCost.h"
#include "runtime/ops/DeltaNetFused.h"

#include <vector>

namespace qn::runtime {

llvm::Expected<DeltaMode> parseDeltaMode(llvm::StringRef text) {
  if (text == "0")
    return DeltaMode::Chunked;
  if (text == "1")
    return DeltaMode::FusedPrefill;
  if (text == "2")
    return DeltaMode::FusedAlways;
  if (text == "auto")
    return DeltaMode::Auto;
  return llvm::createStringError("unknown delta mode '" + text +
                                 "' (expected 0, 1, 2 or auto)");
}

llvm::StringRef deltaModeName(DeltaMode mode) {
  switch (mode) {
  case DeltaMode::Chunked:
    return "0";
  case DeltaMode::FusedPrefill:
    return "1";
  case DeltaMode::FusedAlways:
    return "2";
  case DeltaMode::Auto:
    return "auto";
  }
  return "?";
}

llvm::StringRef deltaImplName(DeltaImpl impl) {
  switch (impl) {
  case DeltaImpl::Recurrent:
    return "recurrent";
  case DeltaImpl::Chunked:
    return "chunked";
  case DeltaImpl::Fused:
    return "fused";
  }
  return "?";
}

// The numbers live in DeltaNetCost.h (shared with qn-select-delta-path).
double deltaCostNs(DeltaImpl impl, int64_t T, int64_t dk, int64_t dv) {
  return deltaCost(kDeltaCostCpu, static_cast<int>(impl), T, dk, dv);
}

DeltaImpl chooseDeltaImpl(DeltaMode mode, int64_t T, int64_t dk, int64_t dv) {
  switch (mode) {
  case DeltaMode::Chunked:
    return T > 1 ? DeltaImpl::Chunked : DeltaImpl::Recurrent;
  case DeltaMode::FusedPrefill:
    return T > 1 ? DeltaImpl::Fused : DeltaImpl::Recurrent;
  case DeltaMode::FusedAlways:
    return DeltaImpl::Fused;
  case DeltaMode::Auto:
    break;
  }
  return static_cast<DeltaImpl>(cheapestDeltaImpl(kDeltaCostCpu, T, dk, dv));
}

void deltaHeadRecurrent(const DeltaHeadArgs &a) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < static_cast<size_t>(a.dv))
    scratch.resize(static_cast<size_t>(a.dv));
  for (int64_t t = 0; t < a.T; ++t)
    gatedDeltaStep(a.M, a.q + t * a.qkStride, a.k + t * a.qkStride,
                   a.v + t * a.vStride, a.g[t * a.gStride],
                   a.beta[t * a.gStride], a.dk, a.dv, a.out + t * a.outStride,
                   scratch.data());
}

void runDeltaHead(DeltaImpl impl, const DeltaHeadArgs &a) {
  switch (impl) {
  case DeltaImpl::Recurrent:
    return deltaHeadRecurrent(a);
  case DeltaImpl::Chunked:
    return deltaHeadChunked(a);
  case DeltaImpl::Fused:
    return deltaHeadFused(a);
  }
}

} // namespace qn::runtime

//===- DeltaNetCost.h - cost model of the delta-rule algorithms -*- C++ -*-===//
//
// Header-only so the compiler's qn-select-delta-path (passes/) and the
// runtime's --delta-mode auto use the same numbers. One value head over T
// tokens costs fixed + perToken * T nanoseconds, scaled by dk*dv / 128^2
// (every algorithm is linear in the state size).
//
// CPU: measured on the development machine (2-core AVX2 x86-64 under load,
// one thread, bench/DeltaNetBench.cpp, dk = dv = 128, CPU time; raw numbers
// in docs/delta-path.md). The fused kernel pays for an extra first sweep
// (and, from 4 tokens on, for copying the state into column blocks), so the
// recurrent step wins for one or two tokens; the chunked form's dense
// products do not beat the fused sweep on this CPU at any T.
// CUDA: not measured (no GPU here). The numbers encode the peer's choice
// (ik runs its fused kernel for every T on CUDA): fused is cheapest
// everywhere. Replace them with measurements when a CUDA backend exists.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETCOST_H
#define QN_RUNTIME_OPS_DELTANETCOST_H

#include <cstdint>

namespace qn::runtime {

/// Index 0 recurrent, 1 chunked, 2 fused (the order of DeltaImpl and of the
/// IR's QN_DeltaNetImpl).
struct DeltaCostTable {
  double fixedNs[3];
  double perTokenNs[3];
};

constexpr DeltaCostTable kDeltaCostCpu = {{1000, 2000, 3000},
                                          {4000, 5000, 3200}};
constexpr DeltaCostTable kDeltaCostCuda = {{20000, 40000, 5000}, {400, 60, 50}};

/// Estimated nanoseconds of algorithm `implIndex` for one head.
constexpr double deltaCost(const DeltaCostTable &table, int implIndex,
                           int64_t T, int64_t dk, int64_t dv) {
  return static_cast<double>(dk * dv) / (128.0 * 128.0) *
         (table.fixedNs[implIndex] +
          table.perTokenNs[implIndex] * static_cast<double>(T));
}

/// The cheapest algorithm index for T tokens (ties: the lower index).
constexpr int cheapestDeltaImpl(const DeltaCostTable &table, int64_t T,
                                int64_t dk, int64_t dv) {
  int best = 0;
  for (int i = 1; i < 3; ++i)
    if (deltaCost(table, i, T, dk, dv) < deltaCost(table, best, T, dk, dv))
      best = i;
  return best;
}

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETCOST_H

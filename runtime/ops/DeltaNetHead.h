//===- DeltaNetHead.h - the gated delta rule over a ubatch, per head -*- C++
//-*-===//
//
// Three algorithms for the same function (spec §3.2 step 8, §4): the
// recurrent form (one gatedDeltaStep per token), the chunked form of §4.1
// (chunks of 64 tokens, (I+L)^-1 by forward substitution, running state)
// and a fused single-pass kernel for prefill (DeltaNetFused.h). Each works
// on one value head over T tokens of one sequence; heads are independent,
// so the caller spreads them over threads. docs/delta-path.md says which
// runs when (--delta-mode) and why.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETHEAD_H
#define QN_RUNTIME_OPS_DELTANETHEAD_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace qn::runtime {

/// One value head over T tokens. Token t reads q + t*qkStride and
/// k + t*qkStride (dk floats, L2-normalised, q unscaled), v + t*vStride (dv
/// floats), g[t*gStride] (log-decay) and beta[t*gStride] (after the
/// sigmoid), and writes out + t*outStride (dv floats). M is the head's
/// dk x dv state, row-major (k-index j, v-index i at j*dv + i), updated in
/// place.
struct DeltaHeadArgs {
  int64_t T = 0, dk = 0, dv = 0;
  const float *q = nullptr, *k = nullptr;
  int64_t qkStride = 0;
  const float *v = nullptr;
  int64_t vStride = 0;
  const float *g = nullptr, *beta = nullptr;
  int64_t gStride = 0;
  float *M = nullptr;
  float *out = nullptr;
  int64_t outStride = 0;
};

/// The algorithm that runs a head (the runtime twin of the IR's
/// QN_DeltaNetImpl).
enum class DeltaImpl { Recurrent, Chunked, Fused };

/// --delta-mode: 0 = chunked for T > 1, recurrent for T = 1 (the strict
/// baseline); 1 = fused for T > 1, recurrent for T = 1; 2 = fused always;
/// auto = the cost model of docs/delta-path.md.
enum class DeltaMode { Chunked = 0, FusedPrefill = 1, FusedAlways = 2, Auto };

llvm::Expected<DeltaMode> parseDeltaMode(llvm::StringRef text);
llvm::StringRef deltaModeName(DeltaMode mode);
llvm::StringRef deltaImplName(DeltaImpl impl);

/// The algorithm `mode` picks for a ubatch of T tokens with head sizes
/// dk x dv.
DeltaImpl chooseDeltaImpl(DeltaMode mode, int64_t T, int64_t dk, int64_t dv);

/// The cost model behind DeltaMode::Auto on this CPU: estimated nanoseconds
/// for one head over T tokens (docs/delta-path.md has the measurements).
double deltaCostNs(DeltaImpl impl, int64_t T, int64_t dk, int64_t dv);

/// Recurrent form: gatedDeltaStep token by token (the reference).
void deltaHeadRecurrent(const DeltaHeadArgs &a);

/// Runs `impl` on one head.
void runDeltaHead(DeltaImpl impl, const DeltaHeadArgs &a);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETHEAD_H

//===- DeltaNetChunked.h - the chunked (parallel) gated delta rule -*- C++
//-*-===//
//
// Spec §4.1 for one value head: tokens in chunks of kDeltaChunk, each chunk
// turned into small dense products (decay mask Gamma, L, A, the unit
// lower-triangular solve for U and W) plus three products with the running
// state. Same function as the recurrent form. Body: DeltaNetKernels.inc.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_DELTANETCHUNKED_H
#define QN_RUNTIME_OPS_DELTANETCHUNKED_H

#include "runtime/ops/DeltaNetHead.h"
#include "runtime/ops/DeltaNetKernels.h"

namespace qn::runtime {

/// The chunked form over a.T tokens (any T >= 1; the last chunk is padded
/// with zero rows, which contribute nothing).
void deltaHeadChunked(const DeltaHeadArgs &a, DeltaIsa isa = DeltaIsa::Auto);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_DELTANETCHUNKED_H

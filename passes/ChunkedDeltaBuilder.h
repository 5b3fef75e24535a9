//===- ChunkedDeltaBuilder.h - the chunked form of the delta rule -*- C++
//-*-===//
//
// Used by qn-select-delta-path (mode 0): the IR of spec §4.1 for one
// qn.gated_delta_net, in primitive qn ops plus an scf.for over chunks.
//
//===----------------------------------------------------------------------===//

#ifndef QN_PASSES_CHUNKEDDELTABUILDER_H
#define QN_PASSES_CHUNKEDDELTABUILDER_H

#include "dialect/QNOps.h"
#include "mlir/IR/Builders.h"

#include <utility>

namespace qn {

/// Chunk size C of the chunked form (spec §4.1).
constexpr int64_t kChunkedDeltaChunk = 64;

/// Builds the chunked form of `op` at the builder's insertion point and
/// returns its (output, new state), with the op's result types. The head
/// sizes of `op` must be static; the token count may be dynamic.
std::pair<mlir::Value, mlir::Value> buildChunkedDeltaNet(mlir::OpBuilder &b,
                                                         GatedDeltaNetOp op);

} // namespace qn

#endif // QN_PASSES_CHUNKEDDELTABUILDER_H

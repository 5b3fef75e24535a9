//===- Assign.h - backend assignment algorithms -----------------*- C++ -*-===//
//
// Two ways to give every node a backend under the constraints of
// resolveAllowed():
//  - assignMinCut: the exact minimum of (transfers, then bytes), as an s-t
//    minimum cut (docs/placement.md explains the network);
//  - assignGreedy: a simplified but faithful copy of ggml's scheduler passes
//    (ggml_backend_sched_split_graph), the baseline it is compared with.
//
//===----------------------------------------------------------------------===//
#ifndef QN_PASSES_PLACEMENT_ASSIGN_H
#define QN_PASSES_PLACEMENT_ASSIGN_H

#include "passes/placement/Placement.h"

namespace qn::placement {

/// Lexicographically minimal (transfers, bytes) feasible assignment. Fails
/// only if the byte total is too large for the weighted encoding (> 2^40).
llvm::Expected<Assignment>
assignMinCut(const Graph &g, const std::vector<BackendMask> &allowed);

/// ggml-like greedy assignment; always feasible.
Assignment assignGreedy(const Graph &g,
                        const std::vector<BackendMask> &allowed);

} // namespace qn::placement

#endif // QN_PASSES_PLACEMENT_ASSIGN_H

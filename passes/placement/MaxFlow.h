//===- MaxFlow.h - Dinic's maximum flow / minimum s-t cut -------*- C++ -*-===//
#ifndef QN_PASSES_PLACEMENT_MAXFLOW_H
#define QN_PASSES_PLACEMENT_MAXFLOW_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qn::placement {

/// Maximum flow with Dinic's algorithm (BFS level graph + blocking flow by
/// DFS with current-arc pointers), O(V^2 E) worst case; the placement graphs
/// are sparse DAG-like networks where it runs in milliseconds.
class MaxFlow {
public:
  /// Capacity treated as infinite; sums of finite capacities must stay far
  /// below it (callers check).
  static constexpr uint64_t kInfinite = uint64_t(1) << 62;

  explicit MaxFlow(unsigned numVertices);
  unsigned addVertex();
  void addEdge(unsigned from, unsigned to, uint64_t capacity);
  /// Runs the algorithm; returns the value of the maximum flow.
  uint64_t run(unsigned source, unsigned sink);
  /// After run(): true for vertices reachable from the source in the
  /// residual network, i.e. the source side of a minimum cut.
  std::vector<bool> sourceSide(unsigned source) const;

private:
  struct Edge {
    unsigned to;
    uint64_t residual;
  };
  bool buildLevels(unsigned source, unsigned sink);
  uint64_t push(unsigned v, unsigned sink, uint64_t limit);

  std::vector<Edge> edges; // edge i and i^1 are a pair
  std::vector<std::vector<unsigned>> adj;
  std::vector<int> level;
  std::vector<size_t> nextArc;
};

} // namespace qn::placement

#endif // QN_PASSES_PLACEMENT_MAXFLOW_H

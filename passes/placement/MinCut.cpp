//===- MinCut.cpp - exact minimum-transfer assignment by s-t min cut ------===//
//
// Source side = CPU, sink side = CUDA. For a value v with consumers C(v):
//  - "v is copied to CUDA" happens iff v is on CPU and some c in C(v) is on
//    CUDA. Auxiliary vertex up(v): edge v -> up(v) with weight w(v), and
//    up(v) -> c infinite for each c. Any CUDA consumer drags up(v) to the
//    sink side, so the cut pays w(v) once iff v is on the source side.
//  - "v is copied to CPU" symmetric: vertex down(v), c -> down(v) infinite,
//    down(v) -> v with weight w(v).
// With a single consumer the auxiliary vertex is replaced by a direct edge.
// w(v) = BIG + bytes(v) with BIG > sum of all bytes, so a cut's value is
// transfers * BIG + bytes and minimizing it minimizes transfers first, then
// bytes. Allowed sets become infinite edges s -> v (CPU only) or v -> t
// (CUDA only); a node tied to its op (Node::sameAs) gets infinite edges to
// and from it.
//
//===----------------------------------------------------------------------===//
#include "passes/placement/Assign.h"
#include "passes/placement/MaxFlow.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace qn::placement {

Expected<Assignment> assignMinCut(const Graph &g,
                                  const std::vector<BackendMask> &allowed) {
  const unsigned n = unsigned(g.size());
  std::vector<std::vector<NodeId>> users = g.consumers();

  uint64_t totalBytes = 0;
  uint64_t numValues = 0;
  for (NodeId v = 0; v < n; ++v)
    if (!users[v].empty()) {
      totalBytes += g[v].outBytes;
      ++numValues;
      if (totalBytes > (uint64_t(1) << 40))
        return createStringError(
            inconvertibleErrorCode(),
            "placement: more than 2^40 bytes of values; the exact encoding "
            "would overflow");
    }
  const uint64_t big = totalBytes + 1;
  // Every value can be cut at most twice (once per direction).
  if (numValues * 2 >= MaxFlow::kInfinite / (2 * big))
    return createStringError(
        inconvertibleErrorCode(),
        formatv("placement: graph too large ({0} values)", numValues));

  const unsigned source = n, sink = n + 1;
  MaxFlow net(n + 2);
  for (NodeId v = 0; v < n; ++v) {
    if (allowed[v] == maskOf(Backend::CPU))
      net.addEdge(source, v, MaxFlow::kInfinite);
    else if (allowed[v] == maskOf(Backend::CUDA))
      net.addEdge(v, sink, MaxFlow::kInfinite);
    // A tied node sits on its op's side: infinite edges both ways.
    if (g[v].sameAs) {
      net.addEdge(v, *g[v].sameAs, MaxFlow::kInfinite);
      net.addEdge(*g[v].sameAs, v, MaxFlow::kInfinite);
    }
    if (users[v].empty())
      continue;
    const uint64_t w = big + g[v].outBytes;
    if (users[v].size() == 1) {
      net.addEdge(v, users[v][0], w);
      net.addEdge(users[v][0], v, w);
      continue;
    }
    unsigned up = net.addVertex(), down = net.addVertex();
    net.addEdge(v, up, w);
    net.addEdge(down, v, w);
    for (NodeId c : users[v]) {
      net.addEdge(up, c, MaxFlow::kInfinite);
      net.addEdge(c, down, MaxFlow::kInfinite);
    }
  }
  // A finite cut exists iff the constraints are satisfiable; with
  // resolveConstraints' output they always are, but a caller's hand-made
  // allowed sets may not be (e.g. a tied node allowed elsewhere than its op).
  if (net.run(source, sink) >= MaxFlow::kInfinite)
    return createStringError(inconvertibleErrorCode(),
                             "placement: the constraints contradict each "
                             "other (no feasible assignment)");
  std::vector<bool> cpuSide = net.sourceSide(source);
  Assignment a(n);
  for (NodeId v = 0; v < n; ++v)
    a[v] = cpuSide[v] ? Backend::CPU : Backend::CUDA;
  return a;
}

} // namespace qn::placement

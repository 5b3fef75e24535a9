//===- MaxFlow.cpp - Dinic's maximum flow ---------------------------------===//
#include "passes/placement/MaxFlow.h"

#include <algorithm>
#include <deque>

namespace qn::placement {

MaxFlow::MaxFlow(unsigned numVertices) : adj(numVertices) {}

unsigned MaxFlow::addVertex() {
  adj.emplace_back();
  return unsigned(adj.size() - 1);
}

void MaxFlow::addEdge(unsigned from, unsigned to, uint64_t capacity) {
  adj[from].push_back(unsigned(edges.size()));
  edges.push_back({to, capacity});
  adj[to].push_back(unsigned(edges.size()));
  edges.push_back({from, 0});
}

bool MaxFlow::buildLevels(unsigned source, unsigned sink) {
  level.assign(adj.size(), -1);
  std::deque<unsigned> queue{source};
  level[source] = 0;
  while (!queue.empty()) {
    unsigned v = queue.front();
    queue.pop_front();
    for (unsigned e : adj[v])
      if (edges[e].residual > 0 && level[edges[e].to] < 0) {
        level[edges[e].to] = level[v] + 1;
        queue.push_back(edges[e].to);
      }
  }
  return level[sink] >= 0;
}

// Iterative would avoid deep recursion; the depth is bounded by the BFS level
// of the sink, at most the number of vertices on a shortest path (a few
// thousand for the largest model graph), which the stack handles.
uint64_t MaxFlow::push(unsigned v, unsigned sink, uint64_t limit) {
  if (v == sink)
    return limit;
  for (size_t &i = nextArc[v]; i < adj[v].size(); ++i) {
    Edge &e = edges[adj[v][i]];
    if (e.residual == 0 || level[e.to] != level[v] + 1)
      continue;
    uint64_t pushed = push(e.to, sink, std::min(limit, e.residual));
    if (pushed > 0) {
      e.residual -= pushed;
      edges[adj[v][i] ^ 1].residual += pushed;
      return pushed;
    }
  }
  return 0;
}

uint64_t MaxFlow::run(unsigned source, unsigned sink) {
  uint64_t flow = 0;
  while (buildLevels(source, sink)) {
    nextArc.assign(adj.size(), 0);
    while (uint64_t f = push(source, sink, kInfinite)) {
      flow += f;
      // An infinite path: the cut is infinite, stop before overflowing.
      if (flow >= kInfinite)
        return kInfinite;
    }
  }
  return flow;
}

std::vector<bool> MaxFlow::sourceSide(unsigned source) const {
  std::vector<bool> seen(adj.size(), false);
  std::vector<unsigned> stack{source};
  seen[source] = true;
  while (!stack.empty()) {
    unsigned v = stack.back();
    stack.pop_back();
    for (unsigned e : adj[v])
      if (edges[e].residual > 0 && !seen[edges[e].to]) {
        seen[edges[e].to] = true;
        stack.push_back(edges[e].to);
      }
  }
  return seen;
}

} // namespace qn::placement

//===- Greedy.cpp - ggml-like greedy backend assignment -------------------===//
//
// A simplified but faithful copy of ggml_backend_sched_split_graph's
// assignment passes (spec §8.2), with CUDA the higher-priority backend and
// CPU the last one:
//  1. nodes with a weight, resident state or pin go to that backend;
//  2. expansion walks over the nodes in graph order, skipping leaves (graph
//     inputs, which are leaves, not nodes, in ggml): CUDA down, CUDA up,
//     then any backend down, any backend up; a walk assigns its current
//     backend to unassigned nodes the backend supports;
//  3. left-overs go to the allowed backend with most inputs already on it
//     (ggml's "most supported inputs" rule); ggml's buffer-type upgrade is a
//     no-op between CPU and CUDA buffers and is omitted. Results of
//     multi-result ops (Node::sameAs) follow their op.
//
//===----------------------------------------------------------------------===//
#include "passes/placement/Assign.h"

#include <optional>

namespace qn::placement {

Assignment assignGreedy(const Graph &g,
                        const std::vector<BackendMask> &allowed) {
  const size_t n = g.size();
  std::vector<std::optional<Backend>> at(n);

  // Pass 1.
  for (NodeId v = 0; v < n; ++v) {
    const Node &node = g[v];
    if (node.pin || !node.weights.empty() || !node.state.empty())
      at[v] = allowed[v] == maskOf(Backend::CPU) ? Backend::CPU : Backend::CUDA;
  }

  // Tied result nodes are not nodes of their own in ggml: the walks skip
  // them and they take their op's backend at the end.
  auto isLeaf = [&](NodeId v) {
    return g[v].inputs.empty() || g[v].sameAs.has_value();
  };
  auto trySet = [&](NodeId v, Backend b) {
    if (allowed[v] & maskOf(b))
      at[v] = b;
  };
  // One expansion walk. `gpuOnly`: a CPU node stops the walk's current
  // backend instead of becoming it.
  auto walk = [&](bool down, bool gpuOnly) {
    int cur = -1; // the walk's current backend, -1 for none (an int, not an
                  // optional: g++ 12 warns spuriously on the latter here)
    for (size_t i = 0; i < n; ++i) {
      NodeId v = NodeId(down ? i : n - 1 - i);
      if (isLeaf(v))
        continue;
      if (at[v])
        cur = (gpuOnly && *at[v] == Backend::CPU) ? -1 : int(*at[v]);
      else if (cur >= 0)
        trySet(v, Backend(cur));
    }
  };
  // Pass 2.
  walk(/*down=*/true, /*gpuOnly=*/true);
  walk(/*down=*/false, /*gpuOnly=*/true);
  walk(/*down=*/true, /*gpuOnly=*/false);
  walk(/*down=*/false, /*gpuOnly=*/false);

  // Pass 3 (left-overs, incl. unreached leaves), in graph order.
  Assignment a(n);
  for (NodeId v = 0; v < n; ++v) {
    if (g[v].sameAs) {
      a[v] = a[*g[v].sameAs];
      continue;
    }
    if (!at[v]) {
      unsigned count[kNumBackends] = {0, 0};
      for (NodeId in : g[v].inputs)
        if (at[in])
          ++count[unsigned(*at[in])];
      // Higher priority (CUDA) wins ties.
      std::optional<Backend> best;
      for (Backend b : {Backend::CUDA, Backend::CPU})
        if ((allowed[v] & maskOf(b)) &&
            (!best || count[unsigned(b)] > count[unsigned(*best)]))
          best = b;
      at[v] = *best;
    }
    a[v] = *at[v];
  }
  return a;
}

} // namespace qn::placement

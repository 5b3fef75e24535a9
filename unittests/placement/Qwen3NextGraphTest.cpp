//===- Qwen3NextGraphTest.cpp - the model graph and its placements --------===//
#include "passes/placement/Qwen3NextGraph.h"
#include "passes/placement/Assign.h"

#include "gtest/gtest.h"

#include <ctime>

using namespace qn::placement;

namespace {

struct Result {
  Cost exact, greedy;
};

Result place(const Graph &g, const PlacementOptions &opts) {
  auto allowed = llvm::cantFail(resolveAllowed(g, opts));
  Assignment exact = llvm::cantFail(assignMinCut(g, allowed));
  Assignment greedy = assignGreedy(g, allowed);
  EXPECT_TRUE(isFeasible(g, exact, allowed));
  EXPECT_TRUE(isFeasible(g, greedy, allowed));
  return {evaluate(g, exact), evaluate(g, greedy)};
}

TEST(Qwen3NextGraph, NodeCountsAndNames) {
  ModelShape s = ModelShape::qwen3Next80BA3B();
  Graph g = llvm::cantFail(buildQwen3NextGraph(s, 8));
  unsigned deltaNets = 0, attns = 0, expertMatmuls = 0;
  for (const Node &n : g.all()) {
    deltaNets += n.kind == "delta_net";
    attns += n.kind == "flash_attn_ext";
    for (const Resident &w : n.weights)
      expertMatmuls += llvm::StringRef(w.name).ends_with("_exps.weight");
  }
  // Spec §1.2: 36 linear + 12 full-attention layers; 3 expert tensors each.
  EXPECT_EQ(deltaNets, 36u);
  EXPECT_EQ(attns, 12u);
  EXPECT_EQ(expertMatmuls, 48u * 3);
}

TEST(Qwen3NextGraph, CpuOnlyHasNoTransfers) {
  Graph g =
      llvm::cantFail(buildQwen3NextGraph(ModelShape::qwen3Next80BA3B(), 32));
  PlacementOptions opts; // device cpu
  Result r = place(g, opts);
  EXPECT_EQ(r.exact.transfers, 0u);
  EXPECT_EQ(r.greedy.transfers, 0u);
}

// All on CUDA: the host-side embedding's output, the positions, the mask and
// the output row ids go up once each, the logits come down: 5 transfers.
TEST(Qwen3NextGraph, AllOnCudaIsFiveTransfers) {
  Graph g =
      llvm::cantFail(buildQwen3NextGraph(ModelShape::qwen3Next80BA3B(), 32));
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  Result r = place(g, opts);
  EXPECT_EQ(r.exact.transfers, 5u);
  EXPECT_LE(r.exact.transfers, r.greedy.transfers);
}

TEST(Qwen3NextGraph, ExactNeverWorseThanGreedyForNCpuMoe) {
  ModelShape s = ModelShape::qwen3Next80BA3B();
  for (int64_t T : {1, 512}) {
    Graph g = llvm::cantFail(buildQwen3NextGraph(s, T));
    for (unsigned n : {0u, 12u, 24u, 48u}) {
      PlacementOptions opts;
      opts.device = Backend::CUDA;
      opts.nCpuMoe = n;
      Result r = place(g, opts);
      EXPECT_TRUE(r.exact <= r.greedy) << "T=" << T << " n-cpu-moe=" << n;
      // Experts on the CPU cost at least a round trip per offloaded layer.
      EXPECT_GE(r.exact.transfers, 2u * n) << "n-cpu-moe=" << n;
    }
  }
}

// CPU time, not wall time: the test machines are shared and often loaded.
TEST(Qwen3NextGraph, FortyEightLayersPlaceWellUnderASecond) {
  std::clock_t t0 = std::clock();
  Graph g =
      llvm::cantFail(buildQwen3NextGraph(ModelShape::qwen3Next80BA3B(), 512));
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  opts.nCpuMoe = 24;
  auto allowed = llvm::cantFail(resolveAllowed(g, opts));
  Assignment a = llvm::cantFail(assignMinCut(g, allowed));
  double s = double(std::clock() - t0) / CLOCKS_PER_SEC;
  EXPECT_EQ(a.size(), g.size());
  EXPECT_LT(s, 0.5);
}

TEST(Qwen3NextGraph, BadShapeIsAnError) {
  ModelShape s = ModelShape::qwen3Next80BA3B();
  s.nExpertUsed = 0;
  auto g = buildQwen3NextGraph(s, 1);
  ASSERT_FALSE(bool(g));
  EXPECT_NE(llvm::toString(g.takeError()).find("expert_used_count"),
            std::string::npos);
  auto g2 = buildQwen3NextGraph(ModelShape::qwen3Next80BA3B(), 0);
  EXPECT_FALSE(bool(g2));
  llvm::consumeError(g2.takeError());
}

} // namespace

//===- AssignTest.cpp - min-cut vs brute force vs greedy ------------------===//
#include "passes/placement/Assign.h"

#include "gtest/gtest.h"

#include <random>

using namespace qn::placement;

namespace {

/// The optimum by enumeration of all 2^n assignments: an oracle independent
/// of the flow network.
std::optional<Cost> bruteForce(const Graph &g,
                               const std::vector<BackendMask> &allowed) {
  std::optional<Cost> best;
  const size_t n = g.size();
  for (uint64_t bits = 0; bits < (uint64_t(1) << n); ++bits) {
    Assignment a(n);
    for (size_t i = 0; i < n; ++i)
      a[i] = (bits >> i) & 1 ? Backend::CUDA : Backend::CPU;
    if (!isFeasible(g, a, allowed))
      continue;
    Cost c = evaluate(g, a);
    if (!best || c < *best)
      best = c;
  }
  return best;
}

struct RandomCase {
  Graph g;
  PlacementOptions opts;
};

/// A random DAG with weights on both backends, pins, and unsupported kinds.
RandomCase randomCase(std::mt19937 &rng, unsigned n) {
  RandomCase rc;
  rc.opts.device = Backend::CUDA;
  rc.opts.overrides.push_back({"^wcpu", Backend::CPU});
  const char *kinds[] = {"a", "b", "c", "d"};
  // Some kinds are unsupported somewhere; "d" is fine everywhere.
  if (rng() % 2)
    rc.opts.support.markUnsupported(Backend::CUDA, "a");
  if (rng() % 3 == 0)
    rc.opts.support.markUnsupported(Backend::CPU, "b");
  for (unsigned i = 0; i < n; ++i) {
    std::vector<NodeId> ins;
    for (unsigned j = 0; j < i; ++j)
      if (rng() % 4 == 0)
        ins.push_back(j);
    std::vector<Resident> weights;
    unsigned r = rng() % 8;
    std::string kind = kinds[rng() % 4];
    if (r == 0)
      weights.push_back("wcpu." + std::to_string(i));
    else if (r == 1)
      weights.push_back("wgpu." + std::to_string(i));
    uint64_t bytes = 1 + rng() % 1000;
    NodeId id = rc.g.add(kind, "n" + std::to_string(i), bytes, ins, weights);
    if (r == 2)
      rc.g[id].pin = Backend::CPU;
    // A multi-result op: its results are tied nodes of their own.
    if (rng() % 5 == 0 && i + 2 < n) {
      rc.g.addResultOf(id, "n" + std::to_string(i) + "#0", 1 + rng() % 1000);
      rc.g.addResultOf(id, "n" + std::to_string(i) + "#1", 1 + rng() % 1000);
      i += 2;
    }
  }
  return rc;
}

TEST(Assign, MinCutEqualsBruteForceOnRandomGraphs) {
  std::mt19937 rng(12345);
  unsigned checked = 0, withTransfers = 0;
  for (int iter = 0; iter < 400; ++iter) {
    RandomCase rc = randomCase(rng, 3 + rng() % 11);
    auto allowed = resolveAllowed(rc.g, rc.opts);
    if (!allowed) {
      llvm::consumeError(allowed.takeError());
      continue; // an op with no possible backend
    }
    std::optional<Cost> best = bruteForce(rc.g, *allowed);
    ASSERT_TRUE(best);
    auto a = assignMinCut(rc.g, *allowed);
    ASSERT_TRUE(bool(a)) << llvm::toString(a.takeError());
    ASSERT_TRUE(isFeasible(rc.g, *a, *allowed));
    Cost c = evaluate(rc.g, *a);
    EXPECT_EQ(c.transfers, best->transfers) << "iteration " << iter;
    EXPECT_EQ(c.bytes, best->bytes) << "iteration " << iter;
    ++checked;
    withTransfers += best->transfers > 0;
  }
  // The generator must produce real work, not only trivial cases.
  EXPECT_GT(checked, 200u);
  EXPECT_GT(withTransfers, 50u);
}

TEST(Assign, GreedyIsFeasibleAndNeverBetter) {
  std::mt19937 rng(777);
  unsigned strictlyBetter = 0;
  for (int iter = 0; iter < 400; ++iter) {
    RandomCase rc = randomCase(rng, 3 + rng() % 30);
    auto allowed = resolveAllowed(rc.g, rc.opts);
    if (!allowed) {
      llvm::consumeError(allowed.takeError());
      continue;
    }
    Assignment greedy = assignGreedy(rc.g, *allowed);
    ASSERT_TRUE(isFeasible(rc.g, greedy, *allowed));
    auto exact = assignMinCut(rc.g, *allowed);
    ASSERT_TRUE(bool(exact));
    Cost ce = evaluate(rc.g, *exact), cg = evaluate(rc.g, greedy);
    EXPECT_TRUE(ce <= cg) << "iteration " << iter;
    strictlyBetter += ce < cg;
  }
  EXPECT_GT(strictlyBetter, 0u);
}

// A value read by two consumers on the other backend is one transfer.
TEST(Assign, SharedValueIsOneTransfer) {
  Graph g;
  NodeId src = g.addPinned("input", "in", 100, {}, Backend::CPU);
  NodeId a = g.add("op", "a", 10, {src}, {"w.a"});
  NodeId b = g.add("op", "b", 10, {src}, {"w.b"});
  g.addPinned("output", "out", 0, {a, b}, Backend::CPU);
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  auto allowed = resolveAllowed(g, opts);
  ASSERT_TRUE(bool(allowed));
  auto as = assignMinCut(g, *allowed);
  ASSERT_TRUE(bool(as));
  // in -> cuda once (100 bytes), a and b back to the CPU (10 each).
  Cost c = evaluate(g, *as);
  EXPECT_EQ(c.transfers, 3u);
  EXPECT_EQ(c.bytes, 120u);
}

// Bytes break ties between equal transfer counts: the small value crosses.
TEST(Assign, BytesBreakTies) {
  Graph g;
  NodeId in = g.addPinned("input", "in", 100, {}, Backend::CPU);
  NodeId big = g.add("op", "expand", 1000, {in}); // free
  NodeId small = g.add("op", "reduce", 8, {big}); // free
  NodeId gpu = g.add("op", "gpu", 8, {small}, {"w.gpu"});
  g.addPinned("output", "out", 0, {gpu}, Backend::CPU);
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  auto allowed = resolveAllowed(g, opts);
  ASSERT_TRUE(bool(allowed));
  auto as = assignMinCut(g, *allowed);
  ASSERT_TRUE(bool(as));
  Cost c = evaluate(g, *as);
  EXPECT_EQ(c.transfers, 2u);
  // Crossing after in (100), expand (1000) or reduce (8): reduce wins.
  EXPECT_EQ(c.bytes, 16u); // reduce (8) up, gpu (8) down
  EXPECT_EQ((*as)[big], Backend::CPU);
  EXPECT_EQ((*as)[small], Backend::CPU);
}

TEST(Placement, ForcedAndUnsupportedRespected) {
  Graph g;
  NodeId in = g.addPinned("input", "in", 4, {}, Backend::CPU);
  NodeId x = g.add("delta_net", "x", 4, {in});
  NodeId y = g.add("mul_mat", "y", 4, {x}, {"blk.0.ffn_up_exps.weight"});
  NodeId z = g.add("mul_mat", "z", 4, {y}, {"blk.1.ffn_up_exps.weight"});
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  opts.nCpuMoe = 1;
  opts.support.markUnsupported(Backend::CUDA, "delta_net");
  auto allowed = resolveAllowed(g, opts);
  ASSERT_TRUE(bool(allowed));
  EXPECT_EQ((*allowed)[x], maskOf(Backend::CPU));
  EXPECT_EQ((*allowed)[y], maskOf(Backend::CPU)); // layer 0 < n-cpu-moe
  EXPECT_EQ((*allowed)[z], maskOf(Backend::CUDA));
  for (auto assign : {0, 1}) {
    Assignment a = assign ? assignGreedy(g, *allowed)
                          : llvm::cantFail(assignMinCut(g, *allowed));
    EXPECT_EQ(a[x], Backend::CPU);
    EXPECT_EQ(a[y], Backend::CPU);
    EXPECT_EQ(a[z], Backend::CUDA);
  }
}

TEST(Placement, OverrideRulesFirstMatchWinsBeforeNCpuMoe) {
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  opts.nCpuMoe = 2;
  opts.overrides.push_back(
      llvm::cantFail(parseOverrideRule("blk\\.1\\.ffn_up=cuda")));
  opts.overrides.push_back(llvm::cantFail(parseOverrideRule("attn_q=cpu")));
  auto wp = WeightPlacement::create(opts);
  ASSERT_TRUE(bool(wp));
  EXPECT_EQ(wp->weightBackend("blk.1.ffn_up_exps.weight"), Backend::CUDA);
  EXPECT_EQ(wp->weightBackend("blk.1.ffn_down_exps.weight"), Backend::CPU);
  EXPECT_EQ(wp->weightBackend("blk.11.ffn_down_exps.weight"), Backend::CUDA);
  EXPECT_EQ(wp->weightBackend("blk.3.attn_q.weight"), Backend::CPU);
  EXPECT_EQ(wp->weightBackend("blk.3.attn_k.weight"), Backend::CUDA);
  EXPECT_EQ(wp->weightBackend("token_embd.weight"), Backend::CPU);
}

TEST(Placement, BadInputIsAnErrorNotACrash) {
  auto r1 = parseOverrideRule("no-equals-sign");
  EXPECT_FALSE(bool(r1));
  llvm::consumeError(r1.takeError());
  auto r2 = parseOverrideRule("exps=tpu");
  ASSERT_FALSE(bool(r2));
  EXPECT_NE(llvm::toString(r2.takeError()).find("tpu"), std::string::npos);
  auto r3 = parseOverrideRule("(unclosed=cpu");
  EXPECT_FALSE(bool(r3));
  llvm::consumeError(r3.takeError());

  // An op no backend supports names the op and its kind.
  Graph g;
  g.add("special", "op0", 4, {}, {"w"});
  PlacementOptions opts;
  opts.support.markUnsupported(Backend::CPU, "special");
  opts.support.markUnsupported(Backend::CUDA, "special");
  auto allowed = resolveAllowed(g, opts);
  ASSERT_FALSE(bool(allowed));
  std::string msg = llvm::toString(allowed.takeError());
  EXPECT_NE(msg.find("op0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("special"), std::string::npos) << msg;

  // A pinned node on a backend that cannot run it.
  Graph g2;
  g2.addPinned("input", "in0", 4, {}, Backend::CPU);
  PlacementOptions opts2;
  opts2.support.markUnsupported(Backend::CPU, "input");
  auto allowed2 = resolveAllowed(g2, opts2);
  ASSERT_FALSE(bool(allowed2));
  EXPECT_NE(llvm::toString(allowed2.takeError()).find("in0"),
            std::string::npos);

  SupportTable t;
  llvm::Error e = t.parseUnsupported("gpu:foo");
  EXPECT_TRUE(bool(e));
  llvm::consumeError(std::move(e));
  EXPECT_FALSE(bool(t.parseUnsupported("cuda:delta_net")));
  EXPECT_FALSE(t.supports(Backend::CUDA, "delta_net"));
}

// A node runs where most of its resident bytes live; the others are copies.
// A backend that cannot run the op overrides the residents (ggml copies the
// weight then, too).
TEST(Placement, ResidentBytesDecideAndCopiesAreReported) {
  Graph g;
  NodeId a = g.add("conv", "a", 4, {}, {Resident("small.w", 10)},
                   {Resident("big.state", 1000)});
  NodeId b = g.add("conv", "b", 4, {}, {Resident("big.w", 5000)},
                   {Resident("small.state", 100)});
  NodeId c = g.add("only_cuda", "c", 4, {}, {Resident("small.w2", 8)});
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  opts.overrides.push_back({"^(small|big)\\.w", Backend::CPU});
  opts.support.markUnsupported(Backend::CPU, "only_cuda");
  auto cons = resolveConstraints(g, opts);
  ASSERT_TRUE(bool(cons)) << llvm::toString(cons.takeError());
  EXPECT_EQ(cons->allowed[a], maskOf(Backend::CUDA));
  EXPECT_EQ(cons->allowed[b], maskOf(Backend::CPU));
  EXPECT_EQ(cons->allowed[c], maskOf(Backend::CUDA));
  ASSERT_EQ(cons->copies.size(), 3u);
  EXPECT_EQ(cons->copies[0].name, "small.w");
  EXPECT_EQ(cons->copies[0].count, 1u);
  EXPECT_EQ(cons->copies[1].name, "small.state");
  EXPECT_EQ(cons->copies[1].count, 2u); // read and written back
  EXPECT_EQ(cons->copies[1].from, Backend::CUDA);
  EXPECT_EQ(cons->copies[2].name, "small.w2");
}

// Results of one op stay with it even when their consumers are elsewhere.
TEST(Assign, TiedResultsFollowTheirOp) {
  Graph g;
  NodeId in = g.addPinned("input", "in", 4, {}, Backend::CPU);
  NodeId op = g.add("op", "op", 0, {in});
  NodeId r0 = g.addResultOf(op, "op#0", 10);
  NodeId r1 = g.addResultOf(op, "op#1", 10);
  NodeId c0 = g.add("op", "c0", 4, {r0}, {"w.gpu0"});
  NodeId c1 = g.add("op", "c1", 4, {r1}, {"w.gpu1"});
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  auto allowed = llvm::cantFail(resolveAllowed(g, opts));
  for (auto useGreedy : {false, true}) {
    Assignment a = useGreedy ? assignGreedy(g, allowed)
                             : llvm::cantFail(assignMinCut(g, allowed));
    ASSERT_TRUE(isFeasible(g, a, allowed));
    EXPECT_EQ(a[r0], a[op]);
    EXPECT_EQ(a[r1], a[op]);
    EXPECT_EQ(a[c0], Backend::CUDA);
    EXPECT_EQ(a[c1], Backend::CUDA);
  }
  // Exact: run the op on CUDA, moving only the 4-byte input.
  Cost c = evaluate(g, llvm::cantFail(assignMinCut(g, allowed)));
  EXPECT_EQ(c.transfers, 1u);
  EXPECT_EQ(c.bytes, 4u);
}

TEST(Placement, SupportTableFromJSON) {
  SupportTable t;
  ASSERT_FALSE(bool(t.addJSON(
      R"({"cuda": {"supported": ["mul_mat", "add"], "unsupported": ["add"]},
          "cpu": {"unsupported": ["special"]}})",
      "inline")));
  EXPECT_TRUE(t.supports(Backend::CUDA, "mul_mat"));
  EXPECT_FALSE(t.supports(Backend::CUDA, "add"));      // listed unsupported
  EXPECT_FALSE(t.supports(Backend::CUDA, "rms_norm")); // not in the list
  EXPECT_TRUE(t.supports(Backend::CPU, "rms_norm"));
  EXPECT_FALSE(t.supports(Backend::CPU, "special"));

  for (const char *bad :
       {"[1, 2]", R"({"tpu": {}})", R"({"cuda": []})",
        R"({"cuda": {"maybe": []}})", R"({"cuda": {"supported": [1]}})",
        R"({"cuda": {"supported": "mul_mat"}})", "{not json"}) {
    SupportTable u;
    llvm::Error e = u.addJSON(bad, "t.json");
    ASSERT_TRUE(bool(e)) << bad;
    std::string msg = llvm::toString(std::move(e));
    EXPECT_NE(msg.find("support table t.json"), std::string::npos) << msg;
  }
}

// Contradictory allowed sets (only possible when built by hand) are an error,
// not an overflow or a silently infeasible answer.
TEST(Assign, ContradictoryConstraintsAreAnError) {
  Graph g;
  NodeId op = g.add("op", "op", 0, {});
  g.addResultOf(op, "op#0", 8);
  std::vector<BackendMask> allowed = {maskOf(Backend::CUDA),
                                      maskOf(Backend::CPU)};
  auto a = assignMinCut(g, allowed);
  ASSERT_FALSE(bool(a));
  EXPECT_NE(llvm::toString(a.takeError()).find("contradict"),
            std::string::npos);
}

// Tied results are not looked up in the support table: they follow their op
// even under an exhaustive "supported" list that does not name them.
TEST(Placement, TiedResultsIgnoreTheSupportTable) {
  Graph g;
  NodeId op = g.add("conv", "conv", 0, {}, {"w"});
  NodeId r = g.addResultOf(op, "conv#0", 8);
  PlacementOptions opts;
  opts.device = Backend::CUDA;
  ASSERT_FALSE(bool(
      opts.support.addJSON(R"({"cuda": {"supported": ["conv"]}})", "inline")));
  auto allowed = llvm::cantFail(resolveAllowed(g, opts));
  EXPECT_EQ(allowed[op], maskOf(Backend::CUDA));
  EXPECT_EQ(allowed[r], maskOf(Backend::CUDA));
}

TEST(Placement, RunsCount) {
  Graph g;
  NodeId a = g.addPinned("input", "a", 1, {}, Backend::CPU);
  NodeId b = g.add("op", "b", 1, {a});
  NodeId c = g.add("op", "c", 1, {a});
  g.add("op", "d", 1, {b, c});
  Assignment as = {Backend::CPU, Backend::CUDA, Backend::CPU, Backend::CUDA};
  EXPECT_EQ(countRunsInOrder(as), 4u);
  // Scheduled: a, c (cpu) then b, d (cuda).
  EXPECT_EQ(countRunsScheduled(g, as), 2u);
}

} // namespace

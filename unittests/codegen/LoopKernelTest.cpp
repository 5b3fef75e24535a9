//===- LoopKernelTest.cpp - the chunked delta rule as a JIT'ed loop kernel ===//
//
// One qn.gated_delta_net goes through the chunked expansion of delta mode 0
// (the pass for a static token count, buildChunkedDeltaNet for a dynamic
// one: the chunked branch of the pass's scf.if guard), optionally
// qn-fuse-repeat-broadcast, then emitLoopKernel and the CPU JIT. Output and
// new state are compared with the runtime's recurrent step (gatedDeltaStep,
// token by token) and with a double-precision transcription of the
// recurrence, on fresh random inputs: token counts around the chunk size
// (tails, several chunks), grouped and ungrouped heads, dk != dv, the state
// buffer shared by argument and result.
//
//===----------------------------------------------------------------------===//

#include "codegen/LoopKernel.h"
#include "codegen/CpuJit.h"

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"
#include "passes/ChunkedDeltaBuilder.h"
#include "passes/Passes.h"
#include "runtime/ops/DeltaNet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace mlir;

namespace {

struct Heads {
  int64_t Hk, Hv, dk, dv;
};

std::string dims(std::initializer_list<int64_t> ds) {
  std::string s;
  for (int64_t d : ds)
    s += (d < 0 ? std::string("?") : std::to_string(d)) + "x";
  return s + "f32";
}

/// A function with one gated delta net; `T` < 0: dynamic token count.
std::string deltaSource(int64_t T, const Heads &h) {
  std::string q = "tensor<" + dims({T, h.Hk, h.dk}) + ">",
              v = "tensor<" + dims({T, h.Hv, h.dv}) + ">",
              g = "tensor<" + dims({T, h.Hv}) + ">",
              s = "tensor<" + dims({h.Hv, h.dk, h.dv}) + ">";
  return "func.func @delta(%q: " + q + ", %k: " + q + ", %v: " + v +
         ", %g: " + g + ", %b: " + g + ", %s: " + s + ") -> (" + v + ", " + s +
         ") {\n  %o, %s1 = qn.gated_delta_net %q, %k, %v, %g, %b, %s : (" + q +
         ", " + q + ", " + v + ", " + g + ", " + g + ", " + s + ") -> (" + v +
         ", " + s + ")\n  return %o, %s1 : " + v + ", " + s + "\n}\n";
}

enum class Expand { Pass, Builder };

/// The chunked form of deltaSource(T, h): by qn-select-delta-path{mode=0}
/// (static T > 1) or by buildChunkedDeltaNet directly (any T).
OwningOpRef<ModuleOp> chunkedModule(MLIRContext &ctx, int64_t T, const Heads &h,
                                    Expand how, bool fuse) {
  OwningOpRef<ModuleOp> m =
      parseSourceString<ModuleOp>(deltaSource(T, h), &ctx);
  if (!m)
    return nullptr;
  PassManager pm(&ctx);
  if (how == Expand::Pass) {
    qn::SelectDeltaPathPassOptions opts;
    opts.mode = "0";
    pm.addNestedPass<func::FuncOp>(qn::createSelectDeltaPathPass(opts));
  } else {
    m->walk([](qn::GatedDeltaNetOp op) {
      OpBuilder b(op);
      auto [o, s] = qn::buildChunkedDeltaNet(b, op);
      op.getResult().replaceAllUsesWith(o);
      op.getNewState().replaceAllUsesWith(s);
      op.erase();
    });
  }
  if (fuse)
    pm.addNestedPass<func::FuncOp>(qn::createFuseRepeatBroadcastPass());
  if (failed(pm.run(*m)) || failed(verify(*m)))
    return nullptr;
  return m;
}

template <int N>
StridedMemRefType<float, N> view(std::vector<float> &data,
                                 std::array<int64_t, N> sizes) {
  StridedMemRefType<float, N> m;
  m.basePtr = m.data = data.data();
  m.offset = 0;
  int64_t stride = 1;
  for (int d = N - 1; d >= 0; --d) {
    m.sizes[d] = sizes[d];
    m.strides[d] = stride;
    stride *= sizes[d];
  }
  return m;
}

struct Problem {
  int64_t T;
  Heads h;
  std::vector<float> q, k, v, g, beta, state;
};

void normalise(float *x, int64_t n) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i)
    ss += double(x[i]) * x[i];
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(x[i] / std::sqrt(ss));
}

/// No zeros: q, k L2-normalised, g in [-2, -0.01], beta in (0, 1), a random
/// incoming state.
Problem makeProblem(std::mt19937 &rng, int64_t T, const Heads &h) {
  Problem p{T, h, {}, {}, {}, {}, {}, {}};
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(-2.0f, -0.01f),
      ub(0.05f, 0.95f);
  auto fill = [&](std::vector<float> &x, int64_t n, auto &dist) {
    x.resize(static_cast<size_t>(n));
    for (float &e : x)
      if ((e = dist(rng)) == 0.0f)
        e = 0.25f;
  };
  fill(p.q, T * h.Hk * h.dk, u);
  fill(p.k, T * h.Hk * h.dk, u);
  fill(p.v, T * h.Hv * h.dv, u);
  fill(p.state, h.Hv * h.dk * h.dv, u);
  fill(p.g, T * h.Hv, ug);
  fill(p.beta, T * h.Hv, ub);
  for (int64_t i = 0; i < T * h.Hk; ++i) {
    normalise(p.q.data() + i * h.dk, h.dk);
    normalise(p.k.data() + i * h.dk, h.dk);
  }
  return p;
}

/// The runtime's recurrent step over tokens and heads (value head h reads
/// key head h / (Hv / Hk)).
void runtimeReference(const Problem &p, std::vector<float> &out,
                      std::vector<float> &state) {
  const Heads &h = p.h;
  out.assign(static_cast<size_t>(p.T * h.Hv * h.dv), 0.0f);
  state = p.state;
  std::vector<float> scratch(static_cast<size_t>(h.dv));
  for (int64_t t = 0; t < p.T; ++t)
    for (int64_t hv = 0; hv < h.Hv; ++hv) {
      const int64_t hk = hv / (h.Hv / h.Hk);
      qn::runtime::gatedDeltaStep(
          state.data() + hv * h.dk * h.dv, p.q.data() + (t * h.Hk + hk) * h.dk,
          p.k.data() + (t * h.Hk + hk) * h.dk,
          p.v.data() + (t * h.Hv + hv) * h.dv, p.g[t * h.Hv + hv],
          p.beta[t * h.Hv + hv], h.dk, h.dv,
          out.data() + (t * h.Hv + hv) * h.dv, scratch.data());
    }
}

/// The recurrence in double (spec 3.2 step 8).
void doubleReference(const Problem &p, std::vector<double> &out,
                     std::vector<double> &state) {
  const Heads &h = p.h;
  const double s = 1.0 / std::sqrt(double(h.dk));
  out.assign(static_cast<size_t>(p.T * h.Hv * h.dv), 0.0);
  state.assign(p.state.begin(), p.state.end());
  std::vector<double> delta(static_cast<size_t>(h.dv));
  for (int64_t hv = 0; hv < h.Hv; ++hv) {
    double *M = state.data() + hv * h.dk * h.dv;
    const int64_t hk = hv / (h.Hv / h.Hk);
    for (int64_t t = 0; t < p.T; ++t) {
      const float *q = p.q.data() + (t * h.Hk + hk) * h.dk;
      const float *k = p.k.data() + (t * h.Hk + hk) * h.dk;
      const float *v = p.v.data() + (t * h.Hv + hv) * h.dv;
      const double alpha = std::exp(double(p.g[t * h.Hv + hv]));
      const double beta = p.beta[t * h.Hv + hv];
      for (int64_t e = 0; e < h.dk * h.dv; ++e)
        M[e] *= alpha;
      for (int64_t i = 0; i < h.dv; ++i) {
        double mk = 0;
        for (int64_t j = 0; j < h.dk; ++j)
          mk += M[j * h.dv + i] * k[j];
        delta[i] = beta * (v[i] - mk);
      }
      for (int64_t j = 0; j < h.dk; ++j)
        for (int64_t i = 0; i < h.dv; ++i)
          M[j * h.dv + i] += k[j] * delta[i];
      double *o = out.data() + (t * h.Hv + hv) * h.dv;
      for (int64_t i = 0; i < h.dv; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < h.dk; ++j)
          acc += M[j * h.dv + i] * s * q[j];
        o[i] = acc;
      }
    }
  }
}

/// max |got - ref| / max |ref|.
template <typename R>
double relError(const std::vector<float> &got, const std::vector<R> &ref) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::abs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::abs(double(ref[i])));
  }
  return err / std::max(scale, 1e-30);
}

using Kernel = void (*)(void *, void *, void *, void *, void *, void *, void *,
                        void *);

/// Runs the kernel on `p`; `aliasState`: the new state is written over the
/// incoming state's buffer, as the executor does.
void runKernel(Kernel fn, const Problem &p, bool aliasState,
               std::vector<float> &out, std::vector<float> &state) {
  const Heads &h = p.h;
  Problem in = p; // the kernel must not write its inputs
  out.assign(static_cast<size_t>(p.T * h.Hv * h.dv), -7.0f);
  std::vector<float> newState(in.state.size(), -7.0f);
  auto q = view<3>(in.q, {p.T, h.Hk, h.dk}),
       k = view<3>(in.k, {p.T, h.Hk, h.dk});
  auto v = view<3>(in.v, {p.T, h.Hv, h.dv});
  auto g = view<2>(in.g, {p.T, h.Hv}), beta = view<2>(in.beta, {p.T, h.Hv});
  auto s = view<3>(in.state, {h.Hv, h.dk, h.dv});
  auto o = view<3>(out, {p.T, h.Hv, h.dv});
  auto s1 = aliasState ? s : view<3>(newState, {h.Hv, h.dk, h.dv});
  fn(&q, &k, &v, &g, &beta, &s, &o, &s1);
  state = aliasState ? in.state : newState;
  if (!aliasState) {
    EXPECT_EQ(in.state, p.state) << "the kernel wrote its state argument";
  }
  EXPECT_EQ(in.q, p.q);
  EXPECT_EQ(in.v, p.v);
}

constexpr double kTol = 1e-4;

void checkAgainstReferences(Kernel fn, const Problem &p, bool aliasState,
                            const std::string &what) {
  std::vector<float> out, state, rOut, rState;
  runKernel(fn, p, aliasState, out, state);
  runtimeReference(p, rOut, rState);
  std::vector<double> dOut, dState;
  doubleReference(p, dOut, dState);
  EXPECT_LE(relError(out, rOut), kTol) << what << ": output vs gatedDeltaStep";
  EXPECT_LE(relError(state, rState), kTol)
      << what << ": state vs gatedDeltaStep";
  EXPECT_LE(relError(out, dOut), kTol) << what << ": output vs double";
  EXPECT_LE(relError(state, dState), kTol) << what << ": state vs double";
}

class LoopKernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    ctx.loadDialect<qn::QNDialect, func::FuncDialect, arith::ArithDialect,
                    scf::SCFDialect, tensor::TensorDialect>();
  }

  /// Emits @delta of `m` as kernel `name` into a fresh module and JITs it.
  /// O3 (what compileModel uses) costs ~3 s per kernel on this machine, so
  /// only one kernel is built at O3 and the rest at O0 (the same IR; the
  /// tests are about its meaning).
  Kernel compile(ModuleOp m, const std::string &name, unsigned optLevel = 0) {
    kernels = ModuleOp::create(UnknownLoc::get(&ctx));
    auto f = m.lookupSymbol<func::FuncOp>("delta");
    if (llvm::Error err = qn::codegen::emitLoopKernel(f, *kernels, name)) {
      ADD_FAILURE() << llvm::toString(std::move(err));
      return nullptr;
    }
    // QN_DUMP_LOOP_KERNEL=FILE: the generated kernel before lowering, to
    // inspect it or time its lowering with mlir-opt / opt / llc.
    if (const char *dump = getenv("QN_DUMP_LOOP_KERNEL")) {
      std::error_code ec;
      llvm::raw_fd_ostream os(dump, ec);
      kernels->print(os);
    }
    if (failed(verify(*kernels))) {
      ADD_FAILURE() << "the kernel does not verify";
      return nullptr;
    }
    qn::codegen::CpuJitOptions options;
    options.optLevel = optLevel;
    auto compiled = qn::codegen::CpuJit::compile(*kernels, options);
    if (!compiled) {
      ADD_FAILURE() << llvm::toString(compiled.takeError());
      return nullptr;
    }
    jit = std::move(*compiled);
    auto addr = jit->lookupKernel(name);
    if (!addr) {
      ADD_FAILURE() << llvm::toString(addr.takeError());
      return nullptr;
    }
    return reinterpret_cast<Kernel>(*addr);
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> kernels;
  std::unique_ptr<qn::codegen::CpuJit> jit;
  std::mt19937 rng{20240611};
};

const Heads kGrouped{1, 2, 8, 8};     // Hv / Hk = 2
const Heads kUngrouped{2, 2, 16, 16}; // Hk = Hv
const Heads kRect{1, 2, 8, 16};       // dk != dv

// Dynamic T: one kernel for every token count.
TEST_F(LoopKernelTest, DynamicTokensGrouped) {
  for (bool fuse : {false, true}) {
    auto m = chunkedModule(ctx, -1, kGrouped, Expand::Builder, fuse);
    ASSERT_TRUE(m);
    Kernel fn = compile(*m, fuse ? "delta_fused" : "delta", fuse ? 0 : 3);
    ASSERT_TRUE(fn);
    for (int64_t T : {1, 2, 63, 64, 65, 130}) {
      Problem p = makeProblem(rng, T, kGrouped);
      std::string what = "T=" + std::to_string(T) + (fuse ? " fused" : "");
      checkAgainstReferences(fn, p, /*aliasState=*/false, what);
      checkAgainstReferences(fn, p, /*aliasState=*/true, what + " aliased");
    }
  }
}

TEST_F(LoopKernelTest, DynamicTokensRectangular) {
  auto m = chunkedModule(ctx, -1, kRect, Expand::Builder, /*fuse=*/true);
  ASSERT_TRUE(m);
  Kernel fn = compile(*m, "delta");
  ASSERT_TRUE(fn);
  for (int64_t T : {1, 2, 63, 64, 65, 130})
    checkAgainstReferences(fn, makeProblem(rng, T, kRect), /*aliasState=*/true,
                           "dk=8 dv=16 T=" + std::to_string(T));
}

TEST_F(LoopKernelTest, StaticTokensFromThePass) {
  struct Case {
    int64_t T;
    Heads h;
    bool fuse;
  };
  // Each compile costs ~0.5 s of LLVM O3: two cases (the dynamic kernels
  // cover the token counts).
  for (const Case &c :
       {Case{130, kUngrouped, false}, Case{65, kUngrouped, true}}) {
    auto m = chunkedModule(ctx, c.T, c.h, Expand::Pass, c.fuse);
    ASSERT_TRUE(m);
    // The pass expanded the op (no guard with a static T).
    bool expanded = true;
    m->walk([&](Operation *op) {
      if (isa<qn::GatedDeltaNetOp, scf::IfOp>(op))
        expanded = false;
    });
    ASSERT_TRUE(expanded) << "T=" << c.T;
    Kernel fn = compile(*m, "delta");
    ASSERT_TRUE(fn);
    Problem p = makeProblem(rng, c.T, c.h);
    checkAgainstReferences(fn, p, /*aliasState=*/c.fuse,
                           "static T=" + std::to_string(c.T));
  }
}

// Not run by default (--gtest_also_run_disabled_tests): one 80B-A3B layer's
// sizes, the O3 kernel against the runtime's recurrent step, wall time.
TEST_F(LoopKernelTest, DISABLED_TimeRealSizes) {
  const Heads h{16, 32, 128, 128};
  const int64_t T = 512;
  auto m = chunkedModule(ctx, -1, h, Expand::Builder, /*fuse=*/true);
  ASSERT_TRUE(m);
  auto t0 = std::chrono::steady_clock::now();
  Kernel fn = compile(*m, "delta", 3);
  ASSERT_TRUE(fn);
  auto t1 = std::chrono::steady_clock::now();
  Problem p = makeProblem(rng, T, h);
  std::vector<float> out, state, rOut, rState;
  runKernel(fn, p, true, out, state);
  auto t2 = std::chrono::steady_clock::now();
  runKernel(fn, p, true, out, state);
  auto t3 = std::chrono::steady_clock::now();
  runtimeReference(p, rOut, rState);
  auto t4 = std::chrono::steady_clock::now();
  auto ms = [](auto a, auto b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  std::printf("O3 compile %.0f ms; kernel %.1f ms (first %.1f); recurrent "
              "%.1f ms; T=%lld Hv=%lld dk=dv=%lld\n",
              ms(t0, t1), ms(t2, t3), ms(t1, t2), ms(t3, t4), (long long)T,
              (long long)h.Hv, (long long)h.dk);
  EXPECT_LE(relError(out, rOut), kTol);
  EXPECT_LE(relError(state, rState), kTol);
}

TEST_F(LoopKernelTest, UnsupportedOpIsAnErrorNamingIt) {
  // The dynamic-T output of the pass keeps its scf.if guard (and the
  // recurrent op inside it): not a loop-kernel region.
  auto m = chunkedModule(ctx, -1, kGrouped, Expand::Pass, false);
  ASSERT_TRUE(m);
  kernels = ModuleOp::create(UnknownLoc::get(&ctx));
  auto f = m->lookupSymbol<func::FuncOp>("delta");
  llvm::Error err = qn::codegen::emitLoopKernel(f, *kernels, "guarded");
  ASSERT_TRUE(!!err);
  std::string msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("'scf.if'"), std::string::npos) << msg;
  EXPECT_TRUE(kernels->getBody()->empty()) << "a partial kernel was left";

  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(
      "func.func @delta(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {\n"
      "  %s = qn.softmax %x along 1 : tensor<4x8xf32>\n"
      "  return %s : tensor<4x8xf32>\n}\n",
      &ctx);
  ASSERT_TRUE(src);
  err = qn::codegen::emitLoopKernel(src->lookupSymbol<func::FuncOp>("delta"),
                                    *kernels, "softmax");
  ASSERT_TRUE(!!err);
  msg = llvm::toString(std::move(err));
  EXPECT_NE(msg.find("'qn.softmax'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("@delta"), std::string::npos) << msg;
}

/// Emits @delta of `m` (no JIT) and evaluates its allocations at `T`.
qn::codegen::LoopKernelAllocations allocationsAt(ModuleOp m, MLIRContext &ctx,
                                                 int64_t T) {
  OwningOpRef<ModuleOp> kernels = ModuleOp::create(UnknownLoc::get(&ctx));
  auto f = m.lookupSymbol<func::FuncOp>("delta");
  if (llvm::Error err = qn::codegen::emitLoopKernel(f, *kernels, "k")) {
    ADD_FAILURE() << llvm::toString(std::move(err));
    return {};
  }
  auto a = qn::codegen::loopKernelAllocations(
      kernels->lookupSymbol<func::FuncOp>("k"), T);
  if (!a) {
    ADD_FAILURE() << llvm::toString(a.takeError());
    return {};
  }
  return *a;
}

TEST_F(LoopKernelTest, AllocationsOfASmallKernel) {
  // By hand: %cs is a T x 4 buffer for the whole call (16 T bytes); %e has
  // one reader that reads each element once (the neg), so it is evaluated
  // inside the neg's loop (no buffer); %n is returned, so it gets a buffer
  // (16 T) that is copied into the caller's result. The loop-carried %s is
  // an argument, so the loop carries a copy (2 x 4, 32 bytes); each of the
  // 3 iterations allocates its cumsum (32 bytes), freed at the iteration's
  // end.
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(
      "func.func @delta(%x: tensor<?x4xf32>, %s: tensor<2x4xf32>)\n"
      "    -> (tensor<?x4xf32>, tensor<2x4xf32>) {\n"
      "  %c0 = arith.constant 0 : index\n"
      "  %c1 = arith.constant 1 : index\n"
      "  %c3 = arith.constant 3 : index\n"
      "  %cs = qn.cumsum %x along 0 : tensor<?x4xf32>\n"
      "  %e = qn.exp %cs : tensor<?x4xf32>\n"
      "  %n = qn.neg %e : tensor<?x4xf32>\n"
      "  %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%a = %s)\n"
      "      -> (tensor<2x4xf32>) {\n"
      "    %p = qn.cumsum %a along 1 : tensor<2x4xf32>\n"
      "    scf.yield %p : tensor<2x4xf32>\n"
      "  }\n"
      "  return %n, %r : tensor<?x4xf32>, tensor<2x4xf32>\n}\n",
      &ctx);
  ASSERT_TRUE(m);
  for (int64_t T : {1, 10, 1000}) {
    qn::codegen::LoopKernelAllocations a = allocationsAt(*m, ctx, T);
    EXPECT_EQ(a.allocs, 2 + 1 + 3) << "T=" << T;
    EXPECT_EQ(a.totalBytes, 32 * T + 32 + 3 * 32) << "T=" << T;
    EXPECT_EQ(a.peakBytes, 32 * T + 32 + 32) << "T=" << T;
  }
}

/// A repeat with two readers: materialized without qn-fuse-repeat-broadcast,
/// gone with it.
const char *kTwoReaderRepeat =
    "func.func @delta(%x: tensor<?x1xf32>, %y: tensor<?x64xf32>)\n"
    "    -> (tensor<?x64xf32>, tensor<?x64xf32>) {\n"
    "  %r = qn.repeat %x, [1, 64] : tensor<?x1xf32>\n"
    "  %a = qn.sub %y, %r : tensor<?x64xf32>, tensor<?x64xf32>\n"
    "  %b = qn.mul %r, %y : tensor<?x64xf32>, tensor<?x64xf32>\n"
    "  return %a, %b : tensor<?x64xf32>, tensor<?x64xf32>\n}\n";

TEST_F(LoopKernelTest, RepeatRewriteAllocatesLess) {
  // By hand: the two returned values get a T x 64 buffer each (256 T bytes
  // each) either way; without the rewrite the repeat has two readers, so it
  // is materialized too (another 256 T); with it, sub and mul broadcast %x
  // and the repeat is gone.
  auto build = [&](bool fuse) {
    OwningOpRef<ModuleOp> m =
        parseSourceString<ModuleOp>(kTwoReaderRepeat, &ctx);
    PassManager pm(&ctx);
    if (fuse)
      pm.addNestedPass<func::FuncOp>(qn::createFuseRepeatBroadcastPass());
    if (!m || failed(pm.run(*m)))
      return OwningOpRef<ModuleOp>();
    return m;
  };
  auto fused = build(true), unfused = build(false);
  ASSERT_TRUE(fused && unfused);
  for (int64_t T : {1, 7, 512}) {
    qn::codegen::LoopKernelAllocations f = allocationsAt(*fused, ctx, T),
                                       u = allocationsAt(*unfused, ctx, T);
    EXPECT_EQ(f.allocs, 2) << "T=" << T;
    EXPECT_EQ(f.totalBytes, 2 * 256 * T) << "T=" << T;
    EXPECT_EQ(u.allocs, 3) << "T=" << T;
    EXPECT_EQ(u.totalBytes, 3 * 256 * T) << "T=" << T;
    EXPECT_EQ(u.peakBytes, 3 * 256 * T) << "T=" << T;
    EXPECT_GT(u.totalBytes, f.totalBytes) << "T=" << T;
  }
}

// The chunked delta rule: the repeats that qn-fuse-repeat-broadcast removes
// (G[i], G[j] over the chunk, G_last over the chunk) each have one reader
// that reads every element once, so the loop kernel already evaluates them
// inside that reader's loop: the rewrite saves no buffer here (see
// docs/delta-path.md, "Delta mode 0 compiled: speed and bytes"). Should the
// kernel's fusion change, this is where the difference shows.
TEST_F(LoopKernelTest, RepeatRewriteSavesNoBufferInTheChunkedForm) {
  auto fused = chunkedModule(ctx, -1, kGrouped, Expand::Builder, true);
  auto unfused = chunkedModule(ctx, -1, kGrouped, Expand::Builder, false);
  ASSERT_TRUE(fused && unfused);
  int64_t repeats = 0;
  unfused->walk([&](qn::RepeatOp) { ++repeats; });
  fused->walk([&](qn::RepeatOp) { --repeats; });
  EXPECT_GT(repeats, 0) << "the rewrite removed no repeat";
  for (int64_t T : {2, 64, 130}) {
    qn::codegen::LoopKernelAllocations f = allocationsAt(*fused, ctx, T),
                                       u = allocationsAt(*unfused, ctx, T);
    EXPECT_GT(f.totalBytes, 0) << "T=" << T;
    EXPECT_EQ(u.allocs, f.allocs) << "T=" << T;
    EXPECT_EQ(u.totalBytes, f.totalBytes) << "T=" << T;
    EXPECT_EQ(u.peakBytes, f.peakBytes) << "T=" << T;
  }
}

} // namespace

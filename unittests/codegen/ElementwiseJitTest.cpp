//===- ElementwiseJitTest.cpp - generated elementwise kernels vs C++ ------===//
//
// Chains from the model (spec 3.2) go through emitElementwiseKernel and the
// CPU JIT; the results are compared with plain C++ formulas (double) on
// fresh random inputs with odd sizes, a dynamic token count, broadcast
// operands and the softplus threshold's both sides.
//
//===----------------------------------------------------------------------===//

#include "codegen/CompileModel.h"
#include "codegen/CpuJit.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "unittests/codegen/ElementwiseCases.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <random>
#include <vector>

using namespace mlir;
using namespace qn::codegentest;

namespace {

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

/// Parses `source`, generates kernel `name` from its function @`name`, JITs.
std::unique_ptr<qn::codegen::CpuJit>
compile(MLIRContext &ctx, const char *source, llvm::StringRef name, void **fn,
        const qn::codegen::CpuJitOptions &options = {}) {
  qn::codegen::loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(source, &ctx);
  EXPECT_TRUE(!!src);
  if (!src)
    return nullptr;
  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(&ctx)));
  auto f = src->lookupSymbol<func::FuncOp>(name);
  if (llvm::Error err = qn::codegen::emitElementwiseKernel(f, *kernels, name)) {
    ADD_FAILURE() << llvm::toString(std::move(err));
    return nullptr;
  }
  auto jit = qn::codegen::CpuJit::compile(*kernels, options);
  if (!jit) {
    ADD_FAILURE() << llvm::toString(jit.takeError());
    return nullptr;
  }
  auto addr = (*jit)->lookupKernel(name);
  if (!addr) {
    ADD_FAILURE() << llvm::toString(addr.takeError());
    return nullptr;
  }
  *fn = *addr;
  return std::move(*jit);
}

void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 double relTol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], relTol * std::max(1.0, std::fabs(want[i])))
        << "element " << i;
}

void checkDecay(void *fn) {
  std::mt19937 rng(1234);
  for (int64_t t : {1, 13, 64}) {
    // Inputs on both sides of softplus' threshold (x > 20 passes through).
    std::vector<float> a = randomFloats(t * 7, -30.0f, 30.0f, rng);
    std::vector<float> dt = randomFloats(7, -2.0f, 2.0f, rng);
    std::vector<float> ssmA = randomFloats(7, -3.0f, -0.1f, rng);
    std::vector<float> out(t * 7, NAN);
    auto ma = view<2>(a, {t, 7}), mo = view<2>(out, {t, 7});
    auto mdt = view<1>(dt, {7}), msa = view<1>(ssmA, {7});
    reinterpret_cast<void (*)(void *, void *, void *, void *)>(fn)(&ma, &mdt,
                                                                   &msa, &mo);
    expectClose(out, decayFormula(t, a, dt, ssmA), 2e-6);
  }
}

TEST(ElementwiseJitTest, DecayChainMatchesFormula) {
  MLIRContext ctx;
  void *fn = nullptr;
  auto jit = compile(ctx, kDecay, "decay", &fn);
  ASSERT_TRUE(jit && fn);
  EXPECT_FALSE(jit->loadedFromCache());
  checkDecay(fn);
}

TEST(ElementwiseJitTest, BroadcastChainMatchesFormula) {
  MLIRContext ctx;
  void *fn = nullptr;
  auto jit = compile(ctx, kGate, "gate", &fn);
  ASSERT_TRUE(jit && fn);
  std::mt19937 rng(99);
  const int64_t t = 11;
  std::vector<float> n = randomFloats(t * 15, -4.0f, 4.0f, rng);
  std::vector<float> w = randomFloats(5, 0.5f, 1.5f, rng);
  std::vector<float> z = randomFloats(t * 15, -8.0f, 8.0f, rng);
  std::vector<float> g = randomFloats(3, -3.0f, 3.0f, rng);
  std::vector<float> out(t * 15, NAN);
  auto mn = view<3>(n, {t, 3, 5}), mz = view<3>(z, {t, 3, 5});
  auto mo = view<3>(out, {t, 3, 5});
  auto mw = view<1>(w, {5});
  auto mg = view<3>(g, {1, 3, 1});
  reinterpret_cast<void (*)(void *, void *, void *, void *, void *)>(fn)(
      &mn, &mw, &mz, &mg, &mo);
  std::vector<double> want = gateFormula(t, n, w, z, g);
  expectClose(out, want, 2e-6);
}

// Every formula compiles for the CPU and matches libm in double, both
// tails of tanh included.
TEST(ElementwiseJitTest, EveryElementwiseFormulaMatchesLibm) {
  MLIRContext ctx;
  void *fn = nullptr;
  auto jit = compile(ctx, kMore, "more", &fn);
  ASSERT_TRUE(jit && fn);
  std::mt19937 rng(5);
  const int64_t t = 9;
  std::vector<float> x = randomFloats(t * 6, -12.0f, 12.0f, rng);
  std::vector<float> y = randomFloats(t * 6, -5.0f, 5.0f, rng);
  std::vector<float> out(t * 6, NAN);
  auto mx = view<2>(x, {t, 6}), my = view<2>(y, {t, 6}),
       mo = view<2>(out, {t, 6});
  reinterpret_cast<void (*)(void *, void *, void *)>(fn)(&mx, &my, &mo);
  std::vector<double> want = moreFormula(x, y);
  expectClose(out, want, 2e-6);
}

TEST(ElementwiseJitTest, NonElementwiseOpIsRefused) {
  MLIRContext ctx;
  qn::codegen::loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(R"mlir(
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = qn.softmax %x along 1 : tensor<4x8xf32>
  %e = qn.exp %s : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}
)mlir",
                                                          &ctx);
  ASSERT_TRUE(!!src);
  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(&ctx)));
  llvm::Error err = qn::codegen::emitElementwiseKernel(
      src->lookupSymbol<func::FuncOp>("f"), *kernels, "f");
  ASSERT_TRUE(!!err);
  EXPECT_EQ(llvm::toString(std::move(err)),
            "cannot generate an elementwise kernel for @f: unsupported "
            "'qn.softmax'");
  EXPECT_TRUE(kernels->getBody()->empty());
}

// Trees, not DAGs: %s is used twice, so it ends a tree of its own; the
// matmul is not fusible and splits the rest.
const char *kChains = R"mlir(
func.func @f(%x: tensor<?x4xf32>, %b: tensor<4xf32>, %w: tensor<4x4xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %a = qn.add %x, %b {qn.name = "a"} : tensor<?x4xf32>, tensor<4xf32>
  %s = qn.silu %a {qn.name = "s"} : tensor<?x4xf32>
  %m = qn.matmul %s, %w : tensor<?x4xf32>, tensor<4x4xf32>
  %e = qn.exp %m {qn.name = "e"} : tensor<?x4xf32>
  %n = qn.neg %e {qn.name = "n"} : tensor<?x4xf32>
  %r = qn.mul %n, %s {qn.name = "r"} : tensor<?x4xf32>, tensor<?x4xf32>
  return %r, %s : tensor<?x4xf32>, tensor<?x4xf32>
}
)mlir";

TEST(ElementwiseChainsTest, TreesEndAtSharedValuesAndHeavyOps) {
  MLIRContext ctx;
  qn::codegen::loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(kChains, &ctx);
  ASSERT_TRUE(!!src);
  auto chains =
      qn::codegen::findElementwiseChains(src->lookupSymbol<func::FuncOp>("f"));
  ASSERT_EQ(chains.size(), 2u);
  // add -> silu (root s, used by the matmul and by r).
  ASSERT_EQ(chains[0].ops.size(), 2u);
  EXPECT_EQ(chains[0].inputs.size(), 2u);
  // exp -> neg -> mul (root r), reading the matmul and s.
  ASSERT_EQ(chains[1].ops.size(), 3u);
  EXPECT_EQ(chains[1].inputs.size(), 2u);

  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(&ctx)));
  ASSERT_FALSE(qn::codegen::runDispatchPasses(*src));
  auto names = qn::codegen::emitDispatchKernels(*src, *kernels);
  ASSERT_TRUE(!!names) << llvm::toString(names.takeError());
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[0].chain, "f.s");
  EXPECT_EQ((*names)[0].kernel, "f.s");
  EXPECT_EQ((*names)[1].chain, "f.r");
  EXPECT_EQ((*names)[1].kernel, "f.r");

  // The outlined tree computes -exp(m) * s.
  auto jit = qn::codegen::CpuJit::compile(*kernels);
  ASSERT_TRUE(!!jit) << llvm::toString(jit.takeError());
  auto fn = (*jit)->lookupKernel("f.r");
  ASSERT_TRUE(!!fn) << llvm::toString(fn.takeError());
  std::mt19937 rng(7);
  const int64_t t = 5;
  std::vector<float> m = randomFloats(t * 4, -3.0f, 3.0f, rng);
  std::vector<float> s = randomFloats(t * 4, -3.0f, 3.0f, rng);
  std::vector<float> out(t * 4, NAN);
  auto mm = view<2>(m, {t, 4}), ms = view<2>(s, {t, 4});
  auto mo = view<2>(out, {t, 4});
  reinterpret_cast<void (*)(void *, void *, void *)> (*fn)(&mm, &ms, &mo);
  std::vector<double> want(t * 4);
  for (size_t i = 0; i < want.size(); ++i)
    want[i] = -std::exp(double(m[i])) * s[i];
  expectClose(out, want, 2e-6);
}

// The same chain twice (another layer) shares one kernel; a chain with other
// shapes does not.
TEST(ElementwiseChainsTest, EqualChainsShareAKernel) {
  MLIRContext ctx;
  qn::codegen::loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(R"mlir(
func.func @f(%x: tensor<?x4xf32>, %y: tensor<?x4xf32>, %z: tensor<?x8xf32>)
    -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x8xf32>) {
  %a = qn.sigmoid %x {qn.name = "beta-0"} : tensor<?x4xf32>
  %b = qn.sigmoid %y {qn.name = "beta-1"} : tensor<?x4xf32>
  %c = qn.sigmoid %z {qn.name = "beta-2"} : tensor<?x8xf32>
  return %a, %b, %c : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x8xf32>
}
)mlir",
                                                          &ctx);
  ASSERT_TRUE(!!src);
  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(&ctx)));
  ASSERT_FALSE(qn::codegen::runDispatchPasses(*src));
  auto names = qn::codegen::emitDispatchKernels(*src, *kernels);
  ASSERT_TRUE(!!names) << llvm::toString(names.takeError());
  ASSERT_EQ(names->size(), 3u);
  EXPECT_EQ((*names)[1].chain, "f.beta-1");
  EXPECT_EQ((*names)[1].kernel, "f.beta-0");
  EXPECT_EQ((*names)[2].kernel, "f.beta-2");
  EXPECT_EQ(std::distance(kernels->getOps<func::FuncOp>().begin(),
                          kernels->getOps<func::FuncOp>().end()),
            2);
}

// The object code is cached under a hash of the IR and the target: a second
// compile of the same kernels loads it (and still computes the right thing),
// other kernels get another file.
TEST(CpuJitTest, SecondCompileLoadsTheCachedObject) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qn-jit-cache", dir));
  qn::codegen::CpuJitOptions options;
  options.cacheDir = (dir + "/sub").str(); // created on demand
  std::string first;
  {
    MLIRContext ctx;
    void *fn = nullptr;
    auto jit = compile(ctx, kDecay, "decay", &fn, options);
    ASSERT_TRUE(jit && fn);
    EXPECT_FALSE(jit->loadedFromCache());
    first = jit->cacheFile().str();
    EXPECT_TRUE(llvm::sys::fs::exists(first)) << first;
  }
  {
    MLIRContext ctx;
    void *fn = nullptr;
    auto jit = compile(ctx, kDecay, "decay", &fn, options);
    ASSERT_TRUE(jit && fn);
    EXPECT_TRUE(jit->loadedFromCache());
    EXPECT_EQ(jit->cacheFile(), first);
    checkDecay(fn);
  }
  {
    MLIRContext ctx;
    void *fn = nullptr;
    auto jit = compile(ctx, kGate, "gate", &fn, options);
    ASSERT_TRUE(jit && fn);
    EXPECT_FALSE(jit->loadedFromCache());
    EXPECT_NE(jit->cacheFile(), first);
    llvm::sys::fs::remove(jit->cacheFile());
  }
  llvm::sys::fs::remove(first);
  llvm::sys::fs::remove(options.cacheDir);
  llvm::sys::fs::remove(dir);
}

} // namespace

//===- FuseRepeatBroadcastTest.cpp - the pass preserves values ------------===//
//
// Runs qn-fuse-repeat-broadcast on small functions and evaluates the function
// before and after with a tiny reference interpreter (below, independent of
// the pass) on random inputs: every output must be identical, and the
// positive cases must lose their repeats.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Passes.h"
#include "llvm/ADT/DenseMap.h"
#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace mlir;

namespace {

struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Row-major multi-index of linear offset `i`.
std::vector<int64_t> unflatten(int64_t i, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}

int64_t flatten(const std::vector<int64_t> &idx,
                const std::vector<int64_t> &shape) {
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    off = off * shape[d] + idx[d];
  return off;
}

std::vector<int64_t> staticShape(Type t) {
  auto s = llvm::cast<RankedTensorType>(t).getShape();
  return {s.begin(), s.end()};
}

/// Numpy broadcasting read of `a` at the result index `idx`.
double readBroadcast(const Array &a, const std::vector<int64_t> &idx) {
  std::vector<int64_t> ai(a.shape.size());
  size_t lead = idx.size() - a.shape.size();
  for (size_t d = 0; d < a.shape.size(); ++d)
    ai[d] = a.shape[d] == 1 ? 0 : idx[lead + d];
  return a.data[flatten(ai, a.shape)];
}

/// Evaluates the ops the tests use; fails the test on anything else.
std::vector<Array> evaluate(func::FuncOp fn, const std::vector<Array> &args) {
  llvm::DenseMap<Value, Array> env;
  for (auto [arg, a] : llvm::zip(fn.getArguments(), args))
    env[arg] = a;
  for (Operation &op : fn.getBody().front()) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      std::vector<Array> out;
      for (Value v : ret.getOperands())
        out.push_back(env[v]);
      return out;
    }
    Array r;
    r.shape = staticShape(op.getResult(0).getType());
    r.data.resize(numElements(r.shape));
    auto binary = [&](auto f) {
      const Array &a = env[op.getOperand(0)], &b = env[op.getOperand(1)];
      for (int64_t i = 0; i < (int64_t)r.data.size(); ++i) {
        auto idx = unflatten(i, r.shape);
        r.data[i] = f(readBroadcast(a, idx), readBroadcast(b, idx));
      }
    };
    if (llvm::isa<qn::SubOp>(op)) {
      binary([](double x, double y) { return x - y; });
    } else if (llvm::isa<qn::AddOp>(op)) {
      binary([](double x, double y) { return x + y; });
    } else if (llvm::isa<qn::MulOp>(op)) {
      binary([](double x, double y) { return x * y; });
    } else if (llvm::isa<qn::DivOp>(op)) {
      binary([](double x, double y) { return x / y; });
    } else if (llvm::isa<qn::ReshapeOp>(op)) {
      r.data = env[op.getOperand(0)].data;
    } else if (auto rep = llvm::dyn_cast<qn::RepeatOp>(op)) {
      const Array &a = env[rep.getInput()];
      for (int64_t i = 0; i < (int64_t)r.data.size(); ++i) {
        auto idx = unflatten(i, r.shape);
        for (size_t d = 0; d < idx.size(); ++d)
          idx[d] %= a.shape[d];
        r.data[i] = a.data[flatten(idx, a.shape)];
      }
    } else if (auto cs = llvm::dyn_cast<qn::CumsumOp>(op)) {
      const Array &a = env[cs.getInput()];
      int64_t dim = cs.getDim();
      for (int64_t i = 0; i < (int64_t)r.data.size(); ++i) {
        auto idx = unflatten(i, r.shape);
        double s = 0;
        int64_t last = idx[dim];
        for (idx[dim] = 0; idx[dim] <= last; ++idx[dim])
          s += a.data[flatten(idx, a.shape)];
        r.data[i] = s;
      }
    } else if (auto tri = llvm::dyn_cast<qn::TriOp>(op)) {
      const Array &a = env[tri.getInput()];
      for (int64_t i = 0; i < (int64_t)r.data.size(); ++i) {
        auto idx = unflatten(i, r.shape);
        int64_t row = idx[idx.size() - 2], col = idx.back();
        bool keep = tri.getKind() == qn::TriKind::lower_diag ? col <= row
                    : tri.getKind() == qn::TriKind::lower    ? col < row
                    : tri.getKind() == qn::TriKind::upper    ? col > row
                                                             : col >= row;
        r.data[i] = keep ? a.data[i] : 0.0;
      }
    } else if (auto ex = llvm::dyn_cast<qn::ExpOp>(op)) {
      const Array &a = env[ex.getInput()];
      for (size_t i = 0; i < r.data.size(); ++i)
        r.data[i] = std::exp(a.data[i]);
    } else if (auto sl = llvm::dyn_cast<qn::SliceOp>(op)) {
      const Array &a = env[sl.getInput()];
      for (int64_t i = 0; i < (int64_t)r.data.size(); ++i) {
        auto idx = unflatten(i, r.shape);
        for (size_t d = 0; d < idx.size(); ++d)
          idx[d] = sl.getOffsets()[d] + idx[d] * sl.getStrides()[d];
        r.data[i] = a.data[flatten(idx, a.shape)];
      }
    } else {
      ADD_FAILURE() << "the test interpreter does not know "
                    << op.getName().getStringRef().str();
      return {};
    }
    env[op.getResult(0)] = std::move(r);
  }
  return {};
}

int countRepeats(func::FuncOp fn) {
  int n = 0;
  fn.walk([&](qn::RepeatOp) { ++n; });
  return n;
}

/// Parses `ir`, evaluates its single function before and after the pass on
/// random inputs (values in [-2, -0.5] U [0.5, 2]: no zeros, so div is
/// safe), expects identical outputs and returns the repeats left.
int checkPreservesValues(const char *ir, unsigned seed) {
  MLIRContext ctx;
  ctx.loadDialect<qn::QNDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> before = parseSourceString<ModuleOp>(ir, &ctx);
  EXPECT_TRUE(before);
  if (!before)
    return -1;
  OwningOpRef<ModuleOp> after = before->clone();
  PassManager pm(&ctx);
  pm.addNestedPass<func::FuncOp>(qn::createFuseRepeatBroadcastPass());
  EXPECT_TRUE(succeeded(pm.run(*after)));

  auto fnBefore = *before->getOps<func::FuncOp>().begin();
  auto fnAfter = *after->getOps<func::FuncOp>().begin();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> mag(0.5, 2.0);
  std::vector<Array> args;
  for (BlockArgument arg : fnBefore.getArguments()) {
    Array a;
    a.shape = staticShape(arg.getType());
    for (int64_t i = 0; i < numElements(a.shape); ++i)
      a.data.push_back((rng() & 1) ? mag(rng) : -mag(rng));
    args.push_back(std::move(a));
  }
  std::vector<Array> want = evaluate(fnBefore, args);
  std::vector<Array> got = evaluate(fnAfter, args);
  EXPECT_EQ(want.size(), got.size());
  for (size_t o = 0; o < want.size() && o < got.size(); ++o) {
    EXPECT_EQ(want[o].shape, got[o].shape);
    EXPECT_EQ(want[o].data, got[o].data) << "output " << o << " differs";
  }
  return countRepeats(fnAfter);
}

TEST(FuseRepeatBroadcast, OuterDifferenceKeepsValuesAndDropsRepeats) {
  const char *ir = R"mlir(
    func.func @f(%g: tensor<3x5xf32>) -> tensor<3x5x5xf32> {
      %G = qn.cumsum %g along 1 : tensor<3x5xf32>
      %col = qn.reshape %G : tensor<3x5xf32> -> tensor<3x5x1xf32>
      %gi = qn.repeat %col, [1, 1, 5] : tensor<3x5x1xf32>
      %row = qn.reshape %G : tensor<3x5xf32> -> tensor<3x1x5xf32>
      %gj = qn.repeat %row, [1, 5, 1] : tensor<3x1x5xf32>
      %d = qn.sub %gi, %gj : tensor<3x5x5xf32>, tensor<3x5x5xf32>
      %m = qn.tri lower_diag %d : tensor<3x5x5xf32>
      %e = qn.exp %m : tensor<3x5x5xf32>
      return %e : tensor<3x5x5xf32>
    })mlir";
  for (unsigned seed = 1; seed <= 3; ++seed)
    EXPECT_EQ(checkPreservesValues(ir, seed), 0);
}

TEST(FuseRepeatBroadcast, AllFourOpsBothSides) {
  const char *ir = R"mlir(
    func.func @f(%x: tensor<1x7xf32>, %y: tensor<6x7xf32>, %z: tensor<6x1xf32>)
        -> (tensor<6x7xf32>, tensor<6x7xf32>) {
      %rx = qn.repeat %x, [6, 1] : tensor<1x7xf32>
      %rz = qn.repeat %z, [1, 7] : tensor<6x1xf32>
      %a = qn.add %rx, %y : tensor<6x7xf32>, tensor<6x7xf32>
      %b = qn.sub %a, %rz : tensor<6x7xf32>, tensor<6x7xf32>
      %c = qn.mul %rz, %b : tensor<6x7xf32>, tensor<6x7xf32>
      %d = qn.div %c, %rx : tensor<6x7xf32>, tensor<6x7xf32>
      %e = qn.div %rz, %rx : tensor<6x7xf32>, tensor<6x7xf32>
      return %d, %e : tensor<6x7xf32>, tensor<6x7xf32>
    })mlir";
  EXPECT_EQ(checkPreservesValues(ir, 7), 0);
}

TEST(FuseRepeatBroadcast, KeyDecayWithSlice) {
  const char *ir = R"mlir(
    func.func @f(%g: tensor<2x9xf32>) -> tensor<2x9xf32> {
      %G = qn.cumsum %g along 1 : tensor<2x9xf32>
      %last = qn.slice %G [0, 8] [2, 1] [1, 1] : tensor<2x9xf32>
      %r = qn.repeat %last, [1, 9] : tensor<2x1xf32>
      %k = qn.sub %r, %G : tensor<2x9xf32>, tensor<2x9xf32>
      return %k : tensor<2x9xf32>
    })mlir";
  EXPECT_EQ(checkPreservesValues(ir, 11), 0);
}

TEST(FuseRepeatBroadcast, TilingAndShapeChangingRepeatsStay) {
  // A tiling repeat (3 -> 6 rows), a same-repeat-on-both-sides product, and
  // a repeat whose removal would shrink the result: values must still match
  // and exactly these repeats stay.
  const char *ir = R"mlir(
    func.func @f(%x: tensor<3x4xf32>, %y: tensor<6x4xf32>, %c: tensor<5x1xf32>,
                 %w: tensor<5x1xf32>) -> (tensor<6x4xf32>, tensor<5x5xf32>, tensor<5x3xf32>) {
      %r = qn.repeat %x, [2, 1] : tensor<3x4xf32>
      %a = qn.sub %r, %y : tensor<6x4xf32>, tensor<6x4xf32>
      %rc = qn.repeat %c, [1, 5] : tensor<5x1xf32>
      %b = qn.mul %rc, %rc : tensor<5x5xf32>, tensor<5x5xf32>
      %rw = qn.repeat %w, [1, 3] : tensor<5x1xf32>
      %d = qn.div %rw, %c : tensor<5x3xf32>, tensor<5x1xf32>
      return %a, %b, %d : tensor<6x4xf32>, tensor<5x5xf32>, tensor<5x3xf32>
    })mlir";
  EXPECT_EQ(checkPreservesValues(ir, 5), 3);
}

} // namespace

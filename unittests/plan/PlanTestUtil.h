//===- PlanTestUtil.h - hand-built programs on the tiny model ---*- C++ -*-===//
//
// A small builder for plan::Program values and dispatches, the tiny F32
// fixture model, fresh sequence slots, and comparisons.
//
//===----------------------------------------------------------------------===//

#ifndef QN_UNITTESTS_PLAN_PLANTESTUTIL_H
#define QN_UNITTESTS_PLAN_PLANTESTUTIL_H

#include "runtime/Model.h"
#include "runtime/layers/Sequence.h"
#include "runtime/plan/Executor.h"
#include "runtime/plan/Program.h"
#include "unittests/FixturePaths.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace qn::plantest {

using namespace qn::runtime;
using namespace qn::runtime::plan;

/// Builds a Program value by value; every scratch value gets its own slot
/// unless one is given.
class ProgramBuilder {
public:
  explicit ProgramBuilder(std::string entry = "test") { p.entry = entry; }

  int32_t input(ValueKind kind, std::vector<int64_t> shape) {
    Value v;
    v.name = kind == ValueKind::Tokens      ? "tokens"
             : kind == ValueKind::Positions ? "positions"
                                            : "output_rows";
    v.kind = kind;
    v.type = ElementType::I32;
    v.shape = std::move(shape);
    return add(std::move(v));
  }
  int32_t tokens() { return input(ValueKind::Tokens, {kTokens}); }
  int32_t positions() { return input(ValueKind::Positions, {kTokens}); }

  int32_t weight(std::string name, std::vector<int64_t> shape,
                 ElementType type = ElementType::F32) {
    Value v;
    v.name = std::move(name);
    v.kind = ValueKind::Weight;
    v.type = type;
    v.format = type == ElementType::F16 ? qn::gguf::GGMLType::F16
                                        : qn::gguf::GGMLType::F32;
    v.shape = std::move(shape);
    return add(std::move(v));
  }

  int32_t state(StateKind kind, int64_t layer, std::vector<int64_t> shape,
                ElementType type = ElementType::F32) {
    Value v;
    v.name = "state-" + std::to_string(layer);
    v.kind = ValueKind::State;
    v.state = kind;
    v.layer = layer;
    v.type = type;
    v.shape = std::move(shape);
    return add(std::move(v));
  }

  int32_t scratch(std::string name, std::vector<int64_t> shape,
                  int32_t slot = -1, ElementType type = ElementType::F32) {
    Value v;
    v.name = std::move(name);
    v.kind = ValueKind::Scratch;
    v.type = type;
    v.shape = std::move(shape);
    v.slot = slot >= 0 ? slot : p.numSlots;
    p.numSlots = std::max(p.numSlots, v.slot + 1);
    return add(std::move(v));
  }

  int32_t view(std::string name, int32_t base, std::vector<int64_t> shape,
               int64_t offset, std::vector<int64_t> strides) {
    Value v;
    v.name = std::move(name);
    v.kind = ValueKind::View;
    v.type = p.values[base].type;
    v.shape = std::move(shape);
    v.base = base;
    v.offset = offset;
    v.strides = std::move(strides);
    return add(std::move(v));
  }

  Dispatch &dispatch(DispatchKind kind, std::string name,
                     std::vector<int32_t> operands,
                     std::vector<int32_t> results) {
    Dispatch &d = p.dispatches.emplace_back();
    d.kind = kind;
    d.name = std::move(name);
    d.operands = std::move(operands);
    d.results = std::move(results);
    // The parameters of the kind, default-valued (tests set what matters).
    d.params = defaultParams(kind);
    return d;
  }

  /// A scratch result named like the dispatch, and the dispatch.
  int32_t op(DispatchKind kind, std::string name, std::vector<int32_t> operands,
             std::vector<int64_t> shape) {
    int32_t r = scratch(name, std::move(shape));
    dispatch(kind, std::move(name), std::move(operands), {r});
    return r;
  }

  Program &program() { return p; }

private:
  int32_t add(Value v) {
    p.values.push_back(std::move(v));
    return static_cast<int32_t>(p.values.size() - 1);
  }
  Program p;
};

/// The tiny F32 fixture model (skips the test when it is missing).
class TinyModelTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string path = qn::test::fixturePath("models/tiny-f32.gguf");
    if (!llvm::sys::fs::exists(path))
      GTEST_SKIP() << "fixture missing: " << path;
    auto m = Model::open(path);
    ASSERT_TRUE(static_cast<bool>(m)) << llvm::toString(m.takeError());
    model = std::move(*m);
  }

  const gguf::Qwen3NextHParams &hp() const { return model->hparams(); }

  /// A zeroed slot shaped like Context's for `nCtx` positions.
  SequenceSlot freshSlot(int64_t nCtx, KVType kv = KVType::F16) const {
    SequenceSlot s;
    const int64_t L = hp().nLayer;
    s.conv.resize(L);
    s.delta.resize(L);
    s.keys.resize(L);
    s.values.resize(L);
    const size_t kvRow = kvElementBytes(kv) * hp().nHeadKV * hp().headDim;
    for (int64_t il = 0; il < L; ++il) {
      if (hp().isRecurrent[il]) {
        s.conv[il].assign((hp().convKernel - 1) * hp().convChannels(), 0.0f);
        s.delta[il].assign(
            hp().ssmTimeStepRank * hp().ssmState * hp().headVDim(), 0.0f);
      } else {
        s.keys[il].assign(kvRow * nCtx, 0);
        s.values[il].assign(kvRow * nCtx, 0);
      }
    }
    return s;
  }

  std::unique_ptr<Executor> create(const Program &p, int64_t maxTokens = 16,
                                   KVType kv = KVType::F16, int64_t nCtx = 64) {
    auto e = Executor::create(*model, p, maxTokens, kv, nCtx, 1);
    EXPECT_TRUE(static_cast<bool>(e)) << llvm::toString(e.takeError());
    return e ? std::move(*e) : nullptr;
  }

  /// The message of a failing create (empty if it succeeds).
  std::string createError(const Program &p, KVType kv = KVType::F16) {
    auto e = Executor::create(*model, p, 16, kv, 64, 1);
    if (e)
      return "";
    return llvm::toString(e.takeError());
  }

  /// The ubatch's embedding rows, as Model::embed writes them.
  std::vector<float> embedRows(const std::vector<int32_t> &tokens) const {
    const int64_t D = hp().nEmbd;
    std::vector<float> x(tokens.size() * D);
    for (size_t t = 0; t < tokens.size(); ++t)
      model->embed(tokens[t], x.data() + t * D);
    return x;
  }

  static std::vector<float> matmulRef(const WeightView &w,
                                      const std::vector<float> &x, int64_t n) {
    std::vector<float> y(static_cast<size_t>(n * w.rows));
    matmul(w, x.data(), n, y.data(), nullptr);
    return y;
  }

  std::unique_ptr<Model> model;
};

/// A dump written by a Dumper into `dir` (empty if missing).
inline std::vector<float> readDump(const std::string &dir,
                                   const std::string &name) {
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, name + ".f32");
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return {};
  std::vector<float> v((*buf)->getBufferSize() / sizeof(float));
  std::memcpy(v.data(), (*buf)->getBufferStart(), v.size() * sizeof(float));
  return v;
}

/// A fresh directory for dumps, removed with the object.
class DumpDir {
public:
  DumpDir() {
    llvm::SmallString<64> prefix;
    llvm::sys::path::system_temp_directory(true, prefix);
    llvm::sys::path::append(prefix, "qn-plan-dump");
    if (llvm::sys::fs::createUniqueDirectory(prefix, path))
      path.clear();
  }
  ~DumpDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
  std::string str() const { return path.str().str(); }
  Dumper dumper() const { return Dumper(str()); }

private:
  llvm::SmallString<64> path;
};

inline std::vector<float> randomFloats(size_t n, unsigned seed,
                                       float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

inline double maxAbsDiff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

} // namespace qn::plantest

#endif // QN_UNITTESTS_PLAN_PLANTESTUTIL_H

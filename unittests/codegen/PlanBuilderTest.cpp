//===- PlanBuilderTest.cpp - runtime plans built from the qn IR -----------===//
//
// Two kinds of checks:
//   * small hand-written entries whose views, copies, slots and errors are
//     worked out by hand in the comments;
//   * every fixture model compiled end to end (compileModel, no cache), with
//     the plan's invariants re-derived here from the plan's data alone:
//     no two scratch values that are live at the same time share a slot
//     (liveness counted through views), nothing is read before it is
//     written, views stay inside their storage, heavy operands are
//     contiguous, states are updated in place, kernels are bound.
//
//===----------------------------------------------------------------------===//

#include "codegen/PlanBuilder.h"
#include "codegen/CompileModel.h"
#include "codegen/ElementwiseChains.h"

#include "dialect/QNDialect.h"
#include "gguf/GGUFFile.h"
#include "gguf/Qwen3Next.h"
#include "unittests/FixturePaths.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <climits>
#include <map>
#include <set>

using namespace mlir;
namespace plan = qn::runtime::plan;

namespace {

/// Parses `source` (model-level IR), forms its dispatches and builds the
/// plan of its @prefill.
llvm::Expected<plan::Program> buildFrom(MLIRContext &ctx, const char *source) {
  ctx.loadDialect<qn::QNDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  if (!module)
    return llvm::createStringError("the test IR does not parse");
  if (llvm::Error err = qn::codegen::runDispatchPasses(*module))
    return std::move(err);
  return qn::codegen::buildProgram(
      module->lookupSymbol<func::FuncOp>("prefill"));
}

int32_t findValue(const plan::Program &p, llvm::StringRef name) {
  for (size_t i = 0; i < p.values.size(); ++i)
    if (p.values[i].name == name)
      return static_cast<int32_t>(i);
  return -1;
}

const char *kViews = R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"},
                   %w: tensor<8x12xf32> {qn.weight = "w"},
                   %w2: tensor<8x4xf32> {qn.weight = "w2"})
    -> (tensor<?x8xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %r = qn.reshape %h {qn.name = "r"} : tensor<?x24xf32> -> tensor<?x4x6xf32>
  %s = qn.slice %r [0, 0, 0] [-1, 4, 3] [1, 1, 1] {qn.name = "s"} : tensor<?x4x6xf32>
  %f = qn.reshape %s {qn.name = "f"} : tensor<?x4x3xf32> -> tensor<?x12xf32>
  %y = qn.matmul %f, %w {qn.name = "y"} : tensor<?x12xf32>, tensor<8x12xf32>
  %t = qn.slice %r [0, 1, 2] [-1, 2, 2] [1, 2, 2] {qn.name = "t"} : tensor<?x4x6xf32>
  %u = qn.reshape %t {qn.name = "u"} : tensor<?x2x2xf32> -> tensor<?x4xf32>
  %z = qn.matmul %u, %w2 {qn.name = "z"} : tensor<?x4xf32>, tensor<8x4xf32>
  %e = qn.add %y, %z {qn.name = "e"} : tensor<?x8xf32>, tensor<?x8xf32>
  %o = qn.silu %e {qn.name = "o"} : tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}
)mlir";

TEST(PlanBuilderTest, ViewsAndCopies) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  auto p = buildFrom(ctx, kViews);
  ASSERT_TRUE(!!p) << llvm::toString(p.takeError());
  const int32_t h = findValue(*p, "h"), r = findValue(*p, "r"),
                s = findValue(*p, "s"), f = findValue(*p, "f"),
                copy = findValue(*p, "s.copy"), t = findValue(*p, "t"),
                u = findValue(*p, "u");
  ASSERT_TRUE(h >= 0 && r >= 0 && s >= 0 && f >= 0 && t >= 0 && u >= 0);
  EXPECT_EQ(p->values[h].kind, plan::ValueKind::Scratch);
  EXPECT_EQ(p->values[h].shape, (std::vector<int64_t>{plan::kTokens, 24}));
  // [T, 24] -> [T, 4, 6]: a view with row-major strides.
  EXPECT_EQ(p->values[r].kind, plan::ValueKind::View);
  EXPECT_EQ(p->values[r].base, h);
  EXPECT_EQ(p->values[r].strides, (std::vector<int64_t>{24, 6, 1}));
  // The first 3 of every 6: same strides, offset 0, the view's base is the
  // storage (h), not the view it was taken of.
  EXPECT_EQ(p->values[s].base, h);
  EXPECT_EQ(p->values[s].offset, 0);
  EXPECT_EQ(p->values[s].strides, (std::vector<int64_t>{24, 6, 1}));
  // [T, 4, 3] with row stride 6 cannot merge into 12 contiguous columns:
  // copied into scratch, then viewed.
  ASSERT_GE(copy, 0);
  EXPECT_EQ(p->values[copy].kind, plan::ValueKind::Scratch);
  EXPECT_EQ(p->values[copy].shape, (std::vector<int64_t>{plan::kTokens, 4, 3}));
  EXPECT_EQ(p->values[f].base, copy);
  EXPECT_EQ(p->values[f].strides, (std::vector<int64_t>{12, 1}));
  // Rows 1 and 3, columns 2 and 4 of each [4, 6] token: offset 1*6 + 2,
  // strides doubled; its reshape to [T, 4] is not expressible either.
  EXPECT_EQ(p->values[t].base, h);
  EXPECT_EQ(p->values[t].offset, 8);
  EXPECT_EQ(p->values[t].strides, (std::vector<int64_t>{24, 12, 2}));
  EXPECT_EQ(p->values[u].base, findValue(*p, "t.copy"));

  // Dispatches: embed, copy s, matmul y, copy t, matmul z, one elementwise
  // for the add + silu chain.
  ASSERT_EQ(p->dispatches.size(), 6u);
  EXPECT_EQ(p->dispatches[1].kind, plan::DispatchKind::Copy);
  EXPECT_EQ(p->dispatches[1].operands, std::vector<int32_t>{s});
  EXPECT_EQ(p->dispatches[1].results, std::vector<int32_t>{copy});
  EXPECT_EQ(p->dispatches[2].kind, plan::DispatchKind::Matmul);
  EXPECT_EQ(p->dispatches[2].operands[0], f);
  const plan::Dispatch &chain = p->dispatches[5];
  EXPECT_EQ(chain.kind, plan::DispatchKind::Elementwise);
  EXPECT_EQ(chain.get<plan::KernelParams>().kernelName, "prefill.o");
  EXPECT_EQ(chain.operands,
            (std::vector<int32_t>{findValue(*p, "y"), findValue(*p, "z")}));
  EXPECT_EQ(p->logits, chain.results[0]);
  EXPECT_FALSE(p->singleToken);
}

// A straight line of matmuls needs two slots; a value read later through a
// view stays live until then.
const char *kSlots = R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"},
                   %w: tensor<24x24xf32> {qn.weight = "w"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %y1 = qn.matmul %h, %w {qn.name = "y1"} : tensor<?x24xf32>, tensor<24x24xf32>
  %y2 = qn.matmul %y1, %w {qn.name = "y2"} : tensor<?x24xf32>, tensor<24x24xf32>
  %hv = qn.reshape %h {qn.name = "hv"} : tensor<?x24xf32> -> tensor<?x2x12xf32>
  %hf = qn.reshape %hv {qn.name = "hf"} : tensor<?x2x12xf32> -> tensor<?x24xf32>
  %y3 = qn.matmul %hf, %w {qn.name = "y3"} : tensor<?x24xf32>, tensor<24x24xf32>
  %y4 = qn.matmul %y2, %w {qn.name = "y4"} : tensor<?x24xf32>, tensor<24x24xf32>
  %y5 = qn.matmul %y4, %w {qn.name = "y5"} : tensor<?x24xf32>, tensor<24x24xf32>
  return %y3 : tensor<?x24xf32>
}
)mlir";

TEST(PlanBuilderTest, SlotsFollowLivenessThroughViews) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  auto p = buildFrom(ctx, kSlots);
  ASSERT_TRUE(!!p) << llvm::toString(p.takeError());
  auto slot = [&](const char *name) {
    return p->values[findValue(*p, name)].slot;
  };
  // Dispatch order: h 0, y1 1, y2 2, y3 3 (reads h through hf), y4 4, y5 5.
  // Live ranges: h [0,3], y1 [1,2], y2 [2,4], y3 [3,end] (returned),
  // y4 [4,5], y5 [5,5]. In order of first use, each takes the first free
  // slot (all have the same size): h 0, y1 1, y2 2 (h and y1 busy), y3 1 (y1
  // free after 2), y4 0 (h free after 3), y5 2 (y2 free after 4).
  EXPECT_EQ(slot("h"), 0);
  EXPECT_EQ(slot("y1"), 1);
  EXPECT_EQ(slot("y2"), 2);
  EXPECT_EQ(slot("y3"), 1);
  EXPECT_EQ(slot("y4"), 0);
  EXPECT_EQ(slot("y5"), 2);
  EXPECT_EQ(p->numSlots, 3);
  EXPECT_EQ(p->values[findValue(*p, "hf")].base, findValue(*p, "h"));
}

// A transfer is a dispatch of its destination backend, from its source's;
// a value lives where it is written and shares slots only with values of
// the same backend: `c` (cuda) may not take `h`'s free cpu slot.
TEST(PlanBuilderTest, TransfersAndSlotsPerBackend) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  auto p = buildFrom(ctx, R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %h2 = qn.embed %h[%tok] {qn.name = "h2"} : tensor<?x24xf32>, tensor<?xi32>
  %c = qn.transfer %h2 to "cuda" {qn.name = "c"} : tensor<?x24xf32>
  return %c : tensor<?x24xf32>
}
)mlir");
  ASSERT_TRUE(!!p) << llvm::toString(p.takeError());
  const plan::Dispatch &t = p->dispatches.back();
  ASSERT_EQ(t.kind, plan::DispatchKind::Transfer);
  EXPECT_EQ(t.backend, plan::Backend::Cuda);
  EXPECT_EQ(t.get<plan::TransferParams>().from, plan::Backend::Cpu);
  ASSERT_EQ(t.operands.size(), 1u);
  EXPECT_EQ(t.operands[0], findValue(*p, "h2"));
  auto slot = [&](const char *name) {
    return p->values[findValue(*p, name)].slot;
  };
  // h [0,1], h2 [1,2], c [2,end]: h's slot is free when c is first written,
  // but it is cpu memory.
  EXPECT_NE(slot("h"), slot("h2"));
  EXPECT_NE(slot("c"), slot("h"));
  EXPECT_NE(slot("c"), slot("h2"));
  EXPECT_EQ(p->numSlots, 3);
}

std::string errorOf(const char *source) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  auto p = buildFrom(ctx, source);
  if (p)
    return "";
  return llvm::toString(p.takeError());
}

TEST(PlanBuilderTest, ErrorsNameTheOpAndTheEntry) {
  // qn-assign-buffers is the first to see an op that is not a dispatch.
  const std::string notADispatch = errorOf(R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %c = qn.cumsum %h along 1 {qn.name = "sums"} : tensor<?x24xf32>
  return %c : tensor<?x24xf32>
}
)mlir");
  EXPECT_NE(notADispatch.find("'qn.cumsum' op qn-assign-buffers: not a "
                              "dispatch or a view (run qn-form-dispatches "
                              "first)"),
            std::string::npos)
      << notADispatch;
  EXPECT_EQ(errorOf(R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<?x24xf32> {qn.weight = "token_embd.weight"},
                   %w: tensor<8x?xf32> {qn.weight = "w"})
    -> (tensor<?x24xf32> {qn.output = "logits"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<?x24xf32>, tensor<?xi32>
  return %h : tensor<?x24xf32>
}
)mlir"),
            "cannot build the plan of @prefill: a weight's shape must be "
            "static, got tensor<?x24xf32>");
  EXPECT_EQ(errorOf(R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %kc: tensor<4x?xf16> {qn.state = "k_cache-3"})
    -> (tensor<?xi32> {qn.output = "logits"}) {
  return %tok : tensor<?xi32>
}
)mlir"),
            "cannot build the plan of @prefill: only the outermost dimension "
            "may be dynamic, got tensor<4x?xf16>");
  EXPECT_EQ(errorOf(R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"},
                   %s: tensor<4x3xf32> {qn.state = "conv_state-0"})
    -> (tensor<?x24xf32> {qn.output = "logits"},
        tensor<4x3xf32> {qn.state = "conv_state-0"}) {
  %h = qn.embed %emb[%tok] {qn.name = "h"} : tensor<16x24xf32>, tensor<?xi32>
  %s2 = qn.add %s, %s {qn.name = "twice"} : tensor<4x3xf32>, tensor<4x3xf32>
  return %h, %s2 : tensor<?x24xf32>, tensor<4x3xf32>
}
)mlir"),
            "cannot build the plan of @prefill: op 'func.return' (no "
            "qn.name): result #1 is not the in-place update of its state "
            "argument");
}

/// The plan of hand-written dispatch-level IR, without running any pass.
std::string errorOfUnassigned(const char *source) {
  MLIRContext ctx(MLIRContext::Threading::DISABLED);
  ctx.loadDialect<qn::QNDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  if (!module)
    return "the test IR does not parse";
  auto p =
      qn::codegen::buildProgram(module->lookupSymbol<func::FuncOp>("prefill"));
  return p ? "" : llvm::toString(p.takeError());
}

// PlanBuilder decides no memory: IR whose buffers qn-assign-buffers has not
// decided (or that contradicts them) is refused, naming the op.
TEST(PlanBuilderTest, BuffersComeFromTheIR) {
  const char *head = R"mlir(
func.func @prefill(%tok: tensor<?xi32> {qn.input = "tokens"},
                   %emb: tensor<16x24xf32> {qn.weight = "token_embd.weight"})
    -> (tensor<?x4xf32> {qn.output = "logits"}))mlir";
  auto entry = [&](const char *attrs, const char *body) {
    return std::string(head) + attrs + " {\n" + body + "\n}\n";
  };
  // h = embed, s = a slice of it, returned; attributes as given.
  auto embedSlice = [&](const char *numSlots, const char *hAttrs,
                        const char *sAttrs) {
    std::string body =
        std::string("  %h = qn.dispatch.embed %emb[%tok] on cpu "
                    "weights(f32:rows) {qn.name = \"h\"") +
        hAttrs +
        "}\n      : (tensor<16x24xf32>, tensor<?xi32>) -> tensor<?x24xf32>\n"
        "  %s = qn.slice %h [0, 0] [-1, 4] [1, 1] {qn.name = \"s\"" +
        sAttrs + "} : tensor<?x24xf32>\n  return %s : tensor<?x4xf32>";
    return errorOfUnassigned(entry(numSlots, body.c_str()).c_str());
  };
  const char *oneSlot = " attributes {qn.num_slots = 1 : i64}";
  EXPECT_EQ(embedSlice("", "", ""),
            "cannot build the plan of @prefill: no qn.num_slots (run "
            "qn-assign-buffers)");
  EXPECT_EQ(embedSlice(oneSlot, "", ""),
            "cannot build the plan of @prefill: op 'qn.dispatch.embed' 'h': "
            "has no qn.slots for its 1 results (run qn-assign-buffers)");
  EXPECT_EQ(embedSlice(oneSlot, ", qn.slots = array<i64: 1>", ""),
            "cannot build the plan of @prefill: op 'qn.dispatch.embed' 'h': "
            "result #0 is scratch but its slot is 1, not in [0, 1)");
  EXPECT_EQ(embedSlice(oneSlot, ", qn.slots = array<i64: 0>", ""),
            "cannot build the plan of @prefill: op 'qn.slice' 's': is a view "
            "without qn.offset and qn.strides (run qn-assign-buffers)");
  // A strided view read by a kernel without the copy the pass would place.
  EXPECT_EQ(errorOfUnassigned(entry(" attributes {qn.num_slots = 2 : i64}",
                                    R"mlir(
  %h = qn.dispatch.embed %emb[%tok] on cpu weights(f32:rows)
      {qn.name = "h", qn.slots = array<i64: 0>}
      : (tensor<16x24xf32>, tensor<?xi32>) -> tensor<?x24xf32>
  %s = qn.slice %h [0, 0] [-1, 4] [1, 1]
      {qn.name = "s", qn.offset = 0 : i64, qn.strides = array<i64: 24, 1>}
      : tensor<?x24xf32>
  %n = qn.dispatch.l2_norm %s on cpu epsilon 1.0e-06
      {qn.name = "n", qn.slots = array<i64: 1>}
      : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %n : tensor<?x4xf32>)mlir")
                                  .c_str()),
            "cannot build the plan of @prefill: op 'qn.dispatch.l2_norm' 'n': "
            "reads the strided view 's' as a dense array (run "
            "qn-assign-buffers)");
}

//===----------------------------------------------------------------------===//
// Fixture models end to end.
//===----------------------------------------------------------------------===//

/// A concrete size for each symbol, to check footprints.
int64_t concrete(int64_t d) {
  if (d == plan::kTokens)
    return 7;
  if (d == plan::kOutputRows)
    return 3;
  if (d == plan::kContextRows)
    return 11;
  return d;
}

bool rowMajor(const plan::Value &v) {
  if (v.kind != plan::ValueKind::View)
    return true;
  int64_t expect = 1;
  for (size_t d = v.shape.size(); d-- > 0;) {
    if (v.shape[d] != 1 && v.strides[d] != expect)
      return false;
    expect *= concrete(v.shape[d]);
  }
  return true;
}

/// Re-derives the plan's invariants from its data (see the file comment).
void checkProgram(const plan::Program &p, int64_t vocab,
                  const std::string &what) {
  SCOPED_TRACE(what);
  const int32_t n = static_cast<int32_t>(p.values.size());
  auto valid = [&](int32_t id) { return id >= 0 && id < n; };
  int32_t scratchCount = 0;
  for (int32_t id = 0; id < n; ++id) {
    const plan::Value &v = p.values[id];
    for (size_t d = 1; d < v.shape.size(); ++d)
      EXPECT_GE(v.shape[d], 1) << v.name << ": only dim 0 may be symbolic";
    if (v.kind == plan::ValueKind::Scratch) {
      ++scratchCount;
      EXPECT_TRUE(v.slot >= 0 && v.slot < p.numSlots) << v.name;
    }
    if (v.kind != plan::ValueKind::View)
      continue;
    ASSERT_TRUE(valid(v.base)) << v.name;
    const plan::Value &base = p.values[v.base];
    EXPECT_NE(base.kind, plan::ValueKind::View) << v.name;
    ASSERT_EQ(v.strides.size(), v.shape.size()) << v.name;
    if (!v.shape.empty() && v.shape[0] < 0) {
      EXPECT_EQ(v.shape[0], base.shape[0]) << v.name;
    }
    // The last element the view reaches lies inside the base.
    int64_t last = v.offset, total = 1;
    for (size_t d = 0; d < v.shape.size(); ++d)
      last += (concrete(v.shape[d]) - 1) * v.strides[d];
    for (int64_t d : base.shape)
      total *= concrete(d);
    EXPECT_TRUE(v.offset >= 0 && last < total) << v.name;
  }
  ASSERT_TRUE(valid(p.logits));
  const plan::Value &logits = p.values[p.logits];
  EXPECT_EQ(logits.type, plan::ElementType::F32);
  const int64_t rows = p.singleToken ? 1 : int64_t(plan::kOutputRows);
  std::vector<int64_t> wantLogits{rows, vocab};
  EXPECT_EQ(logits.shape, wantLogits);

  auto storage = [&](int32_t id) {
    return p.values[id].kind == plan::ValueKind::View ? p.values[id].base : id;
  };
  std::vector<int32_t> first(n, INT_MAX), last(n, -1);
  std::set<int32_t> written;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    const plan::Dispatch &d = p.dispatches[i];
    const std::string where = d.name + " (dispatch " + std::to_string(i) + ")";
    for (int32_t id : d.operands) {
      ASSERT_TRUE(valid(id)) << where;
      const int32_t s = storage(id);
      if (p.values[s].kind == plan::ValueKind::Scratch) {
        EXPECT_TRUE(written.count(s))
            << where << " reads " << p.values[id].name << " unwritten";
      }
      if (d.kind != plan::DispatchKind::Copy) {
        EXPECT_TRUE(rowMajor(p.values[id]))
            << where << ": operand " << p.values[id].name << " is strided";
      }
    }
    for (int32_t id : d.results) {
      ASSERT_TRUE(valid(id)) << where;
      written.insert(storage(id));
      if (d.kind != plan::DispatchKind::Copy) {
        EXPECT_NE(p.values[id].kind, plan::ValueKind::View) << where;
      }
    }
    for (const std::vector<int32_t> *ids : {&d.operands, &d.results})
      for (int32_t id : *ids) {
        const int32_t s = storage(id);
        first[s] = std::min(first[s], static_cast<int32_t>(i));
        last[s] = std::max(last[s], static_cast<int32_t>(i));
      }
    // In-place state updates: (result index, operand index).
    std::vector<std::pair<size_t, size_t>> inPlace;
    if (d.kind == plan::DispatchKind::Conv1dCausal)
      inPlace = {{1, 2}};
    if (d.kind == plan::DispatchKind::GatedDeltaNet)
      inPlace = {{1, 5}};
    if (d.kind == plan::DispatchKind::GatedAttention)
      inPlace = {{1, 6}, {2, 7}};
    for (auto [r, o] : inPlace) {
      ASSERT_LT(r, d.results.size()) << where;
      ASSERT_LT(o, d.operands.size()) << where;
      EXPECT_EQ(d.results[r], d.operands[o]) << where;
      EXPECT_EQ(p.values[d.operands[o]].kind, plan::ValueKind::State) << where;
    }
    if (d.kind == plan::DispatchKind::Elementwise) {
      EXPECT_NE(d.get<plan::KernelParams>().kernel, nullptr) << where;
      EXPECT_FALSE(d.get<plan::KernelParams>().kernelName.empty()) << where;
    }
  }
  last[storage(p.logits)] = INT_MAX;

  // No two scratch values in one slot are live at the same time.
  std::map<int32_t, std::vector<int32_t>> bySlot;
  for (int32_t id = 0; id < n; ++id)
    if (p.values[id].kind == plan::ValueKind::Scratch && last[id] >= 0)
      bySlot[p.values[id].slot].push_back(id);
  for (auto &[slot, ids] : bySlot)
    for (size_t a = 0; a < ids.size(); ++a)
      for (size_t b = a + 1; b < ids.size(); ++b) {
        const int32_t x = ids[a], y = ids[b];
        EXPECT_TRUE(last[x] < first[y] || last[y] < first[x])
            << "slot " << slot << ": " << p.values[x].name << " [" << first[x]
            << ", " << last[x] << "] and " << p.values[y].name << " ["
            << first[y] << ", " << last[y] << "]";
      }
  // Sharing happens: far fewer slots than scratch values.
  EXPECT_LT(p.numSlots * 4, scratchCount);
}

class FixturePlanTest : public ::testing::TestWithParam<const char *> {};

TEST_P(FixturePlanTest, PlansKeepTheirInvariants) {
  QN_REQUIRE_FIXTURES();
  const std::string path =
      qn::test::fixturePath(std::string("models/") + GetParam() + ".gguf");
  auto file = qn::gguf::GGUFFile::open(path);
  ASSERT_TRUE(!!file) << llvm::toString(file.takeError());
  auto model = qn::gguf::describeQwen3Next(**file);
  ASSERT_TRUE(!!model) << llvm::toString(model.takeError());
  for (const char *mode : {"auto", "1", "2"}) {
    qn::codegen::CompileOptions options;
    options.deltaMode = mode;
    options.jitCacheDir = "";
    auto compiled = qn::codegen::compileModel(*model, options);
    ASSERT_TRUE(!!compiled) << llvm::toString(compiled.takeError());
    const std::string what = std::string(GetParam()) + " mode " + mode;
    checkProgram((*compiled)->prefill(), model->hp.nVocab, what + " prefill");
    checkProgram((*compiled)->decode(), model->hp.nVocab, what + " decode");
    EXPECT_FALSE((*compiled)->prefill().singleToken);
    EXPECT_TRUE((*compiled)->decode().singleToken);
    // The same chain in every layer is one kernel.
    const qn::codegen::CompileStats &s = (*compiled)->stats();
    EXPECT_LT(s.kernels * 2, s.chains) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, FixturePlanTest,
                         ::testing::Values("tiny-f32", "tiny-f32-split",
                                           "small-f16", "small-q8_0",
                                           "small-q4_k_m"));

// Delta mode 0: in prefill, every delta net is two dispatches writing the
// same values, the recurrent kernel for T < 2 and the generated loop kernel
// of the chunked form for T >= 2 (one kernel for every layer); decode has
// no loop. The plan keeps every invariant.
TEST(FixturePlanTest, DeltaModeZeroIsALoopBesideTheRecurrentStep) {
  QN_REQUIRE_FIXTURES();
  auto file =
      qn::gguf::GGUFFile::open(qn::test::fixturePath("models/tiny-f32.gguf"));
  ASSERT_TRUE(!!file) << llvm::toString(file.takeError());
  auto model = qn::gguf::describeQwen3Next(**file);
  ASSERT_TRUE(!!model) << llvm::toString(model.takeError());
  qn::codegen::CompileOptions options;
  options.deltaMode = "0";
  options.jitCacheDir = "";
  auto compiled = qn::codegen::compileModel(*model, options);
  ASSERT_TRUE(!!compiled) << llvm::toString(compiled.takeError());
  const plan::Program &p = (*compiled)->prefill();
  checkProgram(p, model->hp.nVocab, "tiny-f32 mode 0 prefill");
  checkProgram((*compiled)->decode(), model->hp.nVocab,
               "tiny-f32 mode 0 decode");
  int loops = 0;
  std::set<std::string> kernels;
  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    const plan::Dispatch &d = p.dispatches[i];
    if (d.kind != plan::DispatchKind::Loop)
      continue;
    ++loops;
    kernels.insert(d.get<plan::KernelParams>().kernelName);
    EXPECT_EQ(d.tokensFrom, 2);
    EXPECT_EQ(d.tokensBelow, 0);
    ASSERT_GT(i, 0u);
    const plan::Dispatch &net = p.dispatches[i - 1];
    ASSERT_EQ(net.kind, plan::DispatchKind::GatedDeltaNet) << d.name;
    EXPECT_EQ(net.name, d.name);
    EXPECT_EQ(net.tokensBelow, 2);
    EXPECT_EQ(net.get<plan::DeltaNetParams>().impl,
              qn::runtime::DeltaImpl::Recurrent);
    EXPECT_EQ(net.operands, d.operands);
    EXPECT_EQ(net.results, d.results);
    EXPECT_NE(d.get<plan::KernelParams>().kernel, nullptr);
  }
  EXPECT_EQ(loops, 3); // the linear-attention layers
  EXPECT_EQ(kernels, std::set<std::string>{"prefill.attn_output-0"});
  for (const plan::Dispatch &d : (*compiled)->decode().dispatches)
    EXPECT_NE(d.kind, plan::DispatchKind::Loop);

  options.deltaMode = "3";
  compiled = qn::codegen::compileModel(*model, options);
  ASSERT_FALSE(!!compiled);
  EXPECT_EQ(llvm::toString(compiled.takeError()),
            "compiling the model: delta mode must be 0, 1, 2 or auto, got "
            "'3'");
}

} // namespace

//===- Check.cpp - check every dispatch of a Program ---------------------===//
//
// Each dispatch kind's contract (Program.h) checked once, so `run` can trust
// every pointer and size: operand and result counts, value kinds, element
// types, shapes against each other and the attributes, contiguous operands,
// no result overlapping an operand (except exact in-place elementwise
// work). The backend of each dispatch binds the weights it reads (in its
// kernels' form) and reserves its kernel's scratch: the contract here is
// the same whichever backend runs the dispatch.
//
//===----------------------------------------------------------------------===//

#include "runtime/plan/Bindings.h"

#include "gguf/Dequantize.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace qn::runtime::plan {

namespace {

class DispatchChecker {
public:
  DispatchChecker(Bindings &b, size_t index)
      : b(b), index(index), d(b.program.dispatches[index]) {}

  llvm::Error check();

private:
  llvm::Error fail(const llvm::Twine &what) const {
    return b.dispatchError(index, what);
  }
  const Value &val(int32_t id) const { return b.value(id); }
  std::string describe(int32_t id) const {
    return "'" + val(id).name + "' " + elementTypeName(val(id).type).str() +
           " " + shapeString(val(id).shape);
  }

  llvm::Error arity(size_t operands, size_t results);
  llvm::Error ids();
  /// An activation operand: F32 (or `type`), contiguous, not a state.
  llvm::Error activation(int32_t id, llvm::StringRef role,
                         ElementType type = ElementType::F32);
  /// An operand read as F32 elements: an activation or a weight (bound by
  /// the backend for that use).
  llvm::Error floats(int32_t id, llvm::StringRef role);
  /// The backend binds weight `id` for `use`.
  llvm::Error bindWeight(int32_t id, llvm::StringRef role, WeightUse use);
  /// A weight operand multiplied or gathered by rows.
  llvm::Error matrix(int32_t id, llvm::StringRef role, size_t rank);
  llvm::Error state(int32_t id, StateKind kind, llvm::StringRef role);
  /// results[i] is the in-place update of the state operand `operand`.
  llvm::Error stateResult(size_t i, int32_t operand);
  /// results[0]: writable scratch (a View of scratch), `type`, contiguous
  /// unless `strided`.
  llvm::Error output(ElementType type = ElementType::F32, bool strided = false);
  llvm::Error shapeIs(int32_t id, llvm::StringRef role,
                      llvm::ArrayRef<int64_t> shape);
  llvm::Error noOverlap();

  llvm::Error embed();
  llvm::Error rmsNorm();
  llvm::Error l2Norm();
  llvm::Error matmul();
  llvm::Error conv();
  llvm::Error deltaNet();
  llvm::Error attention();
  llvm::Error moe();
  llvm::Error copy();
  llvm::Error transfer();
  llvm::Error elementwise();
  llvm::Error loop();

  Bindings &b;
  size_t index;
  const Dispatch &d;
};

llvm::Error DispatchChecker::arity(size_t operands, size_t results) {
  if (d.operands.size() != operands || d.results.size() != results)
    return fail(llvm::formatv("{0} operands and {1} results, expected {2} "
                              "and {3}",
                              d.operands.size(), d.results.size(), operands,
                              results));
  return llvm::Error::success();
}

llvm::Error DispatchChecker::ids() {
  const int32_t n = static_cast<int32_t>(b.program.values.size());
  for (const std::vector<int32_t> *list : {&d.operands, &d.results})
    for (int32_t id : *list)
      if (id < 0 || id >= n)
        return fail(
            llvm::formatv("value #{0} does not exist ({1} values)", id, n));
  if (d.results.empty())
    return fail("no result");
  return llvm::Error::success();
}

llvm::Error DispatchChecker::activation(int32_t id, llvm::StringRef role,
                                        ElementType type) {
  const Value &v = val(id);
  if (v.kind == ValueKind::State)
    return fail(role + " is state " + describe(id) +
                ", which only stateful dispatches read");
  if (v.kind == ValueKind::Weight)
    return fail(role + " is weight " + describe(id) +
                ", expected an activation");
  if (v.type != type)
    return fail(role + " " + describe(id) + " is not " + elementTypeName(type));
  if (!b.values[id].contiguous)
    return fail(role + " " + describe(id) +
                " is a strided view (only Copy reads those)");
  return llvm::Error::success();
}

llvm::Error DispatchChecker::floats(int32_t id, llvm::StringRef role) {
  const Value &v = val(id);
  if (v.kind != ValueKind::Weight)
    return activation(id, role);
  return bindWeight(id, role, WeightUse::Floats);
}

llvm::Error DispatchChecker::bindWeight(int32_t id, llvm::StringRef role,
                                        WeightUse use) {
  if (llvm::Error err = b.backendOf(d).bindWeight(b, id, use))
    return fail(role + " " + describe(id) + " " +
                llvm::toString(std::move(err)));
  return llvm::Error::success();
}

llvm::Error DispatchChecker::matrix(int32_t id, llvm::StringRef role,
                                    size_t rank) {
  const Value &v = val(id);
  if (v.kind != ValueKind::Weight)
    return fail(role + " " + describe(id) + " is not a weight");
  if (v.shape.size() != rank)
    return fail(
        llvm::formatv("{0} {1} is not of rank {2}", role, describe(id), rank));
  return bindWeight(id, role, WeightUse::Matrix);
}

llvm::Error DispatchChecker::state(int32_t id, StateKind kind,
                                   llvm::StringRef role) {
  const Value &v = val(id);
  if (v.kind != ValueKind::State || v.state != kind)
    return fail(role + " " + describe(id) + " is not the right kind of state");
  return llvm::Error::success();
}

llvm::Error DispatchChecker::stateResult(size_t i, int32_t operand) {
  const Value &r = val(d.results[i]), &s = val(operand);
  if (r.kind != ValueKind::State || r.state != s.state || r.layer != s.layer)
    return fail(llvm::formatv("result {0} {1} is not the updated state '{2}'",
                              i, describe(d.results[i]), s.name));
  return llvm::Error::success();
}

llvm::Error DispatchChecker::output(ElementType type, bool strided) {
  const int32_t id = d.results[0];
  const Value &v = val(id);
  const Value &root = val(b.values[id].root);
  if (root.kind != ValueKind::Scratch)
    return fail("result " + describe(id) +
                " is not scratch (only scratch can be written)");
  if (v.type != type)
    return fail("result " + describe(id) + " is not " + elementTypeName(type));
  if (!strided && !b.values[id].contiguous)
    return fail("result " + describe(id) + " is a strided view");
  return llvm::Error::success();
}

llvm::Error DispatchChecker::shapeIs(int32_t id, llvm::StringRef role,
                                     llvm::ArrayRef<int64_t> shape) {
  if (llvm::ArrayRef<int64_t>(val(id).shape) != shape)
    return fail(role + " " + describe(id) + " should be " + shapeString(shape));
  return llvm::Error::success();
}

llvm::Error DispatchChecker::noOverlap() {
  // Scratch values of one slot share memory; a result may only be its
  // operand exactly (elementwise work in place), never partly.
  const bool inPlaceOk = d.kind == DispatchKind::Elementwise ||
                         d.kind == DispatchKind::RmsNorm ||
                         d.kind == DispatchKind::L2Norm;
  const int32_t r = d.results[0];
  const Bound &rb = b.values[r];
  const Value &rroot = val(rb.root);
  for (int32_t o : d.operands) {
    const Bound &ob = b.values[o];
    const Value &oroot = val(ob.root);
    if (oroot.kind != ValueKind::Scratch || oroot.slot != rroot.slot)
      continue;
    const bool exact = inPlaceOk && ob.rootOffset == rb.rootOffset &&
                       val(o).shape == val(r).shape && ob.contiguous &&
                       rb.contiguous;
    if (!exact)
      return fail(llvm::formatv("result {0} shares scratch slot {1} with "
                                "operand {2}",
                                describe(r), rroot.slot, describe(o)));
  }
  return llvm::Error::success();
}

llvm::Error DispatchChecker::embed() {
  if (llvm::Error err = arity(2, 1))
    return err;
  const int32_t table = d.operands[0], idsId = d.operands[1];
  if (llvm::Error err = activation(idsId, "the ids", ElementType::I32))
    return err;
  if (val(idsId).shape.size() != 1)
    return fail("the ids " + describe(idsId) + " are not a vector");
  if (val(table).kind == ValueKind::Weight) {
    if (llvm::Error err = matrix(table, "the table", 2))
      return err;
  } else if (llvm::Error err = activation(table, "the table")) {
    return err;
  } else if (val(table).shape.size() != 2) {
    return fail("the table " + describe(table) + " is not a matrix");
  }
  if (llvm::Error err = output())
    return err;
  return shapeIs(d.results[0], "the result",
                 {val(idsId).shape[0], val(table).shape[1]});
}

llvm::Error DispatchChecker::rmsNorm() {
  if (llvm::Error err = arity(2, 1))
    return err;
  const int32_t x = d.operands[0], w = d.operands[1];
  if (llvm::Error err = activation(x, "the input"))
    return err;
  if (val(x).shape.empty())
    return fail("the input " + describe(x) + " is a scalar");
  if (llvm::Error err = floats(w, "the weight"))
    return err;
  if (llvm::Error err = shapeIs(w, "the weight", {val(x).shape.back()}))
    return err;
  if (llvm::Error err = output())
    return err;
  return shapeIs(d.results[0], "the result", val(x).shape);
}

llvm::Error DispatchChecker::l2Norm() {
  if (llvm::Error err = arity(1, 1))
    return err;
  const int32_t x = d.operands[0];
  if (llvm::Error err = activation(x, "the input"))
    return err;
  if (val(x).shape.empty())
    return fail("the input " + describe(x) + " is a scalar");
  if (llvm::Error err = output())
    return err;
  return shapeIs(d.results[0], "the result", val(x).shape);
}

llvm::Error DispatchChecker::matmul() {
  // A third operand is the fused residual: r + x W^T.
  const bool residual = d.operands.size() == 3;
  if (llvm::Error err = arity(residual ? 3 : 2, 1))
    return err;
  const int32_t x = d.operands[0], w = d.operands[1];
  if (llvm::Error err = activation(x, "the input"))
    return err;
  if (llvm::Error err = matrix(w, "the weight", 2))
    return err;
  const std::vector<int64_t> &xs = val(x).shape, &ws = val(w).shape;
  if (xs.size() < 2 || xs.back() != ws[1])
    return fail("the input " + describe(x) + " does not fit the weight " +
                describe(w));
  std::vector<int64_t> out = xs;
  out.back() = ws[0];
  if (llvm::Error err = output())
    return err;
  if (residual) {
    if (llvm::Error err = activation(d.operands[2], "the residual"))
      return err;
    if (llvm::Error err = shapeIs(d.operands[2], "the residual", out))
      return err;
  }
  return shapeIs(d.results[0], "the result", out);
}

llvm::Error DispatchChecker::conv() {
  if (llvm::Error err = arity(3, 2))
    return err;
  const int32_t x = d.operands[0], w = d.operands[1], s = d.operands[2];
  if (llvm::Error err = activation(x, "the input"))
    return err;
  if (llvm::Error err = state(s, StateKind::ConvWindow, "the state"))
    return err;
  const int64_t C = val(s).shape[0], Kc = val(s).shape[1] + 1;
  if (val(x).shape.size() != 2 || val(x).shape[1] != C)
    return fail("the input " + describe(x) + " does not fit the state " +
                describe(s));
  if (val(w).kind != ValueKind::Weight)
    return fail("the kernel " + describe(w) + " is not a weight");
  if (llvm::Error err = shapeIs(w, "the kernel", {C, Kc}))
    return err;
  if (llvm::Error err = bindWeight(w, "the kernel", WeightUse::ConvKernel))
    return err;
  if (llvm::Error err = output())
    return err;
  if (llvm::Error err = shapeIs(d.results[0], "the result", val(x).shape))
    return err;
  return stateResult(1, s);
}

llvm::Error DispatchChecker::deltaNet() {
  if (llvm::Error err = arity(6, 2))
    return err;
  const int32_t q = d.operands[0], k = d.operands[1], v = d.operands[2];
  const int32_t g = d.operands[3], beta = d.operands[4], s = d.operands[5];
  for (auto [id, role] :
       {std::pair{q, "q"}, {k, "k"}, {v, "v"}, {g, "g"}, {beta, "beta"}})
    if (llvm::Error err = activation(id, role))
      return err;
  if (llvm::Error err = state(s, StateKind::DeltaMatrix, "the state"))
    return err;
  const std::vector<int64_t> &ss = val(s).shape, &qs = val(q).shape;
  const int64_t Hv = ss[0], dk = ss[1], dv = ss[2];
  if (qs.size() != 3 || qs[2] != dk || qs[1] <= 0 || Hv % qs[1] != 0)
    return fail("q " + describe(q) + " does not fit the state " + describe(s) +
                " ([Hv, dk, dv], Hv a multiple of q's heads)");
  const int64_t T = qs[0];
  if (llvm::Error err = shapeIs(k, "k", qs))
    return err;
  if (llvm::Error err = shapeIs(v, "v", {T, Hv, dv}))
    return err;
  if (llvm::Error err = shapeIs(g, "g", {T, Hv}))
    return err;
  if (llvm::Error err = shapeIs(beta, "beta", {T, Hv}))
    return err;
  const DeltaNetParams &p = d.get<DeltaNetParams>();
  if (p.recurrentBelow < 0 ||
      (p.recurrentBelow > 0 && p.impl == DeltaImpl::Recurrent))
    return fail(llvm::formatv("impl {0} recurrent below {1}: the threshold "
                              "must be >= 0 and choose another impl",
                              deltaImplName(p.impl), p.recurrentBelow));
  if (llvm::Error err = output())
    return err;
  if (llvm::Error err = shapeIs(d.results[0], "the result", {T, Hv, dv}))
    return err;
  return stateResult(1, s);
}

llvm::Error DispatchChecker::attention() {
  if (llvm::Error err = arity(8, 3))
    return err;
  const AttentionParams &p = d.get<AttentionParams>();
  const int64_t Hq = p.numHeads, Hkv = p.numKvHeads, Dh = p.headDim,
                rope = p.ropeDims;
  if (Hq <= 0 || Hkv <= 0 || Dh <= 0 || Hq % Hkv != 0 || rope < 0 ||
      rope > Dh || rope % 2 != 0)
    return fail(llvm::formatv("heads ({0}, {1}), head dim {2}, rope dims {3}: "
                              "expected positive heads, query heads a "
                              "multiple of KV heads, even rope dims <= head "
                              "dim",
                              Hq, Hkv, Dh, rope));
  const int32_t qAux = d.operands[0], k = d.operands[1], v = d.operands[2];
  const int32_t qn = d.operands[3], kn = d.operands[4], pos = d.operands[5];
  const int32_t kc = d.operands[6], vc = d.operands[7];
  for (auto [id, role] : {std::pair{qAux, "q_aux"}, {k, "k"}, {v, "v"}})
    if (llvm::Error err = activation(id, role))
      return err;
  // Cache rows are written at these: only the validated input will do.
  if (val(pos).kind != ValueKind::Positions)
    return fail("the positions " + describe(pos) +
                " are not the positions input");
  for (auto [id, role] : {std::pair{qn, "q_norm"}, {kn, "k_norm"}}) {
    if (llvm::Error err = floats(id, role))
      return err;
    if (llvm::Error err = shapeIs(id, role, {Dh}))
      return err;
  }
  if (llvm::Error err = state(kc, StateKind::KeyCache, "the key cache"))
    return err;
  if (llvm::Error err = state(vc, StateKind::ValueCache, "the value cache"))
    return err;
  if (val(kc).layer != val(vc).layer)
    return fail("the key and value caches are of different layers");
  for (int32_t cache : {kc, vc})
    if (llvm::Error err = shapeIs(cache, "the cache", {kContextRows, Hkv, Dh}))
      return err;
  const std::vector<int64_t> &qs = val(qAux).shape;
  if (qs.size() != 2)
    return fail("q_aux " + describe(qAux) + " is not a matrix");
  const int64_t T = qs[0];
  if (llvm::Error err = shapeIs(qAux, "q_aux", {T, 2 * Hq * Dh}))
    return err;
  for (auto [id, role] : {std::pair{k, "k"}, {v, "v"}})
    if (llvm::Error err = shapeIs(id, role, {T, Hkv * Dh}))
      return err;
  if (llvm::Error err = shapeIs(pos, "the positions", {T}))
    return err;
  if (llvm::Error err = output())
    return err;
  if (llvm::Error err = shapeIs(d.results[0], "the result", {T, Hq * Dh}))
    return err;
  if (llvm::Error err = stateResult(1, kc))
    return err;
  return stateResult(2, vc);
}

llvm::Error DispatchChecker::moe() {
  const MoEParams &p = d.get<MoEParams>();
  if (llvm::Error err = arity(p.sharedExpert ? 9 : 5, 1))
    return err;
  const int32_t x = d.operands[0];
  if (llvm::Error err = activation(x, "the input"))
    return err;
  if (llvm::Error err = matrix(d.operands[1], "the router", 2))
    return err;
  for (size_t i = 2; i < 5; ++i)
    if (llvm::Error err = matrix(d.operands[i], "an expert tensor", 3))
      return err;
  const std::vector<int64_t> &rs = val(d.operands[1]).shape;
  const int64_t E = rs[0], D = rs[1], F = val(d.operands[2]).shape[1];
  if (llvm::Error err = shapeIs(d.operands[2], "gate_exps", {E, F, D}))
    return err;
  if (llvm::Error err = shapeIs(d.operands[3], "up_exps", {E, F, D}))
    return err;
  if (llvm::Error err = shapeIs(d.operands[4], "down_exps", {E, D, F}))
    return err;
  const std::vector<int64_t> &xs = val(x).shape;
  if (xs.size() != 2 || xs[1] != D)
    return fail("the input " + describe(x) + " does not fit the router " +
                describe(d.operands[1]));
  if (p.topK < 1 || p.topK > E)
    return fail(llvm::formatv("top {0} of {1} experts", p.topK, E));
  int64_t Fs = 0;
  if (p.sharedExpert) {
    if (llvm::Error err = floats(d.operands[5], "the shared gate"))
      return err;
    if (llvm::Error err = shapeIs(d.operands[5], "the shared gate", {D}))
      return err;
    for (size_t i = 6; i < 9; ++i)
      if (llvm::Error err = matrix(d.operands[i], "a shared expert tensor", 2))
        return err;
    Fs = val(d.operands[6]).shape[0];
    if (llvm::Error err = shapeIs(d.operands[6], "gate_shexp", {Fs, D}))
      return err;
    if (llvm::Error err = shapeIs(d.operands[7], "up_shexp", {Fs, D}))
      return err;
    if (llvm::Error err = shapeIs(d.operands[8], "down_shexp", {D, Fs}))
      return err;
  }
  if (llvm::Error err = output())
    return err;
  return shapeIs(d.results[0], "the result", xs);
}

llvm::Error DispatchChecker::copy() {
  if (llvm::Error err = arity(1, 1))
    return err;
  const int32_t src = d.operands[0], dst = d.results[0];
  const Value &root = val(b.values[src].root);
  if (root.kind == ValueKind::State)
    return fail("the source " + describe(src) + " is a state");
  // A weight's elements as F32 (views of weights exist only for F32 ones).
  if (root.kind == ValueKind::Weight) {
    if (val(src).type != ElementType::F32)
      return fail("the source " + describe(src) +
                  " is a weight not read as "
                  "f32");
    if (llvm::Error err = floats(b.values[src].root, "the source"))
      return err;
  }
  if (llvm::Error err = output(val(src).type, /*strided=*/true))
    return err;
  return shapeIs(dst, "the destination", val(src).shape);
}

llvm::Error DispatchChecker::transfer() {
  if (llvm::Error err = arity(1, 1))
    return err;
  // Residence checked the backends: the source in `from`'s memory, the
  // result in this one's.
  const int32_t src = d.operands[0];
  if (val(src).kind == ValueKind::Weight || val(src).kind == ValueKind::State)
    return fail("the source " + describe(src) +
                " is not an activation (weights and states are bound by each "
                "backend, never transferred)");
  if (!b.values[src].contiguous)
    return fail("the source " + describe(src) + " is a strided view");
  if (llvm::Error err = output(val(src).type))
    return err;
  return shapeIs(d.results[0], "the result", val(src).shape);
}

llvm::Error DispatchChecker::elementwise() {
  if (d.results.size() != 1)
    return fail(llvm::formatv("{0} results, expected 1", d.results.size()));
  if (d.operands.size() + 1 > kMaxKernelArgs)
    return fail(llvm::formatv("{0} operands, at most {1} supported",
                              d.operands.size(), kMaxKernelArgs - 1));
  if (llvm::Error err = output())
    return err;
  // The kernel reads operands with numpy broadcasting: leading dimensions
  // may be missing, a size-1 dimension repeats.
  const std::vector<int64_t> &out = val(d.results[0]).shape;
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const int32_t id = d.operands[i];
    const std::string role = llvm::formatv("operand {0}", i).str();
    if (llvm::Error err = floats(id, role))
      return err;
    const std::vector<int64_t> &in = val(id).shape;
    bool fits = in.size() <= out.size();
    for (size_t k = 0; fits && k < in.size(); ++k) {
      const int64_t o = out[out.size() - in.size() + k];
      fits = in[k] == o || in[k] == 1;
    }
    if (!fits)
      return fail(role + " " + describe(id) +
                  " does not broadcast to the result " +
                  describe(d.results[0]));
  }
  return llvm::Error::success();
}

llvm::Error DispatchChecker::loop() {
  const size_t args = d.operands.size() + d.results.size();
  if (args > kMaxKernelArgs)
    return fail(llvm::formatv("{0} operands and results, at most {1} "
                              "supported",
                              args, kMaxKernelArgs));
  // The kernel runs per sequence group: token-major values are cut into
  // the group's rows, states are the group's slot, the rest is whole.
  auto perGroup = [&](int32_t id, llvm::StringRef role) -> llvm::Error {
    const Value &v = val(id);
    if (v.type != ElementType::F32)
      return fail(role + " " + describe(id) + " is not f32");
    if (!b.values[id].contiguous)
      return fail(role + " " + describe(id) +
                  " is a strided view (only Copy reads those)");
    if (!v.shape.empty() && v.shape[0] < 0 && v.shape[0] != kTokens &&
        v.kind != ValueKind::State)
      return fail(role + " " + describe(id) +
                  ": only the tokens may be a loop kernel's dynamic "
                  "dimension");
    return llvm::Error::success();
  };
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const int32_t id = d.operands[i];
    if (val(id).kind == ValueKind::Weight)
      return fail(llvm::formatv("operand {0} is weight {1}; loop kernels read "
                                "activations and states",
                                i, describe(id)));
    // A slot keeps the delta state in the IR's layout; the conv window and
    // the caches are laid out for their own kernels.
    if (val(id).kind == ValueKind::State &&
        val(id).state != StateKind::DeltaMatrix)
      return fail(llvm::formatv("operand {0} is state {1} ({2}); loop "
                                "kernels read delta states only",
                                i, describe(id), stateKindName(val(id).state)));
    if (llvm::Error err = perGroup(id, llvm::formatv("operand {0}", i).str()))
      return err;
  }
  for (size_t i = 0; i < d.results.size(); ++i) {
    const int32_t id = d.results[i];
    const std::string role = llvm::formatv("result {0}", i).str();
    if (val(id).kind == ValueKind::State) {
      if (llvm::find(d.operands, id) == d.operands.end())
        return fail(role + " is state " + describe(id) +
                    ", which is not one of its operands (states are "
                    "updated in place)");
    } else if (val(b.values[id].root).kind != ValueKind::Scratch) {
      return fail(role + " " + describe(id) + " is not scratch");
    }
    if (llvm::Error err = perGroup(id, role))
      return err;
  }
  return llvm::Error::success();
}

llvm::Error DispatchChecker::check() {
  if (llvm::Error err = ids())
    return err;
  if (dispatchKindName(d.kind) == "?")
    return fail(
        llvm::formatv("unknown dispatch kind {0}", static_cast<int>(d.kind)));
  if (d.params.index() != defaultParams(d.kind).index())
    return fail("its parameters are not those of a " +
                dispatchKindName(d.kind).str() + " dispatch");
  llvm::Error err = llvm::Error::success();
  switch (d.kind) {
  case DispatchKind::Embed:
    err = embed();
    break;
  case DispatchKind::RmsNorm:
    err = rmsNorm();
    break;
  case DispatchKind::L2Norm:
    err = l2Norm();
    break;
  case DispatchKind::Matmul:
    err = matmul();
    break;
  case DispatchKind::Conv1dCausal:
    err = conv();
    break;
  case DispatchKind::GatedDeltaNet:
    err = deltaNet();
    break;
  case DispatchKind::GatedAttention:
    err = attention();
    break;
  case DispatchKind::MoE:
    err = moe();
    break;
  case DispatchKind::Copy:
    err = copy();
    break;
  case DispatchKind::Elementwise:
    err = elementwise();
    break;
  case DispatchKind::Loop:
    err = loop();
    break;
  case DispatchKind::Transfer:
    err = transfer();
    break;
  default:
    return fail(
        llvm::formatv("unknown dispatch kind {0}", static_cast<int>(d.kind)));
  }
  if (err)
    return err;
  if (llvm::Error err = noOverlap())
    return err;
  // A transfer is the executor's: it calls the device side's `transfer`.
  if (d.kind == DispatchKind::Transfer)
    return llvm::Error::success();
  return b.backendOf(d).reserve(b, index);
}

} // namespace

llvm::Error checkDispatches(Bindings &b) {
  for (size_t i = 0; i < b.program.dispatches.size(); ++i) {
    DispatchChecker checker(b, i);
    if (llvm::Error err = checker.check())
      return err;
  }
  for (DispatchBackend *backend : b.backends)
    if (backend)
      if (llvm::Error err = backend->finishReserving(b))
        return err;
  return llvm::Error::success();
}

} // namespace qn::runtime::plan

//===- Bind.cpp - check and place every value of a Program ---------------===//

#include "runtime/plan/Bindings.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace qn::runtime::plan {

namespace {

llvm::StringRef valueKindName(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tokens:
    return "tokens";
  case ValueKind::Positions:
    return "positions";
  case ValueKind::OutputRows:
    return "output rows";
  case ValueKind::Weight:
    return "weight";
  case ValueKind::State:
    return "state";
  case ValueKind::Scratch:
    return "scratch";
  case ValueKind::View:
    return "view";
  }
  return "?";
}

/// Only dimension 0 may be symbolic (`allowed` lists which symbols); the
/// others are sizes >= 0.
llvm::Error checkShape(const Bindings &b, int32_t id,
                       std::initializer_list<int64_t> allowed) {
  const Value &v = b.value(id);
  for (size_t d = 0; d < v.shape.size(); ++d) {
    const int64_t n = v.shape[d];
    if (n >= 0)
      continue;
    if (d != 0)
      return b.valueError(id, "shape " + shapeString(v.shape) +
                                  ": only dimension 0 may be dynamic");
    if (!llvm::is_contained(allowed, n))
      return b.valueError(id, "shape " + shapeString(v.shape) + ": a " +
                                  valueKindName(v.kind) +
                                  " value cannot have that dynamic size");
  }
  return llvm::Error::success();
}

llvm::Error bindInput(Bindings &b, int32_t id) {
  const Value &v = b.value(id);
  const int64_t symbol =
      v.kind == ValueKind::OutputRows ? kOutputRows : kTokens;
  const bool dynamic = v.shape == std::vector<int64_t>{symbol};
  const bool single = b.program.singleToken &&
                      v.shape == std::vector<int64_t>{1} &&
                      v.kind != ValueKind::OutputRows;
  if (v.type != ElementType::I32 || !(dynamic || single))
    return b.valueError(id, llvm::formatv("{0} {1}: expected i32 {2}",
                                          elementTypeName(v.type),
                                          shapeString(v.shape),
                                          shapeString({single ? 1 : symbol})));
  std::vector<int32_t> &buffer = v.kind == ValueKind::Tokens ? b.tokens
                                 : v.kind == ValueKind::Positions
                                     ? b.positions
                                     : b.outputRows;
  b.values[id].data = reinterpret_cast<uint8_t *>(buffer.data());
  return llvm::Error::success();
}

llvm::Error bindWeight(Bindings &b, int32_t id) {
  const Value &v = b.value(id);
  const gguf::TensorInfo *t = b.model.file().findTensor(v.name);
  if (!t)
    return b.valueError(id, "the model has no tensor named '" + v.name + "'");
  std::vector<int64_t> fileShape(t->ne.rbegin(), t->ne.rend());
  if (fileShape != v.shape)
    return b.valueError(
        id, "shape " + shapeString(v.shape) + " but the GGUF tensor is " +
                shapeString(fileShape) + " (ggml " + t->shapeString() + ")");
  // The compiler planned the kernels for the format in the IR's weight
  // type; a file that stores another one is the wrong file for this plan.
  if (t->type != v.format)
    return b.valueError(id, llvm::formatv("planned for {0} but the GGUF "
                                          "tensor is {1}",
                                          gguf::getTypeName(v.format),
                                          gguf::getTypeName(t->type)));
  // F16 storage says so; F32 stands for F32 and for every block format
  // (what their kernels produce).
  const bool f16 = t->type == gguf::GGMLType::F16;
  const bool agrees =
      v.type == ElementType::F16 ? f16 : v.type == ElementType::F32 && !f16;
  if (!agrees)
    return b.valueError(id, llvm::formatv("element type {0} but the GGUF "
                                          "tensor is {1}",
                                          elementTypeName(v.type),
                                          gguf::getTypeName(t->type)));
  Bound &w = b.values[id];
  w.tensor = t;
  if (t->type == gguf::GGMLType::F32) {
    w.data = const_cast<uint8_t *>(t->data); // read-only: never a result
    w.floats = reinterpret_cast<const float *>(t->data);
  }
  return llvm::Error::success();
}

llvm::Error bindState(Bindings &b, int32_t id) {
  const Value &v = b.value(id);
  const gguf::Qwen3NextHParams &hp = b.model.hparams();
  if (v.layer < 0 || v.layer >= hp.nLayer)
    return b.valueError(id, llvm::formatv("layer {0} out of range [0, {1})",
                                          v.layer, hp.nLayer));
  const bool recurrentState =
      v.state == StateKind::ConvWindow || v.state == StateKind::DeltaMatrix;
  if (recurrentState != static_cast<bool>(hp.isRecurrent[v.layer]))
    return b.valueError(
        id, llvm::formatv("a {0} of layer {1}, which is a {2} layer",
                          stateKindName(v.state), v.layer,
                          hp.isRecurrent[v.layer] ? "linear-attention"
                                                  : "full-attention"));
  std::vector<int64_t> shape;
  ElementType type = ElementType::F32;
  switch (v.state) {
  case StateKind::ConvWindow:
    shape = {hp.convChannels(), hp.convKernel - 1};
    break;
  case StateKind::DeltaMatrix:
    shape = {hp.ssmTimeStepRank, hp.ssmState, hp.headVDim()};
    break;
  case StateKind::KeyCache:
  case StateKind::ValueCache:
    shape = {kContextRows, hp.nHeadKV, hp.headDim};
    type = b.kvType == KVType::F16 ? ElementType::F16 : ElementType::F32;
    break;
  }
  if (v.shape != shape || v.type != type)
    return b.valueError(
        id, llvm::formatv("a {0} of {1} {2}, but the model and KV type give "
                          "{3} {4}",
                          stateKindName(v.state), elementTypeName(v.type),
                          shapeString(v.shape), elementTypeName(type),
                          shapeString(shape)));
  return llvm::Error::success();
}

/// The memory a scratch value of `id` needs for the largest ubatch.
int64_t scratchBytes(const Bindings &b, int32_t id) {
  int64_t n = static_cast<int64_t>(elementBytes(b.value(id).type));
  for (int64_t d : b.value(id).shape)
    n *= d < 0 ? b.maxTokens : d;
  return n;
}

/// Element offset of the last element a view can reach, at `rows` rows.
int64_t viewReach(const Value &v, int64_t offset, int64_t rows) {
  int64_t last = offset;
  for (size_t d = 0; d < v.shape.size(); ++d) {
    const int64_t n = v.shape[d] < 0 ? rows : v.shape[d];
    if (n == 0)
      return -1; // empty: reaches nothing
    last += (n - 1) * v.strides[d];
  }
  return last;
}

int64_t rootElements(const Value &root, int64_t rows) {
  int64_t n = 1;
  for (int64_t d : root.shape)
    n *= d < 0 ? rows : d;
  return n;
}

llvm::Error bindView(Bindings &b, int32_t id, std::vector<uint8_t> &state) {
  // state: 0 unvisited, 1 on the current chain, 2 done.
  if (state[id] == 2)
    return llvm::Error::success();
  if (state[id] == 1)
    return b.valueError(id, "views form a cycle");
  const Value &v = b.value(id);
  const int32_t n = static_cast<int32_t>(b.program.values.size());
  if (v.base < 0 || v.base >= n || v.base == id)
    return b.valueError(id, llvm::formatv("view of value #{0}, which does "
                                          "not exist",
                                          v.base));
  const Value &base = b.value(v.base);
  if (v.strides.size() != v.shape.size())
    return b.valueError(id, llvm::formatv("{0} strides for a shape of rank "
                                          "{1}",
                                          v.strides.size(), v.shape.size()));
  if (v.offset < 0 || llvm::any_of(v.strides, [](int64_t s) { return s < 0; }))
    return b.valueError(id, "negative offset or stride");
  if (v.type != base.type)
    return b.valueError(id, "element type " + elementTypeName(v.type) +
                                " but its base '" + base.name + "' is " +
                                elementTypeName(base.type));
  if (base.kind == ValueKind::View) {
    state[id] = 1;
    if (llvm::Error err = bindView(b, v.base, state))
      return err;
  }
  Bound &view = b.values[id];
  const Bound &baseBound = b.values[v.base];
  view.root = baseBound.root;
  view.rootOffset = baseBound.rootOffset + v.offset;
  view.strides = v.strides;
  const Value &root = b.value(view.root);
  switch (root.kind) {
  case ValueKind::State:
    return b.valueError(id, "a view of state '" + root.name +
                                "' (states are bound per sequence group)");
  case ValueKind::Weight:
    if (!b.values[view.root].floats)
      return b.valueError(id, "a view of weight '" + root.name +
                                  "', which is not stored as F32");
    break;
  default:
    break;
  }
  // Dynamic rows scale the view and its storage alike: check the smallest
  // and the largest ubatch.
  if (!v.shape.empty() && v.shape[0] < 0 &&
      (root.shape.empty() || root.shape[0] != v.shape[0]))
    return b.valueError(id, "dynamic size " + shapeString(v.shape) +
                                " but its storage '" + root.name + "' is " +
                                shapeString(root.shape));
  for (int64_t rows : {int64_t{1}, b.maxTokens})
    if (viewReach(v, view.rootOffset, rows) >= rootElements(root, rows))
      return b.valueError(
          id, llvm::formatv("offset {0} strides {1} reach past the end of "
                            "'{2}' {3}",
                            view.rootOffset, shapeString(v.strides), root.name,
                            shapeString(root.shape)));
  const uint8_t *rootData = b.values[view.root].data;
  view.data = const_cast<uint8_t *>(rootData) +
              view.rootOffset * static_cast<int64_t>(elementBytes(v.type));
  view.contiguous = isRowMajor(v.shape, v.strides);
  state[id] = 2;
  return llvm::Error::success();
}

} // namespace

llvm::Error bindValues(Bindings &b) {
  const int32_t n = static_cast<int32_t>(b.program.values.size());
  // assignResidence sized b.values and set each value's home.
  const size_t inputs = static_cast<size_t>(std::max<int64_t>(b.maxTokens, 1));
  b.tokens.assign(inputs, 0);
  b.positions.assign(inputs, 0);
  b.outputRows.assign(inputs, 0);
  if (b.program.numSlots < 0)
    return llvm::createStringError(llvm::formatv(
        "plan '{0}': {1} scratch slots", b.program.entry, b.program.numSlots));
  std::vector<int64_t> slotBytes(static_cast<size_t>(b.program.numSlots), 0);

  // Everything but views: each value is its own root.
  for (int32_t id = 0; id < n; ++id) {
    const Value &v = b.value(id);
    Bound &bound = b.values[id];
    bound.root = id;
    if (v.kind != ValueKind::View)
      bound.strides = rowMajorStrides(v.shape);
    llvm::Error err = llvm::Error::success();
    switch (v.kind) {
    case ValueKind::Tokens:
    case ValueKind::Positions:
    case ValueKind::OutputRows:
      err = bindInput(b, id);
      break;
    case ValueKind::Weight:
      err = checkShape(b, id, {});
      if (!err)
        err = bindWeight(b, id);
      break;
    case ValueKind::State:
      err = checkShape(b, id, {kContextRows});
      if (!err)
        err = bindState(b, id);
      break;
    case ValueKind::Scratch:
      err = checkShape(b, id, {kTokens, kOutputRows});
      if (!err && (v.slot < 0 || v.slot >= b.program.numSlots))
        err = b.valueError(id, llvm::formatv("slot {0} out of range [0, {1})",
                                             v.slot, b.program.numSlots));
      if (!err)
        slotBytes[v.slot] = std::max(slotBytes[v.slot], scratchBytes(b, id));
      break;
    case ValueKind::View:
      err = checkShape(b, id, {kTokens, kOutputRows});
      break;
    default:
      err = b.valueError(id, llvm::formatv("unknown value kind {0}",
                                           static_cast<int>(v.kind)));
    }
    if (err)
      return err;
  }

  // Scratch: each slot once, as large as its largest value, in its home
  // backend's memory (16-byte multiples: kernels may read whole vectors).
  b.slotData.assign(slotBytes.size(), nullptr);
  for (size_t s = 0; s < slotBytes.size(); ++s) {
    const size_t bytes = static_cast<size_t>(
        (std::max<int64_t>(slotBytes[s], 1) + 15) / 16 * 16);
    DispatchBackend &backend = *b.backends[static_cast<size_t>(b.slotHome[s])];
    llvm::Expected<uint8_t *> memory = backend.allocate(bytes);
    if (!memory)
      return llvm::createStringError(
          llvm::formatv("plan '{0}': scratch slot {1} ({2} bytes on {3}): ",
                        b.program.entry, s, bytes,
                        backendName(backend.kind())) +
          llvm::toString(memory.takeError()));
    b.slotData[s] = *memory;
  }
  for (int32_t id = 0; id < n; ++id)
    if (b.value(id).kind == ValueKind::Scratch)
      b.values[id].data = b.slotData[b.value(id).slot];

  std::vector<uint8_t> state(static_cast<size_t>(n), 0);
  for (int32_t id = 0; id < n; ++id)
    if (b.value(id).kind == ValueKind::View)
      if (llvm::Error err = bindView(b, id, state))
        return err;
  return llvm::Error::success();
}

} // namespace qn::runtime::plan

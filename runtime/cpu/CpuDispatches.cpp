//===- CpuDispatches.cpp - run one dispatch on the CPU -------------------===//
//
// Everything here was checked by checkDispatches: operand kinds, shapes,
// contiguity and the weights' bindings, so each case only resolves the
// ubatch's sizes and calls the runtime's kernel (the same functions the
// direct engine calls).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/plan/Bindings.h"

#include "runtime/kernels/Matmul.h"
#include "runtime/layers/Recurrence.h"
#include "runtime/ops/Norms.h"

#include "gguf/Dequantize.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/ErrorHandling.h"

#include <cstring>
#include <optional>

namespace qn::runtime::cpu {

using namespace plan;

namespace {

/// F32 elements of a float operand: a weight's floats, else the value.
const float *floatsOf(const Bindings &b, int32_t id) {
  return b.values[id].floats ? b.values[id].floats : b.f32(id);
}

void embed(Bindings &b, const Dispatch &d) {
  const Bound &table = b.values[d.operands[0]];
  const int32_t *ids = b.i32(d.operands[1]);
  const int64_t n = b.elements(d.operands[1]);
  const int64_t D = b.value(d.operands[0]).shape[1];
  float *out = b.f32(d.results[0]);
  // Ids are run inputs (token ids, output rows): a plan that gathers with
  // something else must not read outside the table.
  const int64_t tableRows = b.rows(d.operands[0]);
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= tableRows)
      llvm::reportFatalUsageError(llvm::Twine("plan '") + b.program.entry +
                                  "': dispatch '" + d.name + "' gathers row " +
                                  llvm::Twine(ids[i]) + " of a table of " +
                                  llvm::Twine(tableRows) + " rows");
  if (table.matrix.data) {
    const WeightView &w = table.matrix;
    for (int64_t i = 0; i < n; ++i)
      gguf::dequantizeRowUnchecked(
          w.type, w.data + static_cast<size_t>(ids[i]) * w.rowBytes,
          out + i * D, D);
    return;
  }
  // Activation rows (ggml get_rows): e.g. the rows that want logits.
  const float *rows = reinterpret_cast<const float *>(table.data);
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * D, rows + static_cast<int64_t>(ids[i]) * D,
                sizeof(float) * D);
}

/// Copies `shape` elements of `bytes` each from src to dst, both strided
/// (strides in elements), one dimension per recursion level.
void stridedCopy(const uint8_t *src, const int64_t *srcStrides, uint8_t *dst,
                 const int64_t *dstStrides, const int64_t *shape, size_t rank,
                 size_t bytes) {
  if (rank == 0) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const int64_t n = shape[0];
  const int64_t s = srcStrides[0] * static_cast<int64_t>(bytes);
  const int64_t t = dstStrides[0] * static_cast<int64_t>(bytes);
  if (rank == 1 && srcStrides[0] == 1 && dstStrides[0] == 1) {
    std::memcpy(dst, src, bytes * n);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    stridedCopy(src + i * s, srcStrides + 1, dst + i * t, dstStrides + 1,
                shape + 1, rank - 1, bytes);
}

void copy(Bindings &b, const Dispatch &d) {
  const int32_t src = d.operands[0], dst = d.results[0];
  const Value &v = b.value(src);
  llvm::SmallVector<int64_t, 8> dims;
  for (int64_t n : v.shape)
    dims.push_back(b.dim(n));
  stridedCopy(b.values[src].data, b.values[src].strides.data(),
              b.values[dst].data, b.values[dst].strides.data(), dims.data(),
              dims.size(), elementBytes(v.type));
}

void deltaNet(Bindings &b, const Dispatch &d, llvm::ArrayRef<SeqGroup> groups,
              ThreadPool *pool) {
  const std::vector<int64_t> &qs = b.value(d.operands[0]).shape;
  const std::vector<int64_t> &ss = b.value(d.operands[5]).shape;
  DeltaNetOperands o;
  o.Hk = qs[1], o.Hv = ss[0], o.dk = ss[1], o.dv = ss[2];
  o.q = b.f32(d.operands[0]), o.k = b.f32(d.operands[1]);
  o.qRow = o.Hk * o.dk, o.qHead = o.dk;
  o.v = b.f32(d.operands[2]), o.vRow = o.Hv * o.dv, o.vHead = o.dv;
  o.g = b.f32(d.operands[3]), o.beta = b.f32(d.operands[4]);
  o.gRow = o.Hv, o.gHead = 1;
  o.out = b.f32(d.results[0]), o.outRow = o.Hv * o.dv, o.outHead = o.dv;
  // The choice qn-select-delta-path made; nothing is re-decided here.
  const DeltaNetParams &p = d.get<DeltaNetParams>();
  DeltaChoice choice;
  choice.impl = p.impl;
  choice.recurrentBelow = p.recurrentBelow;
  o.tiled = p.tiled;
  deltaNetGroups(o, groups, b.value(d.operands[5]).layer, choice, pool);
}

/// The layer in a name like `ffn_moe_out-3` (for the kernel's own dumps).
std::optional<int64_t> layerOf(llvm::StringRef name) {
  size_t dash = name.rfind('-');
  int64_t layer;
  if (dash == llvm::StringRef::npos ||
      name.substr(dash + 1).getAsInteger(10, layer))
    return std::nullopt;
  return layer;
}

} // namespace

void CpuBackend::attention(Bindings &b, const Dispatch &d,
                           llvm::ArrayRef<SeqGroup> groups, ThreadPool *pool,
                           const Dumper &dump) {
  const AttentionParams &p = d.get<AttentionParams>();
  AttentionDims dims;
  dims.nHead = p.numHeads, dims.nHeadKV = p.numKvHeads;
  dims.headDim = p.headDim, dims.ropeDims = p.ropeDims;
  dims.ropeBase = p.ropeBase, dims.eps = p.epsilon;
  dims.ropeSections = p.ropeSections;
  AttentionArgs a;
  a.qAux = b.f32(d.operands[0]);
  a.k = b.f32(d.operands[1]);
  a.v = b.f32(d.operands[2]);
  a.qNorm = floatsOf(b, d.operands[3]);
  a.kNorm = floatsOf(b, d.operands[4]);
  a.pos = b.i32(d.operands[5]);
  a.T = b.rows(d.operands[0]);
  a.out = b.f32(d.results[0]);
  gatedAttention(dims, a, groups, b.value(d.operands[6]).layer, b.kvType,
                 attentionScratch, pool, dump);
}

void CpuBackend::moe(Bindings &b, const Dispatch &d, ThreadPool *pool,
                     const Dumper &dump) {
  MoEWeights w;
  w.router = b.values[d.operands[1]].matrix;
  w.gateExps = b.values[d.operands[2]].matrix;
  w.upExps = b.values[d.operands[3]].matrix;
  w.downExps = b.values[d.operands[4]].matrix;
  const MoEParams &p = d.get<MoEParams>();
  w.hasShared = p.sharedExpert;
  w.activations = p.activations;
  if (w.hasShared) {
    w.gateInpShexp = floatsOf(b, d.operands[5]);
    w.gateShexp = b.values[d.operands[6]].matrix;
    w.upShexp = b.values[d.operands[7]].matrix;
    w.downShexp = b.values[d.operands[8]].matrix;
  }
  // The kernel's inner intermediates carry the layer in their names.
  std::optional<int64_t> layer = layerOf(d.name);
  static const Dumper none;
  moeFFN(w, p.topK, b.f32(d.operands[0]), b.rows(d.operands[0]), moeScratch,
         pool, layer ? dump : none, layer.value_or(0), b.f32(d.results[0]));
}

void CpuBackend::run(Bindings &b, size_t index, llvm::ArrayRef<SeqGroup> groups,
                     ThreadPool *pool, const Dumper &dump) {
  const Dispatch &d = b.program.dispatches[index];
  switch (d.kind) {
  case DispatchKind::Embed:
    embed(b, d);
    return;
  case DispatchKind::RmsNorm: {
    const int32_t x = d.operands[0];
    const int64_t n = b.value(x).shape.back();
    rmsNormRows(b.f32(x), floatsOf(b, d.operands[1]), b.elements(x) / n, n,
                d.get<NormParams>().epsilon, b.f32(d.results[0]));
    return;
  }
  case DispatchKind::L2Norm: {
    const int32_t x = d.operands[0];
    const int64_t n = b.value(x).shape.back();
    const int64_t rows = b.elements(x) / n;
    const float *in = b.f32(x);
    float *out = b.f32(d.results[0]);
    for (int64_t r = 0; r < rows; ++r)
      l2Norm(in + r * n, n, d.get<NormParams>().epsilon, out + r * n);
    return;
  }
  case DispatchKind::Matmul: {
    const int32_t x = d.operands[0];
    const WeightView &w = b.values[d.operands[1]].matrix;
    float *y = b.f32(d.results[0]);
    const bool residual = d.operands.size() == 3;
    if (residual) // the fused residual add: y = r, then y += x W^T
      std::memcpy(y, b.f32(d.operands[2]),
                  sizeof(float) * b.elements(d.results[0]));
    matmul(w, b.f32(x), b.elements(x) / w.cols, y, pool,
           d.get<MatmulParams>().activations, residual);
    return;
  }
  case DispatchKind::Conv1dCausal: {
    const Value &state = b.value(d.operands[2]);
    causalConvGroups(b.f32(d.operands[0]), state.shape[0], state.shape[1] + 1,
                     b.values[d.operands[1]].convKernelT, groups, state.layer,
                     convWindow.data(), b.f32(d.results[0]));
    return;
  }
  case DispatchKind::GatedDeltaNet:
    deltaNet(b, d, groups, pool);
    return;
  case DispatchKind::GatedAttention:
    attention(b, d, groups, pool, dump);
    return;
  case DispatchKind::MoE:
    moe(b, d, pool, dump);
    return;
  case DispatchKind::Copy:
    copy(b, d);
    return;
  case DispatchKind::Elementwise:
    callKernel(b, d);
    return;
  case DispatchKind::Loop:
    for (const SeqGroup &g : groups)
      callKernel(b, d, &g);
    return;
  case DispatchKind::Transfer:
    break; // the executor's (runTransfer)
  }
}

} // namespace qn::runtime::cpu

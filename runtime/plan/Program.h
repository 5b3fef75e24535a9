//===- Program.h - a compiled entry point: values + dispatches ---*- C++
//-*-===//
//
// The contract between the compiler (codegen/PlanBuilder, MLIR side) and
// the runtime's executor (runtime/plan/Executor, no MLIR): one Program per
// entry function of the qn IR (`prefill`, `decode`) after qn-cpu-pipeline.
//
// A Program is data, as IREE's HAL command buffers are: a table of values
// (where each tensor of the entry function lives: an input, a weight in the
// mmap, a per-sequence state, scratch, or a strided view of another value)
// and a list of dispatches in program order. Heavy ops are runtime
// micro-kernels named by `DispatchKind`; elementwise chains are generated
// code (a JIT-compiled function pointer with MLIR's C interface).
//
// Shapes: only a value's outermost dimension may be dynamic, and then it is
// one of the symbolic sizes below, resolved per ubatch by the executor.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_PLAN_PROGRAM_H
#define QN_RUNTIME_PLAN_PROGRAM_H

#include "gguf/GGMLType.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/ops/DeltaNetHead.h"

#include "llvm/ADT/StringRef.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace qn::runtime::plan {

/// Symbolic sizes of a dynamic outermost dimension.
enum : int64_t {
  /// The number of tokens of the ubatch (T).
  kTokens = -1,
  /// The number of tokens that want logits (R <= T).
  kOutputRows = -2,
  /// The KV cache's rows (the context size), only in state values.
  kContextRows = -3,
};

enum class ElementType : uint8_t { F32, F16, I32 };

enum class ValueKind : uint8_t {
  /// `tokens` (i32 [T]): the ubatch's token ids.
  Tokens,
  /// `positions` (i32 [T]): each token's position in its sequence.
  Positions,
  /// `output_rows` (i32 [R]): the rows (0..T-1) whose logits are wanted.
  OutputRows,
  /// A GGUF tensor (`name`), read in place from the mapping.
  Weight,
  /// Per-sequence state of layer `layer` (StateKind), bound per sequence
  /// group of the ubatch. A state result of a stateful op is the same value
  /// as its state operand: the executor updates the state in place.
  State,
  /// Activation memory owned by the executor: scratch slot `slot`.
  Scratch,
  /// A strided view of value `base` (a reshape or slice that needs no copy).
  View,
};

enum class StateKind : uint8_t {
  ConvWindow,
  DeltaMatrix,
  KeyCache,
  ValueCache
};

/// Where a dispatch runs (the IR's `on cpu|cuda`).
enum class Backend : uint8_t { Cpu, Cuda };
constexpr size_t kNumBackends = 2;

/// How a weight's blocks lie in memory (the IR's `weights(format:layout)`):
/// `Rows` is the GGUF file's own layout, read in place.
enum class WeightLayout : uint8_t { Rows };

/// The attention algorithm (the IR's `impl plain|flash`).
enum class AttentionImpl : uint8_t { Plain, Flash };

struct Value {
  /// qn.name of the op that defines it, the weight's tensor name, the state
  /// name (`conv_state-0`), or `tokens`/`positions`/`output_rows`.
  std::string name;
  ValueKind kind = ValueKind::Scratch;
  ElementType type = ElementType::F32;
  /// Row-major logical shape; shape[0] may be kTokens, kOutputRows or
  /// kContextRows.
  std::vector<int64_t> shape;

  // ValueKind::Weight: the block format the compiler planned for (the
  // IR's weight type; the executor checks the GGUF tensor has it) and the
  // layout its kernels read.
  gguf::GGMLType format = gguf::GGMLType::F32;
  WeightLayout layout = WeightLayout::Rows;

  // ValueKind::State.
  StateKind state = StateKind::ConvWindow;
  int64_t layer = -1;

  // ValueKind::Scratch: the slot holding it. Values whose lifetimes do not
  // overlap share a slot (PlanBuilder's liveness); every slot is allocated
  // once per context for the largest ubatch.
  int32_t slot = -1;

  // ValueKind::View: element `offset` of `base` is element 0 of the view;
  // `strides` (in elements, one per dimension of `shape`) step through
  // `base`. Offsets and strides never depend on the dynamic dimension
  // (it is outermost).
  int32_t base = -1;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};

/// The micro-kernel (or generated code) a dispatch runs. Operands and
/// results are value ids, in the order of the qn op they come from.
enum class DispatchKind : uint8_t {
  /// qn.embed: results[0][t] = operands[0][operands[1][t]] (any weight
  /// format, decoded to F32); also gathers activation rows (ggml get_rows).
  Embed,
  /// qn.rms_norm (operands: x, weight; NormParams), over the last
  /// dimension.
  RmsNorm,
  /// qn.l2_norm (operands: x; NormParams), over the last dimension.
  L2Norm,
  /// qn.matmul (operands: x [N x K], weight [M x K] and, with a fused
  /// residual add, r [N x M]) -> [N x M] (x W^T, or r + x W^T).
  Matmul,
  /// qn.conv1d_causal (operands: x, kernel, state; results: y, state).
  Conv1dCausal,
  /// qn.gated_delta_net (operands: q, k, v, g, beta, state; results: out,
  /// state; DeltaNetParams).
  GatedDeltaNet,
  /// qn.gated_attention (operands: q_aux, k, v, q_norm, k_norm, positions,
  /// k_cache, v_cache; results: out, k_cache, v_cache; AttentionParams).
  GatedAttention,
  /// qn.moe (operands: x, router, gate_exps, up_exps, down_exps and, with
  /// MoEParams::sharedExpert, shexp_gate_inp, gate_shexp, up_shexp,
  /// down_shexp; MoEParams).
  MoE,
  /// Materialises a (strided) view: results[0] = contiguous copy of
  /// operands[0]. Also what qn.concat becomes, one Copy per piece into a
  /// View of the concat's result.
  Copy,
  /// Generated code for a fused elementwise chain (KernelParams): one
  /// pointer to a memref descriptor per operand and then one for
  /// results[0].
  Elementwise,
  /// Generated loop kernel of a region of primitive ops (qn.dispatch.loop;
  /// KernelParams): one descriptor per operand, then one per result. It
  /// runs once per sequence group, on the group's rows of token-major
  /// values and the group's slot of each state (a state result is the
  /// state operand, updated in place).
  Loop,
  /// Copies operands[0], in the memory of backend TransferParams::from,
  /// into results[0], in the memory of the dispatch's own backend (the
  /// IR's qn.dispatch.transfer: where placement cut the graph). The only
  /// dispatch whose operand lives on another backend.
  Transfer,
};

/// The parameters of each dispatch kind, named as the IR's dispatch op
/// names its attributes. A kind without parameters holds std::monostate.

/// RmsNorm, L2Norm.
struct NormParams {
  float epsilon = 0;
};

/// GatedDeltaNet: the algorithm qn-select-delta-path chose. With
/// `recurrentBelow` > 0, a ubatch of fewer tokens runs the recurrent form.
struct DeltaNetParams {
  DeltaImpl impl = DeltaImpl::Recurrent;
  int64_t recurrentBelow = 0;
  /// Clamp of every state element after each token; 0: none.
  float stateClamp = 0;
  /// Value head h reads q/k head h mod Hk (head_mapping tile) instead of
  /// h / (Hv/Hk).
  bool tiled = false;
};

/// GatedAttention.
struct AttentionParams {
  AttentionImpl impl = AttentionImpl::Plain;
  int64_t numHeads = 0, numKvHeads = 0, headDim = 0, ropeDims = 0;
  float ropeBase = 0, epsilon = 0;
  /// IMRoPE sections (t, h, w, e); absent: NEOX on every pair.
  std::optional<std::array<int64_t, 4>> ropeSections;
};

/// Matmul: what the weight is multiplied with (the IR's `activations`).
struct MatmulParams {
  MatmulActivations activations = MatmulActivations::F32;
};

/// MoE.
struct MoEParams {
  int64_t topK = 0;
  bool sharedExpert = false;
  /// For every expert and shared-expert matmul (the IR's `activations`).
  MatmulActivations activations = MatmulActivations::F32;
};

/// Elementwise, Loop: `kernel` is the address of `_mlir_ciface_<kernelName>`
/// (filled in after the JIT).
struct KernelParams {
  std::string kernelName;
  void *kernel = nullptr;
};

/// Transfer: the backend the source lives on (the destination is the
/// dispatch's backend).
struct TransferParams {
  Backend from = Backend::Cpu;
};

using DispatchParams =
    std::variant<std::monostate, NormParams, MatmulParams, DeltaNetParams,
                 AttentionParams, MoEParams, KernelParams, TransferParams>;

/// The parameters `kind` carries, default-valued: the one table of which
/// struct goes with which kind (Check compares against it).
inline DispatchParams defaultParams(DispatchKind kind) {
  switch (kind) {
  case DispatchKind::RmsNorm:
  case DispatchKind::L2Norm:
    return NormParams{};
  case DispatchKind::GatedDeltaNet:
    return DeltaNetParams{};
  case DispatchKind::GatedAttention:
    return AttentionParams{};
  case DispatchKind::Matmul:
    return MatmulParams{};
  case DispatchKind::MoE:
    return MoEParams{};
  case DispatchKind::Elementwise:
  case DispatchKind::Loop:
    return KernelParams{};
  case DispatchKind::Transfer:
    return TransferParams{};
  case DispatchKind::Embed:
  case DispatchKind::Conv1dCausal:
  case DispatchKind::Copy:
    break;
  }
  return std::monostate{};
}

struct Dispatch {
  DispatchKind kind = DispatchKind::Copy;
  Backend backend = Backend::Cpu;
  /// qn.name of the op (dumps, errors, profiles).
  std::string name;
  std::vector<int32_t> operands;
  std::vector<int32_t> results;
  /// The alternative of `kind` (Check verifies they agree).
  DispatchParams params;
  /// Runs only for ubatches of tokensFrom <= T < tokensBelow (0: no upper
  /// bound): the two branches of the IR's choice on the token count (an
  /// scf.if on T < N) are two dispatches that write the same values.
  int64_t tokensFrom = 0, tokensBelow = 0;

  bool runsFor(int64_t T) const {
    return T >= tokensFrom && (tokensBelow == 0 || T < tokensBelow);
  }

  template <typename P> const P &get() const { return std::get<P>(params); }
  template <typename P> P &get() { return std::get<P>(params); }
};

/// Row-major strides (in elements) of `shape`; only shape[0] may be
/// symbolic, and it never enters a stride.
inline std::vector<int64_t> rowMajorStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

/// Whether a view with `strides` lays its `shape` out row-major (a size-1
/// dimension may have any stride), so a kernel may read it as a dense
/// array: the one contiguity rule PlanBuilder plans with and the executor
/// checks.
inline bool isRowMajor(const std::vector<int64_t> &shape,
                       const std::vector<int64_t> &strides) {
  const std::vector<int64_t> dense = rowMajorStrides(shape);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1 && strides[d] != dense[d])
      return false;
  return true;
}

/// The names of the enums above, one spelling everywhere: plan listings
/// (`qn-run ir --emit plan`), `qn.dispatch` attributes and the executor's
/// error messages.
inline llvm::StringRef elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::I32:
    return "i32";
  }
  return "?";
}

inline llvm::StringRef stateKindName(StateKind kind) {
  switch (kind) {
  case StateKind::ConvWindow:
    return "conv_window";
  case StateKind::DeltaMatrix:
    return "delta_matrix";
  case StateKind::KeyCache:
    return "key_cache";
  case StateKind::ValueCache:
    return "value_cache";
  }
  return "?";
}

inline llvm::StringRef dispatchKindName(DispatchKind kind) {
  switch (kind) {
  case DispatchKind::Embed:
    return "embed";
  case DispatchKind::RmsNorm:
    return "rms_norm";
  case DispatchKind::L2Norm:
    return "l2_norm";
  case DispatchKind::Matmul:
    return "matmul";
  case DispatchKind::Conv1dCausal:
    return "conv1d_causal";
  case DispatchKind::GatedDeltaNet:
    return "gated_delta_net";
  case DispatchKind::GatedAttention:
    return "gated_attention";
  case DispatchKind::MoE:
    return "moe";
  case DispatchKind::Copy:
    return "copy";
  case DispatchKind::Elementwise:
    return "elementwise";
  case DispatchKind::Loop:
    return "loop";
  case DispatchKind::Transfer:
    return "transfer";
  }
  return "?";
}

inline llvm::StringRef backendName(Backend backend) {
  return backend == Backend::Cpu ? "cpu" : "cuda";
}

inline llvm::StringRef weightLayoutName(WeightLayout) { return "rows"; }

inline llvm::StringRef attentionImplName(AttentionImpl impl) {
  return impl == AttentionImpl::Plain ? "plain" : "flash";
}

/// "T", "R" or "C" for a symbolic size; empty for a static one.
inline llvm::StringRef symbolicSizeName(int64_t size) {
  switch (size) {
  case kTokens:
    return "T";
  case kOutputRows:
    return "R";
  case kContextRows:
    return "C";
  }
  return "";
}

struct Program {
  /// `prefill` or `decode`.
  std::string entry;
  std::vector<Value> values;
  std::vector<Dispatch> dispatches;
  /// Number of scratch slots (Value::slot < numSlots).
  int32_t numSlots = 0;
  /// The value holding the logits ([R x n_vocab], F32).
  int32_t logits = -1;
  /// True when the entry has a static token count of 1 (decode).
  bool singleToken = false;
};

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_PROGRAM_H

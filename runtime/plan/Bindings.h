//===- Bindings.h - a Program bound to a model (executor internals) -*- C++
//-*-===//
//
// Internal to runtime/plan. What Executor::create computes once (where every
// value lives, the weight views and float copies, the scratch memory) and
// the per-ubatch sizes `run` resolves the symbolic dimensions with. The
// steps: bindValues (Bind.cpp) checks and places every value,
// checkDispatches (Check.cpp) checks every dispatch and binds the uses of
// weights, runDispatch (Dispatches.cpp) executes one dispatch.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_PLAN_BINDINGS_H
#define QN_RUNTIME_PLAN_BINDINGS_H

#include "runtime/Dump.h"
#include "runtime/Model.h"
#include "runtime/layers/GatedAttention.h"
#include "runtime/layers/MoE.h"
#include "runtime/layers/Sequence.h"
#include "runtime/plan/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qn::runtime::plan {

/// Arguments (operands + result) of an Elementwise kernel the executor can
/// call.
constexpr size_t kMaxKernelArgs = 16;

/// Where one value lives once bound.
struct Bound {
  /// Element 0. Null for State values (bound per sequence group) and for
  /// weights in a block format until a dispatch reads them as floats.
  uint8_t *data = nullptr;
  /// Memory strides in elements, one per dimension (row-major unless View).
  std::vector<int64_t> strides;
  /// Row-major strides (size-1 dimensions aside): what every operand of a
  /// dispatch other than Copy needs.
  bool contiguous = true;
  /// The value owning the memory (itself unless View) and this value's
  /// element offset in it.
  int32_t root = -1;
  int64_t rootOffset = 0;

  // ValueKind::Weight.
  const gguf::TensorInfo *tensor = nullptr;
  /// Set when a dispatch multiplies or gathers by it.
  WeightView matrix;
  /// Set when a dispatch reads it as F32 elements: the mapping (F32
  /// tensors) or a dequantized copy.
  const float *floats = nullptr;
  /// Set when it is a conv kernel [C x Kc]: transposed to [Kc x C].
  const float *convKernelT = nullptr;
};

struct Bindings {
  Bindings(const Model &model, const Program &program)
      : model(model), program(program) {}

  const Model &model;
  Program program;
  int64_t maxTokens = 0, nCtx = 0;
  KVType kvType = KVType::F16;
  unsigned nThreads = 1;

  std::vector<Bound> values;
  /// Scratch slot memory, allocated once.
  std::vector<std::vector<float>> slots;
  /// Dequantized and transposed weights.
  std::vector<std::vector<float>> owned;
  /// The ubatch's inputs, copied in by run.
  std::vector<int32_t> tokens, positions, outputRows;

  // Scratch of the micro-kernels, sized over all dispatches.
  AttentionScratch attention;
  MoEScratch moe;
  std::vector<float> convWindow;
  /// Memref descriptors and argument pointers of an Elementwise call.
  std::vector<int64_t> descriptors;
  std::vector<void *> kernelArgs;

  /// The current ubatch: rows and output rows.
  int64_t T = 0, R = 0;

  const Value &value(int32_t id) const { return program.values[id]; }
  int64_t dim(int64_t d) const {
    return d == kTokens ? T : d == kOutputRows ? R : d;
  }
  /// Dimension 0 of `id` for this ubatch (1 for a scalar).
  int64_t rows(int32_t id) const {
    const Value &v = value(id);
    return v.shape.empty() ? 1 : dim(v.shape[0]);
  }
  /// Elements of `id` for this ubatch.
  int64_t elements(int32_t id) const {
    int64_t n = 1;
    for (int64_t d : value(id).shape)
      n *= dim(d);
    return n;
  }
  float *f32(int32_t id) const {
    return reinterpret_cast<float *>(values[id].data);
  }
  const int32_t *i32(int32_t id) const {
    return reinterpret_cast<const int32_t *>(values[id].data);
  }

  // Messages: "plan 'prefill': value #12 'q_conv-0': ...".
  llvm::Error valueError(int32_t id, const llvm::Twine &what) const;
  llvm::Error dispatchError(size_t index, const llvm::Twine &what) const;
};

/// Bytes of one element of `type`.
size_t elementBytes(ElementType type);
/// "[T, 2, 64]"-style shape for messages.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// Checks and places every value: inputs, weights (by GGUF name), states
/// (against the hyper-parameters), scratch slots (allocated), views.
llvm::Error bindValues(Bindings &b);

/// Checks every dispatch (arity, kinds, shapes, types, aliasing) and binds
/// what it needs: weight views and float copies, micro-kernel scratch.
llvm::Error checkDispatches(Bindings &b);

/// Executes dispatch `index` over the current ubatch.
void runDispatch(Bindings &b, size_t index, llvm::ArrayRef<SeqGroup> groups,
                 ThreadPool *pool, const Dumper &dump);

/// Calls the generated kernel of Elementwise dispatch `d`.
void runElementwise(Bindings &b, const Dispatch &d);
/// Calls the generated kernel of Loop dispatch `d` once per group.
void runLoop(Bindings &b, const Dispatch &d, llvm::ArrayRef<SeqGroup> groups);

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_BINDINGS_H

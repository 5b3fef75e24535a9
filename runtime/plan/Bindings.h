//===- Bindings.h - a Program bound to a model (executor internals) -*- C++
//-*-===//
//
// Internal to the executor and its backends. What Executor::create computes
// once (which backend's memory every value lives in, where it is, the
// weights bound for their uses) and the per-ubatch sizes `run` resolves
// the symbolic dimensions with. The steps: assignResidence (Residence.cpp)
// decides the memory of every value and checks each dispatch reads its
// own backend's, bindValues (Bind.cpp) checks and places every value with
// scratch from its backend, checkDispatches (Check.cpp) checks every
// dispatch's contract and has its backend bind the weights it reads and
// reserve its scratch; each backend then runs the dispatches on it.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_PLAN_BINDINGS_H
#define QN_RUNTIME_PLAN_BINDINGS_H

#include "runtime/Model.h"
#include "runtime/kernels/Matmul.h"
#include "runtime/ops/Attention.h"
#include "runtime/plan/Backend.h"
#include "runtime/plan/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace qn::runtime::plan {

/// Arguments (operands + results) of a generated kernel a backend can
/// call.
constexpr size_t kMaxKernelArgs = 16;

/// Where one value lives once bound.
struct Bound {
  /// Element 0, in the memory of `home`. Null for State values (bound per
  /// sequence group) and for weights in a block format until a dispatch
  /// reads them as floats.
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

  /// The backend whose memory holds it (Residence.cpp). Weights are bound
  /// by every backend that reads them.
  Backend home = Backend::Cpu;

  // ValueKind::Weight. `matrix`, `floats` and `convKernelT` are what the
  // CPU backend bound (host memory); another backend keeps its own.
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

  /// The backend of each plan::Backend, null where the executor has none.
  std::array<DispatchBackend *, kNumBackends> backends{};

  std::vector<Bound> values;
  /// Per scratch slot: the backend whose memory holds it and that memory
  /// (owned by the backend), allocated once for the largest ubatch.
  std::vector<Backend> slotHome;
  std::vector<uint8_t *> slotData;
  /// The ubatch's inputs (host memory), copied in by run.
  std::vector<int32_t> tokens, positions, outputRows;

  /// The current ubatch: rows and output rows.
  int64_t T = 0, R = 0;

  const Value &value(int32_t id) const { return program.values[id]; }
  DispatchBackend &backendOf(const Dispatch &d) const {
    return *backends[static_cast<size_t>(d.backend)];
  }
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

/// Decides which backend's memory each value lives in (Bound::home,
/// slotHome) and checks that every dispatch runs on a backend the executor
/// has and reads and writes only its own backend's memory (a Transfer's
/// source excepted).
llvm::Error assignResidence(Bindings &b);

/// Checks and places every value: inputs, weights (by GGUF name), states
/// (against the hyper-parameters), scratch slots (allocated by their
/// home backend), views.
llvm::Error bindValues(Bindings &b);

/// Checks every dispatch's contract (arity, kinds, shapes, types,
/// aliasing); its backend binds the weights it reads and reserves its
/// scratch.
llvm::Error checkDispatches(Bindings &b);

/// Runs Transfer dispatch `index`: the non-CPU side copies.
void runTransfer(Bindings &b, size_t index);

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_BINDINGS_H

//===- Backend.h - what the executor asks of a backend -----------*- C++
//-*-===//
//
// The executor (Executor.h) is backend-neutral: it checks each dispatch's
// contract (Check.cpp), places every value (Bind.cpp, Residence.cpp) and
// runs the dispatches in order; everything that depends on where a
// dispatch runs goes through this interface, one implementation per
// `plan::Backend` (runtime/cpu/CpuBackend.h now; a CUDA one later). As in
// IREE's HAL, the four things a backend does are: allocate its memory,
// bind weights in the layout its kernels read, run a dispatch, and copy
// across a transfer.
//
// Call order, all from Executor::create except `run` and `transfer`:
// allocate (once per scratch slot that lives on the backend), bindWeight
// (once per weight use of a dispatch, during the contract check), reserve
// (once per dispatch on the backend other than a Transfer, after its
// check), finishReserving
// (once), then run/transfer per ubatch.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_PLAN_BACKEND_H
#define QN_RUNTIME_PLAN_BACKEND_H

#include "runtime/Dump.h"
#include "runtime/layers/Sequence.h"
#include "runtime/plan/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>

namespace qn::runtime {
class ThreadPool;
} // namespace qn::runtime

namespace qn::runtime::plan {

struct Bindings;

/// How a dispatch reads a weight operand.
enum class WeightUse : uint8_t {
  /// Multiplied or gathered by rows in its block format (matmul, embed,
  /// MoE).
  Matrix,
  /// Read as F32 elements (norm weights, elementwise operands).
  Floats,
  /// A causal conv kernel [C x Kc].
  ConvKernel,
};

class DispatchBackend {
public:
  virtual ~DispatchBackend();

  /// The `plan::Backend` whose dispatches this runs.
  virtual Backend kind() const = 0;

  /// `bytes` (> 0) of zeroed memory for scratch, owned by the backend
  /// until it is destroyed.
  virtual llvm::Expected<uint8_t *> allocate(size_t bytes) = 0;

  /// Makes weight `id` readable by this backend's kernels as `use`, in the
  /// layout the program planned (Value::layout). Idempotent. The error
  /// says why the weight cannot be read that way; the caller names the
  /// dispatch and operand.
  virtual llvm::Error bindWeight(Bindings &b, int32_t id, WeightUse use) = 0;

  /// Dispatch `index` (on this backend) passed the contract check:
  /// refuses what the backend has no kernel for and notes the scratch its
  /// kernel needs.
  virtual llvm::Error reserve(const Bindings &b, size_t index) = 0;

  /// Allocates what `reserve` noted, for ubatches of b.maxTokens rows.
  virtual llvm::Error finishReserving(const Bindings &b) = 0;

  /// Runs dispatch `index` over the current ubatch (b.T rows).
  virtual void run(Bindings &b, size_t index, llvm::ArrayRef<SeqGroup> groups,
                   ThreadPool *pool, const Dumper &dump) = 0;

  /// Copies `bytes` from `src` (in backend `srcOn`'s memory) to `dst` (in
  /// `dstOn`'s); one of the two is this backend, the other the CPU. The
  /// executor calls the non-CPU side's.
  virtual void transfer(uint8_t *dst, Backend dstOn, const uint8_t *src,
                        Backend srcOn, size_t bytes) = 0;
};

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_BACKEND_H

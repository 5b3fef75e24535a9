//===- Executor.h - runs a compiled Program on its backends -----*- C++ -*-===//
//
// The compiled engine: executes a plan (Program.h, built by
// codegen/PlanBuilder from the dispatch IR) dispatch by dispatch, each on
// the backend the compiler placed it on (Backend.h: the CPU backend,
// runtime/cpu, is the one there is today). The executor itself is
// backend-neutral. `create` validates the program against the model once
// and binds it: which backend's memory each value lives in (a dispatch
// reads only its own backend's, a Transfer excepted), weights by GGUF
// tensor name (shape and storage checked) and bound by the backends that
// read them, states by kind and layer (checked against the
// hyper-parameters and the KV type), scratch slots allocated by their
// backend for the largest ubatch, views resolved to pointers. A bad
// program is an llvm::Error naming the dispatch or value, never a crash.
// `run` then executes the dispatches in order over one ubatch and allocates
// nothing.
//
// Stateless dispatches run once over all rows of the ubatch (a decode step
// for N sequences reads each weight once); Conv1dCausal, GatedDeltaNet and
// GatedAttention run per sequence group with that group's SequenceSlot
// state. They share their code with the direct engine (runtime/layers/).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_PLAN_EXECUTOR_H
#define QN_RUNTIME_PLAN_EXECUTOR_H

#include "runtime/Dump.h"
#include "runtime/layers/Sequence.h"
#include "runtime/ops/Attention.h"
#include "runtime/plan/Backend.h"
#include "runtime/plan/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace qn::runtime {
class Model;
class ThreadPool;
} // namespace qn::runtime

namespace qn::runtime::plan {

struct Bindings;

/// The backends an executor runs on, at most one per plan::Backend. The
/// CPU one is always there: the run's inputs, the states and the logits
/// live in host memory.
using Backends = std::vector<std::unique_ptr<DispatchBackend>>;

class Executor {
public:
  /// Validates `program` against `model` and binds it for ubatches of at
  /// most `maxTokens` rows, KV caches of `kvType` with `nCtx` rows, and
  /// pools of at most `nThreads` threads (attention scratch is per thread;
  /// a larger pool runs attention on the calling thread), on the CPU
  /// backend alone. The program is copied; its kernel addresses must stay
  /// valid while the executor lives.
  static llvm::Expected<std::unique_ptr<Executor>>
  create(const Model &model, const Program &program, int64_t maxTokens,
         KVType kvType, int64_t nCtx, unsigned nThreads = 1);
  /// The same on `backends` (which must include a CPU one); a dispatch on
  /// a backend that is not among them is an error naming it.
  static llvm::Expected<std::unique_ptr<Executor>>
  create(const Model &model, const Program &program, int64_t maxTokens,
         KVType kvType, int64_t nCtx, unsigned nThreads, Backends backends);
  ~Executor();

  /// Runs one ubatch of T = tokens.size() rows (1 <= T <= maxTokens; T = 1
  /// for a single-token program). `positions[t]` is row t's position,
  /// `groups` cut the rows into sequences (consecutive rows, positions
  /// increasing, as Context builds them), `outputRows` (increasing, < T)
  /// are the rows whose logits are wanted: their R rows of n_vocab floats
  /// are written to `logits`. With `dump` enabled, each dispatch's first
  /// result is written under the dispatch's name (a piece of a larger value,
  /// e.g. of a concat, writes that whole value under its name).
  void run(llvm::ArrayRef<int32_t> tokens, llvm::ArrayRef<int32_t> positions,
           llvm::ArrayRef<SeqGroup> groups, llvm::ArrayRef<int32_t> outputRows,
           float *logits, ThreadPool *pool, const Dumper &dump);

  const Program &program() const;
  int64_t maxTokens() const;

private:
  Executor(Backends backends, std::unique_ptr<Bindings> b);
  /// Destroyed after `b`, which points into them.
  Backends backends;
  std::unique_ptr<Bindings> b;
};

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_EXECUTOR_H

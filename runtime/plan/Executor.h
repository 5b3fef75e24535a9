//===- Executor.h - runs a compiled Program on the CPU ----------*- C++ -*-===//
//
// The compiled engine: executes a plan (Program.h, built by
// codegen/PlanBuilder from the qn IR) with the runtime's micro-kernels.
// `create` validates the program against the model once and binds it:
// weights by GGUF tensor name (shape and storage checked), states by kind and
// layer (checked against the hyper-parameters and the KV type), scratch
// slots allocated for the largest ubatch, views resolved to pointers. A bad
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
#include "runtime/plan/Program.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>

namespace qn::runtime {
class Model;
class ThreadPool;
} // namespace qn::runtime

namespace qn::runtime::plan {

struct Bindings;

class Executor {
public:
  /// Validates `program` against `model` and binds it for ubatches of at
  /// most `maxTokens` rows, KV caches of `kvType` with `nCtx` rows, and
  /// pools of at most `nThreads` threads (attention scratch is per thread;
  /// a larger pool runs attention on the calling thread). The program is
  /// copied; its kernel addresses must stay valid while the executor lives.
  static llvm::Expected<std::unique_ptr<Executor>>
  create(const Model &model, const Program &program, int64_t maxTokens,
         KVType kvType, int64_t nCtx, unsigned nThreads = 1);
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
  explicit Executor(std::unique_ptr<Bindings> b);
  std::unique_ptr<Bindings> b;
};

} // namespace qn::runtime::plan

#endif // QN_RUNTIME_PLAN_EXECUTOR_H

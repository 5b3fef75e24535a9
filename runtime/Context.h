//===- Context.h - evaluation context: state slots + batches ----*- C++ -*-===//
//
// A Context runs a Model over batches of tokens belonging to one or more
// sequences. Each sequence id owns a slot: the recurrent state of every
// linear layer (conv window + delta matrix, F32) and the KV cache of every
// full-attention layer (F16 by default, F32 selectable). A sequence is
// append-only: its tokens must come with positions length, length+1, ...;
// a token at position 0 starts the sequence afresh (the peer's rule).
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_CONTEXT_H
#define QN_RUNTIME_CONTEXT_H

#include "runtime/Model.h"
#include "runtime/ops/Attention.h"
#include "runtime/ops/DeltaNetHead.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace qn::runtime {

class ThreadPool;
struct SeqGroup;
struct SequenceSlot;
struct Workspace;
namespace plan {
struct Program;
class Executor;
} // namespace plan

struct ContextParams {
  /// Positions per sequence (KV cache rows).
  int64_t nCtx = 4096;
  /// Sequence slots; sequence ids are 0..nSeqMax-1.
  int64_t nSeqMax = 1;
  /// Tokens evaluated together (a batch is cut into ubatches of this size).
  int64_t nUBatch = 512;
  KVType kvType = KVType::F16;
  /// Threads for the kernels; not owned; null runs single-threaded.
  ThreadPool *pool = nullptr;
  /// Non-empty: write named intermediates there (see Dump.h).
  std::string dumpDir;
  /// Delta-rule algorithm per ubatch (docs/delta-path.md).
  DeltaMode deltaMode = DeltaMode::Auto;
  /// Compiled plans (runtime/plan/Program.h; not owned, must outlive the
  /// context). When set, ubatches run the plan instead of the hand-written
  /// layer loop: `decodeProgram` a ubatch of one token that wants logits,
  /// `prefillProgram` every other one (or every one, without a decode plan).
  const plan::Program *prefillProgram = nullptr, *decodeProgram = nullptr;
};

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;
  int32_t seq = 0;
  bool wantLogits = false;
};

class Context {
public:
  static llvm::Expected<std::unique_ptr<Context>>
  create(const Model &model, const ContextParams &params);
  ~Context();

  /// Evaluates `batch` (validated whole before any state changes). Logits
  /// of the tokens with wantLogits are available afterwards, in batch order,
  /// until the next decode.
  llvm::Error decode(llvm::ArrayRef<BatchToken> batch);

  int64_t numOutputs() const { return nOutputs; }
  /// Row i (< numOutputs) of the last decode's logits: nVocab floats.
  const float *outputLogits(int64_t i) const;
  int64_t nVocab() const;
  const ContextParams &params() const { return cparams; }

  /// Positions evaluated so far in `seq`.
  int64_t seqLength(int32_t seq) const;
  /// Claims a sequence id nobody uses yet (no decode, copy or load has
  /// touched it since creation or seqRemove) and returns it, fresh.
  llvm::Expected<int32_t> seqAdd();
  /// Forgets `seq` and gives its id back to seqAdd.
  void seqRemove(int32_t seq);
  /// Forgets everything of `seq` (it stays claimed).
  void seqReset(int32_t seq);
  /// Makes `dst` an exact copy of `src` (state and cache).
  llvm::Error seqCopy(int32_t src, int32_t dst);

  /// Writes the whole state of `seq` (recurrent + KV rows in use) to `path`.
  llvm::Error saveSequence(int32_t seq, llvm::StringRef path) const;
  /// Replaces the state of `seq` by one saved with saveSequence from the
  /// same model with the same KV type; fails without changing `seq` if the
  /// file does not fit.
  llvm::Error loadSequence(int32_t seq, llvm::StringRef path);

private:
  Context(const Model &model, const ContextParams &params);
  llvm::Error validate(llvm::ArrayRef<BatchToken> batch) const;
  llvm::Error checkSeq(int32_t seq) const;
  /// Runs one ubatch through the model: row t is batch[idx[t]]; `groups`
  /// cut the rows into sequences (consecutive rows, position order).
  void forward(llvm::ArrayRef<BatchToken> batch, llvm::ArrayRef<int64_t> idx,
               llvm::ArrayRef<SeqGroup> groups);
  /// forward() through a compiled plan.
  void forwardPlan(plan::Executor &exec, llvm::ArrayRef<BatchToken> batch,
                   llvm::ArrayRef<int64_t> idx,
                   llvm::ArrayRef<SeqGroup> groups);

  const Model &model;
  ContextParams cparams;
  std::vector<SequenceSlot> slots;
  std::vector<bool> inUse; // per slot: claimed by seqAdd or written to
  std::unique_ptr<Workspace> ws;
  std::vector<float> hidden, normed, mixed;
  std::vector<float> logits, groupLogits;
  std::vector<int64_t> outputRow; // batch index -> output row or -1
  int64_t nOutputs = 0;
  std::vector<int32_t> groupTokens, groupPos, planRows;
  std::unique_ptr<plan::Executor> prefillPlan, decodePlan;
  /// The first failed write of a dump (--dump-dir), reported by decode.
  std::string dumpError;
};

} // namespace qn::runtime

#endif // QN_RUNTIME_CONTEXT_H

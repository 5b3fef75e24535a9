//===- Sequence.h - per-sequence state and a ubatch's groups ----*- C++ -*-===//
//
// Internal to the runtime. What both engines (the direct layer loop of
// Context and the plan Executor) need to know about the sequences of a
// ubatch: each sequence's carried state, and which activation rows belong
// to it.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_LAYERS_SEQUENCE_H
#define QN_RUNTIME_LAYERS_SEQUENCE_H

#include <cstdint>
#include <vector>

namespace qn::runtime {

/// The carried state of one sequence slot (spec §5).
struct SequenceSlot {
  /// Positions 0..length-1 have been evaluated.
  int64_t length = 0;
  /// Per layer (empty for full-attention layers): conv window ggml
  /// {Kc-1, Cc} and delta state Hv x [dk x dv], both F32.
  std::vector<std::vector<float>> conv, delta;
  /// Per layer (empty for linear layers): nCtx rows of Hkv*Dh cache
  /// elements for K (roped, normed) and V.
  std::vector<std::vector<uint8_t>> keys, values;

  /// Clears the recurrent state and forgets every position.
  void reset();
};

/// The tokens of one sequence inside a ubatch: activation rows
/// [begin, begin + count), in position order. A ubatch holds at most one
/// group per sequence.
struct SeqGroup {
  SequenceSlot *slot = nullptr;
  int64_t begin = 0;
  int64_t count = 0;
};

} // namespace qn::runtime

#endif // QN_RUNTIME_LAYERS_SEQUENCE_H

//===- Dump.h - named intermediates for diffing against the peer -*- C++
//-*-===//
//
// With a dump directory set, the executor writes each named intermediate
// (the peer's names: `attn_norm-3`, `linear_attn_out-0`, ...) as raw F32
// `<dir>/<name>.f32`, row-major [tokens x features] like the peer's ggml
// {features, tokens} tensors, so `qn-run diff-dump` can compare a run with
// ../shared/fixtures/intermediates. Later ubatches overwrite earlier ones:
// dump with the whole prompt in one ubatch.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_DUMP_H
#define QN_RUNTIME_DUMP_H

#include "llvm/ADT/Twine.h"

#include <cstdint>
#include <string>

namespace qn::runtime {

class Dumper {
public:
  Dumper() = default;
  /// The first write that fails (a full disk, an unwritable directory) is
  /// recorded in `*firstError` when given, for the caller to report: a run
  /// whose dump is incomplete must not end as a success.
  explicit Dumper(std::string dir, std::string *firstError = nullptr)
      : dir(std::move(dir)), firstError(firstError) {}

  bool enabled() const { return !dir.empty(); }

  /// Writes n contiguous floats as `name`.
  void operator()(const llvm::Twine &name, const float *data, int64_t n) const;

  /// Writes `rows` rows of `cols` floats taken every `stride` floats.
  void strided(const llvm::Twine &name, const float *data, int64_t rows,
               int64_t cols, int64_t stride) const;

private:
  std::string dir;
  std::string *firstError = nullptr;
};

} // namespace qn::runtime

#endif // QN_RUNTIME_DUMP_H

//===- RunCommon.cpp - helpers shared by qn-run subcommands --------------===//

#include "RunCommon.h"

#include "gguf/InputFile.h"
#include "runtime/ThreadPool.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <limits>

using namespace llvm;

namespace qn::run {

Expected<std::vector<int32_t>> parseTokenList(StringRef text) {
  std::vector<int32_t> ids;
  SmallVector<StringRef, 64> words;
  SplitString(text, words, " \t\r\n,");
  for (StringRef w : words) {
    uint64_t v;
    if (w.getAsInteger(10, v) ||
        v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
      return createStringError(inconvertibleErrorCode(),
                               "bad token id '%s' (expected a non-negative "
                               "integer)",
                               w.str().c_str());
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

Expected<std::vector<int32_t>> readTokenFile(StringRef path) {
  auto buf = qn::getInputFile(path, /*IsText=*/true);
  if (!buf)
    return createStringError(buf.getError(), "cannot read token file '%s': %s",
                             path.str().c_str(),
                             buf.getError().message().c_str());
  auto ids = parseTokenList((*buf)->getBuffer());
  if (!ids)
    return createStringError(inconvertibleErrorCode(), "%s: %s",
                             path.str().c_str(),
                             toString(ids.takeError()).c_str());
  return ids;
}

Expected<runtime::KVType> parseKVType(StringRef name) {
  if (name.equals_insensitive("f16"))
    return runtime::KVType::F16;
  if (name.equals_insensitive("f32"))
    return runtime::KVType::F32;
  return createStringError(inconvertibleErrorCode(),
                           "unknown KV cache type '%s' (use f16 or f32)",
                           name.str().c_str());
}

FlagDomain threadsDomain(cl::opt<unsigned> &threads) {
  return {threads, 0, runtime::ThreadPool::kMaxThreads};
}

Expected<int64_t> addPositions(StringRef whatA, int64_t a, StringRef whatB,
                               int64_t b) {
  // Both parts are >= 0 here (their own range checks come first), so the
  // comparison cannot overflow.
  if (a <= kMaxPositions && b <= kMaxPositions - a)
    return a + b;
  return createStringError(
      formatv("{0} ({1}) plus {2} ({3}) is more than the {4} positions a "
              "context can hold",
              whatA, a, whatB, b, kMaxPositions)
          .str());
}

int fail(StringRef cmd, Error err) {
  return fail(cmd, toString(std::move(err)));
}

int fail(StringRef cmd, const Twine &message) {
  errs() << "qn-run " << cmd << ": " << message << "\n";
  return 1;
}

} // namespace qn::run

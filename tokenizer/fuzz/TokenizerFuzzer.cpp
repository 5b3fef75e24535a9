//===- TokenizerFuzzer.cpp - libFuzzer entry for encode/decode ------------===//
//
// Feeds arbitrary bytes through the Qwen3 vocabulary of the shared fixtures:
// encode (with and without special-token parsing) must give valid ids that
// decode, at once and token by token, to exactly the input. A crash, a
// sanitizer report or a trap is a bug. Build with clang:
// -DQN_ENABLE_FUZZER=ON; QN_SHARED_DIR points at ../shared.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/Tokenizer.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace qn::tokenizer;

static const Tokenizer &vocabulary() {
  static std::unique_ptr<Tokenizer> tok = [] {
    const char *shared = std::getenv("QN_SHARED_DIR");
    std::string path = std::string(shared ? shared : QN_DEFAULT_SHARED_DIR) +
                       "/fixtures/tokenizer/vocab-qwen3.gguf";
    llvm::Expected<std::unique_ptr<Tokenizer>> t = Tokenizer::fromFile(path);
    if (!t) {
      llvm::errs() << "qn-tokenizer-fuzzer: " << llvm::toString(t.takeError())
                   << "\n";
      std::abort();
    }
    return std::move(*t);
  }();
  return *tok;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const Tokenizer &tok = vocabulary();
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  for (bool parseSpecial : {true, false}) {
    std::vector<TokenId> ids = tok.encode(text, parseSpecial);
    for (TokenId id : ids)
      if (!tok.isValid(id))
        __builtin_trap();
    if (tok.decode(ids) != text)
      __builtin_trap();
    StreamingDecoder stream(tok);
    std::string streamed;
    for (TokenId id : ids)
      streamed += stream.push(id);
    if (streamed + stream.finish() != text)
      __builtin_trap();
  }
  return 0;
}

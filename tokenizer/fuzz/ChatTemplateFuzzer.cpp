//===- ChatTemplateFuzzer.cpp - libFuzzer entry for chat templates --------===//
//
// Arbitrary bytes as a chat template (they come from model files): parsing
// and rendering a short conversation must end in output or an llvm::Error,
// never a crash, a sanitizer report or a hang. Build with clang:
// -DQN_ENABLE_FUZZER=ON.
//
//===----------------------------------------------------------------------===//
#include "tokenizer/ChatTemplate.h"

using namespace qn::tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef source(reinterpret_cast<const char *>(data), size);
  llvm::Expected<ChatTemplate> t = ChatTemplate::parse(source);
  if (!t) {
    llvm::consumeError(t.takeError());
    return 0;
  }
  t->setStepLimit(200'000); // keep each run short
  std::vector<ChatMessage> chat = {{"system", "s"},
                                   {"user", "u<think>x</think>"},
                                   {"assistant", "<think>r</think>\n\na"},
                                   {"user", "v"}};
  ChatOptions options;
  options.enableThinking = size % 2 == 0;
  llvm::Expected<std::string> out = t->apply(chat, options, "<s>", "</s>");
  if (!out)
    llvm::consumeError(out.takeError());
  return 0;
}

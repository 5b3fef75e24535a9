//===- ChatFormat.cpp - the built-in Qwen chat template -------------------===//
#include "tokenizer/ChatFormat.h"

#include "llvm/ADT/StringRef.h"

using namespace qn::tokenizer;
using llvm::StringRef;

namespace {
StringRef stripNewlines(StringRef s) { return s.trim('\n'); }

/// Splits an assistant message into its reasoning and its answer, as the
/// template does: reasoning = between <think> and the first </think>,
/// answer = after the last </think>.
void splitReasoning(StringRef content, std::string &reasoning,
                    std::string &answer) {
  size_t close = content.find("</think>");
  if (close == StringRef::npos) {
    reasoning.clear();
    answer = content.str();
    return;
  }
  StringRef before = content.take_front(close).rtrim('\n');
  size_t open = before.rfind("<think>");
  if (open != StringRef::npos)
    before = before.drop_front(open + StringRef("<think>").size());
  reasoning = before.ltrim('\n').str();
  size_t lastClose = content.rfind("</think>");
  answer = content.drop_front(lastClose + StringRef("</think>").size())
               .ltrim('\n')
               .str();
}
} // namespace

std::string qn::tokenizer::formatQwenChat(llvm::ArrayRef<ChatMessage> messages,
                                          const ChatOptions &options) {
  // Reasoning is kept only for assistant turns after the last user turn
  // (with no user turn: for none, as the template's default index is the
  // last message).
  size_t lastQuery = messages.empty() ? 0 : messages.size() - 1;
  for (size_t i = messages.size(); i > 0; --i) {
    const ChatMessage &m = messages[i - 1];
    if (m.role == "user") {
      lastQuery = i - 1;
      break;
    }
  }

  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage &m = messages[i];
    if (m.role == "assistant") {
      std::string reasoning, answer;
      splitReasoning(m.content, reasoning, answer);
      bool afterLastQuery = i > lastQuery;
      bool isLast = i + 1 == messages.size();
      out += "<|im_start|>assistant\n";
      if (afterLastQuery && (isLast || !reasoning.empty())) {
        out += "<think>\n";
        out += stripNewlines(reasoning);
        out += "\n</think>\n\n";
        out += StringRef(answer).ltrim('\n');
      } else {
        out += answer;
      }
      out += "<|im_end|>\n";
      continue;
    }
    StringRef role = m.role == "system" ? "system" : "user";
    out += "<|im_start|>";
    out += role;
    out += "\n";
    out += m.content;
    out += "<|im_end|>\n";
  }
  if (options.addGenerationPrompt) {
    out += "<|im_start|>assistant\n";
    if (options.enableThinking == false)
      out += "<think>\n\n</think>\n\n";
  }
  return out;
}

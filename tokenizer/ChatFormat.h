//===- ChatFormat.h - the built-in Qwen chat template -----------*- C++ -*-===//
//
// Chat models expect their conversation laid out in the format they were
// trained on. For Qwen (ChatML with <think> blocks) that is
//
//   <|im_start|>system\n{system}<|im_end|>\n
//   <|im_start|>user\n{question}<|im_end|>\n
//   <|im_start|>assistant\n{answer}<|im_end|>\n
//   ...
//   <|im_start|>assistant\n                      <- the generation prompt
//
// This is what Qwen3's `tokenizer.chat_template` renders for messages
// without tools, written in C++ for GGUFs that carry no template. Like that
// template, it drops the <think>...</think> reasoning of assistant turns
// before the last user message, and with thinking disabled it appends an
// empty <think> block so the model answers directly.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_CHATFORMAT_H
#define QN_TOKENIZER_CHATFORMAT_H

#include "llvm/ADT/ArrayRef.h"

#include <optional>
#include <string>

namespace qn::tokenizer {

struct ChatMessage {
  std::string role; ///< "system", "user", "assistant" (others: as "user")
  std::string content;
};

struct ChatOptions {
  /// End with `<|im_start|>assistant\n` so the model writes the answer.
  bool addGenerationPrompt = true;
  /// false: append `<think>\n\n</think>\n\n` after the generation prompt
  /// (Qwen3's enable_thinking=false); true / unset: let the model think.
  std::optional<bool> enableThinking;
};

/// The conversation as Qwen's chat template lays it out (special tokens as
/// text: tokenize with special-token parsing on).
std::string formatQwenChat(llvm::ArrayRef<ChatMessage> messages,
                           const ChatOptions &options = {});

} // namespace qn::tokenizer

#endif // QN_TOKENIZER_CHATFORMAT_H

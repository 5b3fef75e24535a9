//===- ChatTemplate.h - the Jinja subset of chat templates ------*- C++ -*-===//
//
// GGUFs carry their model's chat template (`tokenizer.chat_template`), a
// Jinja2 program over `messages`, `add_generation_prompt` and friends, as
// HF's apply_chat_template runs it (trim_blocks and lstrip_blocks on). This
// interprets the subset chat templates use:
//   {{ expr }}, {% if/elif/else %}, {% for x in xs %} and {% for k, v in
//   m | items %} (loop.index0, index, first, last, length, ...),
//   {% set x = ... %} / {% set ns.attr = ... %},
//   {# comments #}, whitespace control with '-';
//   literals (strings, numbers, true/false/none, lists, dicts), attribute
//   and subscript access, slices ([::-1]), + - * / % ~, comparisons, in,
//   and/or/not, `x if c else y`, tests (defined, none, string, number,
//   mapping, iterable, true, false), filters (length, tojson, trim, upper,
//   lower, string, join, first, last, default, items), string methods (strip,
//   lstrip, rstrip, split, startswith, endswith, upper, lower, replace),
//   namespace(...), raise_exception(...).
// Anything else is a parse error naming the line, so an unsupported
// template is reported, never rendered wrongly in silence.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_CHATTEMPLATE_H
#define QN_TOKENIZER_CHATTEMPLATE_H

#include "tokenizer/ChatFormat.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace qn::gguf {
class GGUFFile;
} // namespace qn::gguf

namespace qn::tokenizer {

class Tokenizer;

namespace jinja {
struct Node;
} // namespace jinja

class ChatTemplate {
public:
  static llvm::Expected<ChatTemplate> parse(llvm::StringRef source);

  /// Renders `messages` (each a {role, content} mapping). `enable_thinking`
  /// is defined only when options.enableThinking is set; `bos_token` and
  /// `eos_token` are the given texts; `tools` is undefined.
  llvm::Expected<std::string> apply(llvm::ArrayRef<ChatMessage> messages,
                                    const ChatOptions &options,
                                    llvm::StringRef bosToken = "",
                                    llvm::StringRef eosToken = "") const;

  /// Rendering stops with an error after this many evaluation steps (a
  /// template from a file must not hang the caller). The default is far
  /// above what a chat of thousands of messages needs.
  void setStepLimit(uint64_t steps) { stepLimit = steps; }

  ChatTemplate(ChatTemplate &&) noexcept;
  ChatTemplate &operator=(ChatTemplate &&) noexcept;
  ~ChatTemplate();

private:
  ChatTemplate();
  std::unique_ptr<jinja::Node> root;
  uint64_t stepLimit = 20'000'000;
};

/// The prompt text for `messages`: the model's `tokenizer.chat_template`
/// if the file has one (bos_token/eos_token from `tok`, when given), else
/// the built-in Qwen format (formatQwenChat). A template that does not
/// parse or render is an error naming the file.
llvm::Expected<std::string>
applyModelChatTemplate(const gguf::GGUFFile &file, const Tokenizer *tok,
                       llvm::ArrayRef<ChatMessage> messages,
                       const ChatOptions &options);

} // namespace qn::tokenizer

#endif // QN_TOKENIZER_CHATTEMPLATE_H

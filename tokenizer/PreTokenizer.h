//===- PreTokenizer.h - regex-equivalent text splitting ---------*- C++ -*-===//
//
// Byte-level BPE never merges across the boundaries of the pieces a
// pre-tokenizer regex cuts the text into. Qwen2/Qwen3 vocabularies
// (`tokenizer.ggml.pre = qwen2`) use
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// matched repeatedly from the start of the text. Qwen3.5/3.6 files
// (`qwen35`) use the same regex with combining marks \p{M} moved from the
// symbol runs into words:
//
//   ...|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|...| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|...
//
// Both are implemented by hand over code points: no regex engine, linear
// time.
//
//===----------------------------------------------------------------------===//
#ifndef QN_TOKENIZER_PRETOKENIZER_H
#define QN_TOKENIZER_PRETOKENIZER_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <optional>

namespace qn::tokenizer {

enum class PreTokenizerKind { Qwen2, Qwen35 };

/// Maps a `tokenizer.ggml.pre` value to the splitter; nullopt if unknown.
std::optional<PreTokenizerKind> parsePreTokenizerName(llvm::StringRef name);

/// Calls `onPiece` with each piece of `text`, in order. The pieces are
/// non-empty and concatenate to `text`. Invalid UTF-8 bytes count as one
/// character each that is neither letter, number nor space.
void splitQwen2(llvm::StringRef text,
                llvm::function_ref<void(llvm::StringRef)> onPiece);
/// The same for the `qwen35` split (marks belong to words).
void splitQwen35(llvm::StringRef text,
                 llvm::function_ref<void(llvm::StringRef)> onPiece);

inline void preTokenize(PreTokenizerKind kind, llvm::StringRef text,
                        llvm::function_ref<void(llvm::StringRef)> onPiece) {
  switch (kind) {
  case PreTokenizerKind::Qwen2:
    splitQwen2(text, onPiece);
    return;
  case PreTokenizerKind::Qwen35:
    splitQwen35(text, onPiece);
    return;
  }
}

} // namespace qn::tokenizer

#endif // QN_TOKENIZER_PRETOKENIZER_H

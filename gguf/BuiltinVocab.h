//===- BuiltinVocab.h - a small self-made GPT-2 style vocabulary -*- C++
//-*-===//
//
// Generated test models need tokenizer metadata that works without any
// download. This builds a byte-level BPE vocabulary the way Qwen's is laid
// out (tokenizer.ggml.model = gpt2, pre = qwen2): the 256 GPT-2 byte tokens,
// merges learned by plain BPE training on a built-in English text (ties broken
// by the pair's spelling, so the result is fixed), the special tokens
// <|endoftext|>, <|im_start|>, <|im_end|>, and "[PADn]" fillers up to the
// requested size (as the HF converter pads).
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_BUILTINVOCAB_H
#define QN_GGUF_BUILTINVOCAB_H

#include <cstdint>
#include <string>
#include <vector>

namespace qn::gguf {

struct BuiltinVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> tokenTypes; // 1 normal, 3 control, 5 unused
  std::vector<std::string> merges; // "a b", highest priority first
  uint32_t eosId = 0;              // <|im_end|>
  uint32_t bosId = 0;              // <|endoftext|> (also padding)
};

/// At most `maxMerges` merges; the vocabulary has `minSize` tokens or the
/// natural size (256 + merges + 3) if larger.
BuiltinVocab makeBuiltinVocab(int64_t minSize, int64_t maxMerges = 600);

/// The 256 byte tokens in GPT-2 order (printable bytes first).
std::vector<std::string> gpt2ByteTokens();

} // namespace qn::gguf

#endif // QN_GGUF_BUILTINVOCAB_H

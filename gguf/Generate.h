//===- Generate.h - seeded random qwen3next models --------------*- C++ -*-===//
//
// Writes a qwen3next GGUF with seeded random weights in the schema real files
// use (every key of spec §1, every tensor of §2 with its shape; norms,
// ssm_conv1d, ssm_a, ssm_dt, ffn_gate_inp(_shexp) stay F32 as the converter
// forces), so tests and benchmarks can make models of any size without
// downloads. Each row of each tensor has its own random stream, keyed by seed,
// tensor and row, so the file does not depend on the thread count and the
// split layout is a row gather of the legacy one (`qn-gguf to-split` of a
// legacy file equals the split file of the same seed byte for byte).
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_GENERATE_H
#define QN_GGUF_GENERATE_H

#include "gguf/Qwen3Next.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace qn::gguf {

/// The shape of a generated model (names follow Qwen3NextHParams).
struct GenShape {
  int64_t nLayer = 0, nEmbd = 0, nVocab = 0;
  int64_t nHead = 0, nHeadKV = 0, headDim = 0, ropeDims = 0;
  double ropeBase = 1e7, rmsEps = 1e-6;
  int64_t contextLength = 262144;
  int64_t convKernel = 4, ssmGroups = 0, ssmHeadsV = 0, ssmStateK = 0,
          ssmHeadV = 0;
  int64_t nExpert = 0, nExpertUsed = 0, expertFF = 0, sharedFF = 0;
  int64_t fullAttentionInterval = 4;
  bool sharedExpert = true;
  bool tiedOutput = false;
  /// qwen35 / qwen35moe files (qwen35 spec): split linear projections with
  /// ssm_beta/ssm_alpha, IMRoPE sections, `nMtp` trailing MTP blocks (not
  /// counted in nLayer), a dense FFN of width `denseFF` for qwen35.
  Arch arch = Arch::Qwen3Next;
  int64_t denseFF = 0, nMtp = 0;
  std::array<int64_t, 4> ropeSections{};
};

/// "tiny", "small" or "bench"; nullopt for other names. For the Qwen3.5
/// archs, tiny and small are the dims of ../shared/fixtures/qwen35.
std::optional<GenShape> presetShape(llvm::StringRef name,
                                    Arch arch = Arch::Qwen3Next);

/// Weight formats a generated file can use. Q4_K_M mixes q4_K with q6_K and
/// q8_0 like llama-quantize's Q4_K_M (see chooseGenTensorType).
enum class GenType { F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q4_K_M };
std::optional<GenType> parseGenType(llvm::StringRef name);

struct GenOptions {
  GenShape shape;
  GenType type = GenType::F32;
  LinearLayout layout = LinearLayout::Split;
  uint64_t seed = 1;
  std::string name;      // general.name; a default names config and seed
  std::string vocabFrom; // copy tokenizer.* from this GGUF if not empty
  unsigned threads = 2;
};

/// Checks the shape (positive sizes, Hv % Hk == 0, k <= E, ...).
llvm::Error validateGenShape(const GenShape &s);

/// The stored type of a quantizable matrix `role` (e.g. "ffn_down_exps",
/// "output", "attn_v") of layer `layer` (-1 for global tensors), with row
/// length `ne0`. K-quants fall back as llama-quantize does when ne0 is not a
/// multiple of 256 (q4_K -> q5_0, q6_K -> q8_0); 32-blocks fall back to f16.
GGMLType chooseGenTensorType(GenType type, llvm::StringRef role, int64_t layer,
                             int64_t nLayer, int64_t ne0);

/// Generates the model and streams it to `path`.
llvm::Error generateQwen3Next(const GenOptions &opts, llvm::StringRef path);

} // namespace qn::gguf

#endif // QN_GGUF_GENERATE_H

//===- Qwen3Next.h - the qwen3next model as stored in GGUF ------*- C++ -*-===//
//
// Reads the hyper-parameters of a `general.architecture = qwen3next` file and
// finds and shape-checks every tensor the forward pass needs (spec
// ../shared/docs/qwen3next-model.md §1-§2). Everything downstream (frontend,
// runtime) works from this description instead of re-reading keys.
//
// The Qwen3.5 archs (`qwen35`: dense FFN, `qwen35moe`: MoE with a required
// shared expert; ../shared/docs/qwen35-model.md) are the same model with a
// few differences, all recorded here as data (the v-head order, the rope
// sections, dense vs MoE FFN, separate beta/alpha projections, trailing MTP
// blocks) so downstream code never tests the arch name.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_QWEN3NEXT_H
#define QN_GGUF_QWEN3NEXT_H

#include "gguf/GGUFFile.h"

#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace qn::gguf {

/// block_count bound, checked before anything per layer is allocated: real
/// models have tens of layers (and a file cannot have more layers than
/// tensors, which readQwen3NextHParams checks too).
constexpr int64_t kMaxLayers = 4096;

enum class Arch { Qwen3Next, Qwen35, Qwen35Moe };

/// "qwen3next" -> Arch::Qwen3Next etc.; nullopt for any other name.
std::optional<Arch> parseArch(llvm::StringRef name);
/// The general.architecture string of `arch`.
llvm::StringRef getArchName(Arch arch);

/// Which key head value head h of a linear layer reads (qwen35 spec §2.4).
enum class VHeadOrder {
  Grouped, // h / (Hv/Hk): qwen3next files
  Tiled,   // h mod Hk: qwen35 / qwen35moe files
};

struct Qwen3NextHParams {
  Arch arch = Arch::Qwen3Next;
  /// L: the blocks the main forward runs, block_count - nextn_predict_layers
  /// (qwen3next files have no MTP blocks, so L = block_count there).
  int64_t nLayer = 0;
  int64_t nLayerAll = 0;       // block_count, including MTP blocks
  int64_t nMtp = 0;            // nextn_predict_layers (qwen35*)
  int64_t nEmbd = 0;           // D: embedding_length
  int64_t nVocab = 0;          // V: rows of token_embd
  int64_t nCtxTrain = 0;       // context_length
  int64_t nHead = 0;           // Hq: attention.head_count
  int64_t nHeadKV = 0;         // Hkv: attention.head_count_kv (default Hq)
  int64_t headDim = 0;         // Dh: attention.key_length (= value_length)
  int64_t ropeDims = 0;        // R: rope.dimension_count (default Dh)
  double ropeBase = 10000.0;   // rope.freq_base
  double rmsEps = 0.0;         // attention.layer_norm_rms_epsilon
  int64_t convKernel = 0;      // Kc: ssm.conv_kernel
  int64_t ssmInner = 0;        // Cv: ssm.inner_size
  int64_t ssmState = 0;        // dk: ssm.state_size
  int64_t ssmTimeStepRank = 0; // Hv: ssm.time_step_rank
  int64_t ssmGroupCount = 0;   // Hk: ssm.group_count
  int64_t nExpert = 0;         // E: expert_count
  int64_t nExpertUsed = 0;     // k: expert_used_count
  int64_t expertFF = 0;        // F: expert_feed_forward_length
  int64_t sharedExpertFF = 0;  // Fs: expert_shared_feed_forward_length
  int64_t fullAttentionInterval = 4;
  int64_t denseFF = 0; // Fd: feed_forward_length, the dense FFN of qwen35
  VHeadOrder vHeadOrder = VHeadOrder::Grouped;
  /// IMRoPE sections (t, h, w, e) in pairs (rope.dimension_sections); absent
  /// (qwen3next): plain NEOX over the first R dims.
  bool hasRopeSections = false;
  std::array<int64_t, 4> ropeSections{};
  /// Per layer: true for Gated DeltaNet (linear) layers, false for full
  /// attention. From attention.recurrent_layers if present, else the interval.
  std::vector<bool> isRecurrent;

  /// dv = Cv / Hv.
  int64_t headVDim() const {
    return ssmTimeStepRank ? ssmInner / ssmTimeStepRank : 0;
  }
  /// Ck = Hk * dk.
  int64_t keyDim() const { return ssmGroupCount * ssmState; }
  /// Cc = 2 * Hk * dk + Cv.
  int64_t convChannels() const { return 2 * keyDim() + ssmInner; }
  /// qwen35: every layer has a dense SwiGLU FFN instead of the MoE.
  bool denseFFN() const { return arch == Arch::Qwen35; }
  /// For text positions (p, p, p, 0) (qwen35 spec §3.3): whether rope pair
  /// i (< R/2) rotates. Pairs whose section is e, or that no section
  /// covers, stay unrotated; without sections every pair rotates.
  bool ropePairRotates(int64_t i) const;
};

/// Which tensors a file uses for the linear-layer input projection.
enum class LinearLayout {
  Legacy, // blk.N.ssm_in (grouped by key head, §2.3)
  Split,  // blk.N.attn_qkv + blk.N.attn_gate (conv-channel order)
};

/// The tensors of one layer. Pointers that do not apply to the layer's kind
/// (or optional tensors that are absent) are nullptr.
struct Qwen3NextLayer {
  const TensorInfo *attnNorm = nullptr;
  const TensorInfo *postAttnNorm = nullptr;
  // Full attention.
  const TensorInfo *attnQ = nullptr; // {D, 2*Hq*Dh}, q and gate per head
  const TensorInfo *attnK = nullptr;
  const TensorInfo *attnV = nullptr;
  const TensorInfo *attnOutput = nullptr;
  const TensorInfo *attnQNorm = nullptr;
  const TensorInfo *attnKNorm = nullptr;
  // Linear attention (Gated DeltaNet).
  const TensorInfo *ssmIn = nullptr;    // Legacy layout
  const TensorInfo *attnQKV = nullptr;  // Split layout
  const TensorInfo *attnGate = nullptr; // Split layout
  const TensorInfo *ssmBA = nullptr;    // qwen3next
  const TensorInfo *ssmBeta = nullptr;  // qwen35*: {D, Hv}, tiled order
  const TensorInfo *ssmAlpha = nullptr; // qwen35*: {D, Hv}, tiled order
  const TensorInfo *ssmConv1d = nullptr;
  const TensorInfo *ssmDt = nullptr; // blk.N.ssm_dt.bias
  const TensorInfo *ssmA = nullptr;  // blk.N.ssm_a (= -exp(A_log))
  const TensorInfo *ssmNorm = nullptr;
  const TensorInfo *ssmOut = nullptr;
  // MoE (every layer). The shared expert is optional as a whole.
  const TensorInfo *ffnGateInp = nullptr;
  const TensorInfo *ffnGateExps = nullptr;
  const TensorInfo *ffnUpExps = nullptr;
  const TensorInfo *ffnDownExps = nullptr;
  const TensorInfo *ffnGateInpShexp = nullptr;
  const TensorInfo *ffnGateShexp = nullptr;
  const TensorInfo *ffnUpShexp = nullptr;
  const TensorInfo *ffnDownShexp = nullptr;

  // Dense SwiGLU FFN (qwen35); the MoE pointers are null then.
  const TensorInfo *ffnGate = nullptr;
  const TensorInfo *ffnUp = nullptr;
  const TensorInfo *ffnDown = nullptr;

  bool hasSharedExpert() const { return ffnGateShexp != nullptr; }
};

struct Qwen3NextModel {
  Qwen3NextHParams hp;
  LinearLayout layout = LinearLayout::Split;
  const TensorInfo *tokenEmbd = nullptr;
  const TensorInfo *outputNorm = nullptr;
  /// output.weight, or token_embd.weight when the file has no output.weight.
  const TensorInfo *output = nullptr;
  bool tiedOutput = false;
  /// The main blocks 0 .. L-1.
  std::vector<Qwen3NextLayer> layers;
  /// The MTP blocks L .. L_all-1 (qwen35 spec §2.3): shape-checked, not run
  /// by the main forward. Full-attention tensors and the FFN as in `layers`
  /// (attnQ and the FFN may be absent), plus the nextn.* tensors.
  struct MtpBlock {
    Qwen3NextLayer layer;
    const TensorInfo *ehProj = nullptr; // optional
    const TensorInfo *enorm = nullptr, *hnorm = nullptr;
    const TensorInfo *sharedHeadNorm = nullptr; // optional
  };
  std::vector<MtpBlock> mtp;
};

/// IMRoPE for text positions (p, p, p, 0): whether pair i turns under
/// `sections` (t, h, w, e) (qwen35 spec §3.3: ggml's interleaved sector
/// rule; pairs that fall to the e axis, position 0, stay as they are).
bool imropePairRotates(const std::array<int64_t, 4> &sections, int64_t i);

/// Reads hyper-parameters only (no tensor checks except V from token_embd).
llvm::Expected<Qwen3NextHParams> readQwen3NextHParams(const GGUFFile &file);

/// Reads the hyper-parameters and binds and shape-checks every tensor. The
/// error names the tensor, the expected and the found shape/type. The model
/// points into `file`, which must outlive it.
llvm::Expected<Qwen3NextModel> describeQwen3Next(const GGUFFile &file);

/// For each row of the Split layout's concatenation
/// `[attn_qkv rows (Cc) | attn_gate rows (Cv)]`, the `ssm_in` row it comes
/// from (§2.3), so `ssm_in·x` gathered by this table equals
/// `[attn_qkv·x | attn_gate·x]`. Size Cc + Cv.
std::vector<int64_t> legacyQKVZRowOrder(const Qwen3NextHParams &hp);

/// For each of the 2*Hv outputs `[b_0..b_{Hv-1} | a_0..a_{Hv-1}]`, the row
/// of ssm_ba it comes from (§2.3).
std::vector<int64_t> baRowOrder(const Qwen3NextHParams &hp);

} // namespace qn::gguf

#endif // QN_GGUF_QWEN3NEXT_H

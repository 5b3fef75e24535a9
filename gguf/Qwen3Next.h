//===- Qwen3Next.h - the qwen3next model as stored in GGUF ------*- C++ -*-===//
//
// Reads the hyper-parameters of a `general.architecture = qwen3next` file and
// finds and shape-checks every tensor the forward pass needs (spec
// ../shared/docs/qwen3next-model.md §1-§2). Everything downstream (frontend,
// runtime) works from this description instead of re-reading keys.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_QWEN3NEXT_H
#define QN_GGUF_QWEN3NEXT_H

#include "gguf/GGUFFile.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qn::gguf {

/// block_count bound, checked before anything per layer is allocated: real
/// models have tens of layers (and a file cannot have more layers than
/// tensors, which readQwen3NextHParams checks too).
constexpr int64_t kMaxLayers = 4096;

struct Qwen3NextHParams {
  int64_t nLayer = 0;          // L: block_count
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
  const TensorInfo *ssmBA = nullptr;
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
  std::vector<Qwen3NextLayer> layers;
};

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

//===- Model.h - a loaded Qwen3-Next GGUF ready to run ----------*- C++ -*-===//
//
// Opens the file (mmap), binds every tensor through the GGUF layer's
// shape-checked description, and exposes weight matrices as WeightViews into
// the mapping (never copied). The few small F32 vectors the ops read
// directly (norm weights, conv kernels, ssm_a/dt, the shared-expert gate) are
// dequantized once into owned arrays so the ops never branch on their type.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_MODEL_H
#define QN_RUNTIME_MODEL_H

#include "gguf/GGUFFile.h"
#include "gguf/Qwen3Next.h"
#include "runtime/kernels/Matmul.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <vector>

namespace qn::runtime {

/// The weights of one layer. Views that do not apply to the layer's kind are
/// empty (data == nullptr).
struct LayerWeights {
  bool recurrent = false;
  std::vector<float> attnNorm, postAttnNorm;
  // Full attention (spec §3.3).
  WeightView attnQ, attnK, attnV, attnOutput;
  std::vector<float> attnQNorm, attnKNorm;
  // Gated DeltaNet (spec §3.2). Either ssmIn (legacy) or attnQKV + attnGate;
  // either ssmBA (qwen3next) or ssmBeta + ssmAlpha (qwen35*).
  WeightView ssmIn, attnQKV, attnGate, ssmBA, ssmBeta, ssmAlpha, ssmOut;
  std::vector<float> ssmConv1d, ssmDt, ssmA, ssmNorm;
  /// ssm_conv1d transposed to [Kc x Cc] for the token-major conv.
  std::vector<float> ssmConv1dT;
  // MoE (spec §3.4). Expert tensors: one view of `rows` x `cols` per expert,
  // see expertView().
  WeightView ffnRouter, ffnGateExps, ffnUpExps, ffnDownExps;
  bool hasSharedExpert = false;
  WeightView ffnGateShexp, ffnUpShexp, ffnDownShexp;
  std::vector<float> ffnGateInpShexp;
  // Dense SwiGLU FFN (qwen35): set instead of the MoE views.
  WeightView ffnGate, ffnUp, ffnDown;
};

/// Expert `e` of a stacked expert tensor view.
inline WeightView expertView(const WeightView &all, int64_t e) {
  WeightView v = all;
  v.data = all.data + static_cast<size_t>(e) * all.rows * all.rowBytes;
  return v;
}

class Model {
public:
  /// Opens and validates `path`. Errors name the file and the problem.
  static llvm::Expected<std::unique_ptr<Model>> open(llvm::StringRef path);

  const gguf::Qwen3NextHParams &hparams() const { return desc.hp; }
  /// The shape-checked description the weights were bound through (what
  /// the compiler's frontend builds the IR from).
  const gguf::Qwen3NextModel &description() const { return desc; }
  gguf::LinearLayout layout() const { return desc.layout; }
  const std::vector<LayerWeights> &layers() const { return layerWeights; }
  const WeightView &tokenEmbd() const { return tokenEmbdView; }
  const WeightView &output() const { return outputView; }
  const std::vector<float> &outputNorm() const { return outputNormW; }
  /// ssm_in row for each row of [attn_qkv | attn_gate] (legacy files).
  const std::vector<int64_t> &qkvzRowOrder() const { return qkvzOrder; }
  /// ssm_ba row for each of [b_0..b_{Hv-1} | a_0..a_{Hv-1}].
  const std::vector<int64_t> &baRowOrder() const { return baOrder; }
  const gguf::GGUFFile &file() const { return *gguf; }

  /// Writes the embedding row of `token` (0 <= token < V) into `out`.
  void embed(int32_t token, float *out) const;

private:
  std::unique_ptr<gguf::GGUFFile> gguf;
  gguf::Qwen3NextModel desc;
  std::vector<LayerWeights> layerWeights;
  WeightView tokenEmbdView, outputView;
  std::vector<float> outputNormW;
  std::vector<int64_t> qkvzOrder, baOrder;
};

} // namespace qn::runtime

#endif // QN_RUNTIME_MODEL_H

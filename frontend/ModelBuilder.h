//===- ModelBuilder.h - frontend internals (private header) -----*- C++ -*-===//
//
// Shared by the frontend's translation units: the values one layer reads
// (entry-block arguments) and the builder that emits one entry's ops, with a
// peer tensor name on every op. Not installed; include only from frontend/.
//
//===----------------------------------------------------------------------===//

#ifndef QN_FRONTEND_MODELBUILDER_H
#define QN_FRONTEND_MODELBUILDER_H

#include "gguf/Qwen3Next.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace qn::frontend::detail {

/// The weights and state one layer reads. Values that do not apply to the
/// layer's kind or layout are null.
struct LayerValues {
  mlir::Value attnNorm, postAttnNorm;
  // Full attention.
  mlir::Value attnQ, attnK, attnV, attnOutput, attnQNorm, attnKNorm;
  // Linear attention.
  mlir::Value ssmIn, attnQKV, attnGate, ssmBA, ssmConv1d, ssmDt, ssmA, ssmNorm,
      ssmOut;
  // qwen35*: beta and alpha as two plain projections instead of ssmBA.
  mlir::Value ssmBeta, ssmAlpha;
  // Dense SwiGLU FFN (qwen35) instead of the MoE.
  mlir::Value ffnGate, ffnUp, ffnDown;
  // MoE; the four shared-expert values are all null or all set.
  mlir::Value ffnGateInp, ffnGateExps, ffnUpExps, ffnDownExps;
  mlir::Value ffnGateInpShexp, ffnGateShexp, ffnUpShexp, ffnDownShexp;
  // State: conv + delta (linear layers) or K + V cache (full attention).
  mlir::Value convState, deltaState, kCache, vCache;
};

/// The two state values a layer produces (same order as its state inputs).
struct LayerState {
  mlir::Value first, second;
};

/// Maps a GGUF tensor to the MLIR type of its value: `tensor<...xf32>` for
/// F32 data, `!qn.qweight<format, shape>` otherwise; the shape is the math
/// shape (ggml ne reversed). `floatOnly` tensors (norms, conv kernel, ssm_a,
/// dt bias) must be F32.
llvm::Expected<mlir::Type> getWeightType(mlir::MLIRContext &ctx,
                                         const gguf::TensorInfo &tensor,
                                         bool floatOnly);

/// Emits the ops of one entry point into the current insertion block.
class EntryBuilder {
public:
  EntryBuilder(mlir::OpBuilder &builder, const gguf::Qwen3NextModel &model,
               int64_t tokens)
      : b(builder), model(model), hp(model.hp), numTokens(tokens) {}

  /// Layer index used in op names ("attn_norm-3"); -1 for global ops.
  void setLayer(int64_t index) { layer = index; }

  /// Creates `OpTy` named `name` (+ "-<layer>"): NameLoc and `qn.name`.
  template <typename OpTy, typename... Args>
  OpTy create(llvm::StringRef name, Args &&...args) {
    std::string full = fullName(name);
    auto op = OpTy::create(b, mlir::NameLoc::get(b.getStringAttr(full)),
                           std::forward<Args>(args)...);
    op->setAttr("qn.name", b.getStringAttr(full));
    return op;
  }

  /// `tensor<T x dims... x f32>` with T the entry's token count.
  mlir::RankedTensorType tokenTensor(llvm::ArrayRef<int64_t> dims);
  mlir::Value reshape(llvm::StringRef name, mlir::Value input,
                      llvm::ArrayRef<int64_t> dims);
  /// A slice over all tokens: `sizes` and `offsets` of the non-token dims.
  mlir::Value slice(llvm::StringRef name, mlir::Value input,
                    llvm::ArrayRef<int64_t> offsets,
                    llvm::ArrayRef<int64_t> sizes);
  mlir::FloatAttr epsilon();

  /// Spec 3.2: the Gated DeltaNet layer including the residual add.
  mlir::Value linearAttention(mlir::Value h, const LayerValues &lv,
                              LayerState &state);
  /// Spec 3.3: the gated full-attention layer including the residual add.
  mlir::Value fullAttention(mlir::Value h, mlir::Value positions,
                            const LayerValues &lv, LayerState &state);
  /// Spec 3.4: post-attention norm, MoE and the residual add.
  mlir::Value moeBlock(mlir::Value h, const LayerValues &lv);
  /// qwen35 spec 3.1: post-attention norm, dense SwiGLU FFN (matmuls, silu,
  /// mul) and the residual add.
  mlir::Value denseBlock(mlir::Value h, const LayerValues &lv);

private:
  std::string fullName(llvm::StringRef name) const;
  /// Legacy ssm_in: the projection gathered into `[q|k|v]` and `z` (§2.3).
  void gatherLegacyQKVZ(mlir::Value mixed, mlir::Value &qkv, mlir::Value &z);

  mlir::OpBuilder &b;
  const gguf::Qwen3NextModel &model;
  const gguf::Qwen3NextHParams &hp;
  int64_t numTokens;
  int64_t layer = -1;
};

} // namespace qn::frontend::detail

#endif // QN_FRONTEND_MODELBUILDER_H

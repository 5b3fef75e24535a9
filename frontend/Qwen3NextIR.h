//===- Qwen3NextIR.h - qn IR of a whole Qwen3-Next model --------*- C++ -*-===//
//
// Builds the qn IR module of a `qwen3next` GGUF model (spec
// ../shared/docs/qwen3next-model.md section 3): a `func.func @prefill` (a
// ubatch of a dynamic number of tokens) and a `func.func @decode` (one
// token), both returning logits and the updated state.
//
// Calling convention of both entries (docs/frontend.md):
//   arguments: tokens `tensor<Txi32>` {qn.input = "tokens"},
//              positions `tensor<Txi32>` {qn.input = "positions"},
//              prefill only: output_rows `tensor<?xi32>`
//                {qn.input = "output_rows"}, the R rows (0..T-1) whose
//                logits are wanted,
//              one argument per GGUF tensor the model uses
//                {qn.weight = "<GGUF name>"},
//              per linear layer N: conv state {qn.state = "conv_state-N"} and
//                delta state {qn.state = "delta_state-N"}; per full-attention
//                layer N: {qn.state = "k_cache-N"}, {qn.state = "v_cache-N"};
//   results:   logits (prefill `tensor<RxVxf32>`, the rows output_rows
//              names in its order; decode `tensor<1xVxf32>`), then every
//              state in argument order (same qn.state names).
// Every op carries `qn.name` (and a NameLoc) with the peer's tensor name,
// e.g. "attn_norm-3", so dumps can be diffed against the peer's.
//
//===----------------------------------------------------------------------===//

#ifndef QN_FRONTEND_QWEN3NEXTIR_H
#define QN_FRONTEND_QWEN3NEXTIR_H

#include "gguf/Qwen3Next.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

namespace qn::frontend {

/// Which entry points to emit.
enum class EntrySet { Prefill, Decode, All };

/// Element type of the full-attention KV cache.
enum class KVCacheType { F16, F32 };

struct IRBuildOptions {
  EntrySet entries = EntrySet::All;
  KVCacheType kvType = KVCacheType::F16;
};

/// Loads the dialects the frontend's IR uses (qn, func) into `ctx`.
void loadFrontendDialects(mlir::MLIRContext &ctx);

/// Builds and verifies the module. Errors (an unsupported weight format, a
/// hyper-parameter the ops cannot express, a verifier failure) name the
/// tensor or parameter at fault.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildQwen3NextModule(mlir::MLIRContext &ctx, const gguf::Qwen3NextModel &model,
                     const IRBuildOptions &options = {});

} // namespace qn::frontend

#endif // QN_FRONTEND_QWEN3NEXTIR_H

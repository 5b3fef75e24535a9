//===- SelectActivations.cpp - what each matmul multiplies with -----------===//
//
// qn-select-activations (CodegenPasses.td): the one place that decides
// whether a matmul's activations stay f32 or are rounded to 8 bits. The
// plan copies the attribute and the kernels follow it; no environment
// variable or global setting decides it downstream.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"

#include "dialect/QNOps.h"
#include "gguf/GGMLType.h"
#include "runtime/kernels/MatmulIsa.h"

namespace qn {
#define GEN_PASS_DEF_SELECTACTIVATIONSPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

/// Whether the CPU kernels have an int8 path for a weight in `format`.
bool hasInt8Kernels(QuantFormat format) {
  std::optional<gguf::GGMLType> type =
      gguf::parseTypeName(stringifyQuantFormat(format));
  return type && runtime::hasInt8Kernels(*type);
}

/// The formats of `weights` (a dispatch's `weights(...)` list).
bool anyHasInt8Kernels(ArrayAttr formats) {
  return llvm::any_of(formats, [](Attribute a) {
    return hasInt8Kernels(llvm::cast<QuantFormatAttr>(a).getValue());
  });
}

struct SelectActivationsPass
    : qn::impl::SelectActivationsPassBase<SelectActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Activations> chosen = symbolizeActivations(mode);
    if (!chosen) {
      getOperation().emitError("qn-select-activations: mode must be f32, q8 "
                               "or q8prefill, got '")
          << mode << "'";
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    auto decide = [&](auto op) {
      if (op.getActivationsAttr())
        return; // decided already (by hand, or an earlier run)
      Activations act =
          anyHasInt8Kernels(op.getFormatsAttr()) ? *chosen : Activations::f32;
      op.setActivationsAttr(ActivationsAttr::get(ctx, act));
    };
    getOperation().walk([&](Operation *op) {
      if (auto m = llvm::dyn_cast<DispatchMatmulOp>(op))
        decide(m);
      else if (auto m = llvm::dyn_cast<DispatchMoeOp>(op))
        decide(m);
    });
  }
};

} // namespace
} // namespace qn

//===- WeightTypes.cpp - GGUF tensor -> qn value type -----------*- C++ -*-===//
//
// A weight's type carries its storage format because code generation picks
// the kernel from it: F32 data is a plain f32 tensor, every other format a
// `!qn.qweight<format, shape>` in math order (ggml ne reversed).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "dialect/QNTypes.h"
#include "gguf/GGMLType.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace qn::frontend::detail {

llvm::Expected<Type> getWeightType(MLIRContext &ctx,
                                   const gguf::TensorInfo &tensor,
                                   bool floatOnly) {
  SmallVector<int64_t, 4> shape(llvm::reverse(tensor.ne));
  StringRef typeName = gguf::getTypeName(tensor.type);
  if (tensor.type == gguf::GGMLType::F32)
    return RankedTensorType::get(shape, Float32Type::get(&ctx));
  if (floatOnly)
    return llvm::createStringError(
        "tensor '%s' has type %s; the model needs it in f32",
        tensor.name.c_str(), typeName.str().c_str());
  std::optional<QuantFormat> format = symbolizeQuantFormat(typeName.lower());
  if (!format)
    return llvm::createStringError(
        "tensor '%s' has type %s, which the qn dialect has no weight format "
        "for",
        tensor.name.c_str(),
        typeName.empty() ? "(unknown)" : typeName.str().c_str());
  // getChecked reports a bad row length (not a whole number of blocks) as an
  // error instead of asserting.
  std::string message;
  auto emitError = [&]() {
    return mlir::emitError(UnknownLoc::get(&ctx)) << "";
  };
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  QWeightType type = QWeightType::getChecked(emitError, &ctx, *format,
                                             llvm::ArrayRef<int64_t>(shape));
  if (!type)
    return llvm::createStringError("tensor '%s': %s", tensor.name.c_str(),
                                   message.c_str());
  return type;
}

} // namespace qn::frontend::detail

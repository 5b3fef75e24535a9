//===- QNOps.h - qn dialect operations --------------------------*- C++ -*-===//

#ifndef QN_DIALECT_QNOPS_H
#define QN_DIALECT_QNOPS_H

#include "dialect/QNDialect.h"
#include "dialect/QNTypes.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/QNInterfaces.h.inc"

namespace mlir {
class OpAsmParser;
class OpAsmPrinter;
} // namespace mlir

namespace qn {
/// `custom<Weights>` of the dispatch ops: `weights(q4_k:rows, f32:rows)`.
mlir::ParseResult parseWeights(mlir::OpAsmParser &parser,
                               mlir::ArrayAttr &formats,
                               mlir::ArrayAttr &layouts);
void printWeights(mlir::OpAsmPrinter &printer, mlir::Operation *op,
                  mlir::ArrayAttr formats, mlir::ArrayAttr layouts);
/// Which algorithms each backend has kernels for: the one table the
/// dispatch verifiers and the delta-path selection read.
bool backendHasDeltaImpl(Backend backend, DeltaNetImpl impl);
bool backendHasAttentionImpl(Backend backend, AttentionImpl impl);
/// The block format a weight operand of type `type` is stored in (f32, f16,
/// bf16 tensors; a !qn.qweight's format), if any.
std::optional<QuantFormat> weightFormatOf(mlir::Type type);
} // namespace qn

#define GET_OP_CLASSES
#include "dialect/QNOps.h.inc"

#endif // QN_DIALECT_QNOPS_H

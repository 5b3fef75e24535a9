//===- ElementwiseKernel.cpp - qn elementwise chain -> loop kernel --------===//
//
// One scf.for per result dimension (bounds from the output memref, so a
// dynamic token count works), the chain evaluated on scalars in the
// innermost body, one store. Inputs are read with numpy broadcasting: a
// static size-1 dimension reads index 0, a missing leading dimension is
// skipped. LLVM's loop vectorizer works on the result (CpuJit runs O3 with
// the host's features).
//
//===----------------------------------------------------------------------===//

#include "codegen/ElementwiseKernel.h"

#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;

namespace qn::codegen {

void loadKernelDialects(MLIRContext &ctx) {
  ctx.loadDialect<QNDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
}

namespace {

/// Emits the scalar computation of the chain at one output index.
class ScalarEmitter {
public:
  ScalarEmitter(OpBuilder &b, Location loc, ArrayRef<Value> ivs,
                ArrayRef<int64_t> outShape)
      : b(b), loc(loc), ivs(ivs), outShape(outShape) {}

  /// Binds source argument `arg` to the memref `buffer`.
  void bindInput(Value arg, Value buffer) { inputs[arg] = buffer; }

  FailureOr<Value> get(Value v) {
    auto it = scalars.find(v);
    if (it != scalars.end())
      return it->second;
    FailureOr<Value> s = inputs.count(v) ? load(v) : compute(v);
    if (succeeded(s))
      scalars[v] = *s;
    return s;
  }

  std::string unsupported;

private:
  Value load(Value arg) {
    Value buffer = inputs[arg];
    ArrayRef<int64_t> shape =
        llvm::cast<MemRefType>(buffer.getType()).getShape();
    size_t skip = outShape.size() - shape.size();
    SmallVector<Value, 4> idx;
    for (size_t k = 0; k < shape.size(); ++k) {
      bool broadcast = shape[k] == 1 && outShape[skip + k] != 1;
      idx.push_back(broadcast ? zero() : ivs[skip + k]);
    }
    return memref::LoadOp::create(b, loc, buffer, idx);
  }

  Value zero() {
    if (!c0)
      c0 = arith::ConstantIndexOp::create(b, loc, 0);
    return c0;
  }

  FailureOr<Value> compute(Value v) {
    Operation *op = v.getDefiningOp();
    auto elementwise = llvm::dyn_cast_or_null<ScalarElementwiseOpInterface>(op);
    if (!elementwise || op->getNumResults() != 1) {
      unsupported = op ? ("'" + op->getName().getStringRef() + "'").str()
                       : "a value that is not an argument or an op result";
      return failure();
    }
    SmallVector<Value, 2> in;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> s = get(operand);
      if (failed(s))
        return failure();
      in.push_back(*s);
    }
    return elementwise.buildScalar(b, loc, in);
  }

  OpBuilder &b;
  Location loc;
  ArrayRef<Value> ivs;
  ArrayRef<int64_t> outShape;
  Value c0;
  llvm::DenseMap<Value, Value> inputs, scalars;
};

llvm::Error kernelError(func::FuncOp source, const llvm::Twine &what) {
  return llvm::createStringError("cannot generate an elementwise kernel for @" +
                                 source.getSymName() + ": " + what);
}

} // namespace

llvm::Error emitElementwiseKernel(func::FuncOp source, ModuleOp into,
                                  StringRef name) {
  MLIRContext *ctx = source.getContext();
  loadKernelDialects(*ctx);
  if (!source.getBody().hasOneBlock())
    return kernelError(source, "the body must be one block");
  if (source.getNumResults() != 1)
    return kernelError(source, "it must return exactly one value");
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> argTypes;
  SmallVector<Type> tensorTypes(source.getArgumentTypes());
  tensorTypes.push_back(source.getResultTypes()[0]);
  for (Type t : tensorTypes) {
    auto tensor = llvm::dyn_cast<RankedTensorType>(t);
    if (!tensor || tensor.getElementType() != f32)
      return kernelError(source, "arguments and result must be f32 ranked "
                                 "tensors");
    argTypes.push_back(MemRefType::get(tensor.getShape(), f32));
  }
  auto outType = llvm::cast<MemRefType>(argTypes.back());
  for (Type t : source.getArgumentTypes())
    if (llvm::cast<RankedTensorType>(t).getRank() > outType.getRank())
      return kernelError(source, "an argument has a higher rank than the "
                                 "result");

  OpBuilder b(ctx);
  b.setInsertionPointToEnd(into.getBody());
  Location loc = source.getLoc();
  auto kernel =
      func::FuncOp::create(b, loc, name, b.getFunctionType(argTypes, {}));
  kernel->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value out = entry->getArguments().back();

  // The loop nest over the result's elements.
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value, 4> ivs;
  for (int64_t d = 0; d < outType.getRank(); ++d) {
    Value ub = memref::DimOp::create(b, loc, out, d);
    auto loop = scf::ForOp::create(b, loc, c0, ub, c1);
    b.setInsertionPointToStart(loop.getBody());
    ivs.push_back(loop.getInductionVar());
  }
  ScalarEmitter emitter(b, loc, ivs, outType.getShape());
  for (auto [arg, buffer] :
       llvm::zip(source.getArguments(), entry->getArguments()))
    emitter.bindInput(arg, buffer);
  auto ret = llvm::cast<func::ReturnOp>(source.getBody().front().back());
  FailureOr<Value> result = emitter.get(ret.getOperand(0));
  if (failed(result)) {
    kernel.erase();
    return kernelError(source, "unsupported " + emitter.unsupported);
  }
  memref::StoreOp::create(b, loc, *result, out, ivs);
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return llvm::Error::success();
}

} // namespace qn::codegen

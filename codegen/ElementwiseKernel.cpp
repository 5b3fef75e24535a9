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
#include "llvm/ADT/TypeSwitch.h"

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
  Value constant(float x) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(x));
  }
  /// 1 / (1 + exp(-x)), the logistic function shared by sigmoid and silu.
  Value logistic(Value x) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    Value den = arith::AddFOp::create(b, loc, constant(1.0f), e);
    return arith::DivFOp::create(b, loc, constant(1.0f), den);
  }

  FailureOr<Value> compute(Value v) {
    Operation *op = v.getDefiningOp();
    if (!op || op->getNumResults() != 1) {
      unsupported = "a value that is not an argument or a one-result op";
      return failure();
    }
    SmallVector<Value, 2> in;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> s = get(operand);
      if (failed(s))
        return failure();
      in.push_back(*s);
    }
    Value r =
        llvm::TypeSwitch<Operation *, Value>(op)
            .Case<AddOp>([&](auto) {
              return arith::AddFOp::create(b, loc, in[0], in[1]);
            })
            .Case<SubOp>([&](auto) {
              return arith::SubFOp::create(b, loc, in[0], in[1]);
            })
            .Case<MulOp>([&](auto) {
              return arith::MulFOp::create(b, loc, in[0], in[1]);
            })
            .Case<DivOp>([&](auto) {
              return arith::DivFOp::create(b, loc, in[0], in[1]);
            })
            .Case<MaxOp>([&](auto) {
              return arith::MaximumFOp::create(b, loc, in[0], in[1]);
            })
            .Case<MinOp>([&](auto) {
              return arith::MinimumFOp::create(b, loc, in[0], in[1]);
            })
            .Case<ExpOp>(
                [&](auto) { return math::ExpOp::create(b, loc, in[0]); })
            .Case<LogOp>(
                [&](auto) { return math::LogOp::create(b, loc, in[0]); })
            .Case<NegOp>(
                [&](auto) { return arith::NegFOp::create(b, loc, in[0]); })
            .Case<AbsOp>(
                [&](auto) { return math::AbsFOp::create(b, loc, in[0]); })
            .Case<SqrtOp>(
                [&](auto) { return math::SqrtOp::create(b, loc, in[0]); })
            .Case<RsqrtOp>(
                [&](auto) { return math::RsqrtOp::create(b, loc, in[0]); })
            .Case<SigmoidOp>([&](auto) { return logistic(in[0]); })
            .Case<SiluOp>([&](auto) {
              return arith::MulFOp::create(b, loc, in[0], logistic(in[0]));
            })
            .Case<SoftplusOp>([&](auto) {
              // ggml: x > 20 ? x : log(1 + exp(x)).
              Value e = math::ExpOp::create(b, loc, in[0]);
              Value l = math::LogOp::create(
                  b, loc, arith::AddFOp::create(b, loc, constant(1.0f), e));
              Value big = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::OGT, in[0], constant(20.0f));
              return arith::SelectOp::create(b, loc, big, in[0], l);
            })
            .Case<ScaleOp>([&](ScaleOp s) {
              return arith::MulFOp::create(
                  b, loc, in[0], constant(s.getFactor().convertToFloat()));
            })
            .Default([&](Operation *) { return Value(); });
    if (!r) {
      unsupported = ("'" + op->getName().getStringRef() + "'").str();
      return failure();
    }
    return r;
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

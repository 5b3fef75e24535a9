//===- LoopKernel.cpp - qn primitive-op region -> CPU loop kernel ---------===//
//
// A direct lowering with its own simple bufferization, instead of
// linalg + one-shot-bufferize: the regions are small and fixed in shape, and
// owning the buffer decisions keeps the chunk loop free of hidden copies.
//
// * Every tensor value is a memref with the identity layout (row-major,
//   offset 0). Ops that compute allocate their result (memref.alloc, freed
//   at the end of the scope that made it: the kernel or one loop iteration).
// * qn.reshape is a view (memref.reinterpret_cast of the contiguous
//   operand); every other op writes a new buffer with one loop nest over it,
//   innermost loop over the contiguous last dimension.
// * scf.for: each loop-carried tensor gets one buffer for the whole loop
//   (the init's own buffer when nothing else reads it, else a copy); a
//   yielded value that is not already that buffer is copied into it.
// * tensor.insert_slice writes into its destination in place when the
//   destination owns its buffer and has no other use (the chunk loop's
//   output), so the chunk loop does not copy the whole output per chunk.
// * Kernel results are copied out after everything else, so a result buffer
//   may alias an argument buffer (the state updated in place).
//
//===----------------------------------------------------------------------===//

#include "codegen/LoopKernel.h"

#include "codegen/ElementwiseKernel.h"
#include "dialect/QNDialect.h"
#include "dialect/QNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace qn::codegen {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc) { f32 = b.getF32Type(); }

  /// Maps source values to kernel values: tensors to memrefs, scalars to
  /// scalars.
  IRMapping map;
  /// Why emission failed.
  std::string error;

  void bindArgument(Value tensor, Value memref) { map.map(tensor, memref); }
  void pushScope() { scopes.emplace_back(); }
  /// Frees the buffers allocated since the matching pushScope.
  void popScope() {
    for (Value m : scopes.back())
      memref::DeallocOp::create(b, loc, m);
    scopes.pop_back();
  }

  /// Emits every op of `block` but its terminator.
  LogicalResult emitBlock(Block &block) {
    for (Operation &op : block.without_terminator())
      if (failed(emitOp(&op)))
        return failure();
    return success();
  }

  /// Copies the buffer of `v` into `out` (same shape).
  void copyOut(Value v, Value out) { copy(map.lookup(v), out); }

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  Value idx(int64_t x) { return arith::ConstantIndexOp::create(b, loc, x); }
  Value f(float x) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(x));
  }
  static ArrayRef<int64_t> shape(Value v) {
    return cast<ShapedType>(v.getType()).getShape();
  }
  static int64_t rank(Value v) {
    return cast<ShapedType>(v.getType()).getRank();
  }
  Value dim(Value m, int64_t d) {
    int64_t s = shape(m)[d];
    return ShapedType::isDynamic(s) ? Value(memref::DimOp::create(b, loc, m, d))
                                    : idx(s);
  }
  SmallVector<Value> dims(Value m) {
    SmallVector<Value> r;
    for (int64_t d = 0; d < rank(m); ++d)
      r.push_back(dim(m, d));
    return r;
  }
  Value mulI(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value addI(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  /// (x + d - 1) / d: arith.ceildivui would need arith-expand before LLVM.
  Value ceilDiv(Value x, int64_t d) {
    return arith::DivUIOp::create(b, loc, addI(x, idx(d - 1)), idx(d));
  }

  /// A buffer of `type`'s shape; `sizes` gives every dimension (only the
  /// dynamic ones are used). Freed when the current scope ends.
  Value alloc(RankedTensorType type, ArrayRef<Value> sizes) {
    SmallVector<Value> dynamic;
    for (auto [d, s] : llvm::enumerate(type.getShape()))
      if (ShapedType::isDynamic(s))
        dynamic.push_back(sizes[d]);
    auto mt = MemRefType::get(type.getShape(), f32);
    Value m =
        memref::AllocOp::create(b, loc, mt, dynamic, b.getI64IntegerAttr(64));
    scopes.back().push_back(m);
    owned.insert(m);
    return m;
  }
  Value allocLike(Value m) {
    return alloc(RankedTensorType::get(shape(m), f32), dims(m));
  }

  /// One scf.for per bound, outermost first; `body` gets the induction
  /// variables with the builder inside the innermost loop.
  void loopNest(ArrayRef<Value> ubs, function_ref<void(ValueRange)> body) {
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Value> ivs;
    Value c0 = idx(0), c1 = idx(1);
    for (Value ub : ubs) {
      auto loop = scf::ForOp::create(b, loc, c0, ub, c1);
      b.setInsertionPointToStart(loop.getBody());
      ivs.push_back(loop.getInductionVar());
    }
    body(ivs);
  }
  Value load(Value m, ValueRange ivs) {
    return memref::LoadOp::create(b, loc, m, ivs);
  }
  void store(Value x, Value m, ValueRange ivs) {
    memref::StoreOp::create(b, loc, x, m, ivs);
  }
  void copy(Value from, Value to) {
    loopNest(dims(from),
             [&](ValueRange ivs) { store(load(from, ivs), to, ivs); });
  }
  void fill(Value m, float x) {
    loopNest(dims(m), [&](ValueRange ivs) { store(f(x), m, ivs); });
  }

  /// The index into an operand of shape `s` for result index `ivs` (of
  /// rank >= s's) under numpy broadcasting: a static size-1 dimension
  /// against a larger or dynamic one reads index 0, missing leading
  /// dimensions are skipped.
  SmallVector<Value> broadcastIndex(ArrayRef<int64_t> s,
                                    ArrayRef<int64_t> resultShape,
                                    ValueRange ivs) {
    size_t skip = resultShape.size() - s.size();
    SmallVector<Value> r;
    for (size_t k = 0; k < s.size(); ++k)
      r.push_back(s[k] == 1 && resultShape[skip + k] != 1 ? idx(0)
                                                          : ivs[skip + k]);
    return r;
  }
  /// The sizes of a broadcast result: static from its type, dynamic from
  /// the operand whose aligned dimension is dynamic.
  SmallVector<Value> broadcastSizes(RankedTensorType type,
                                    ArrayRef<Value> operands) {
    SmallVector<Value> r;
    int64_t R = type.getRank();
    for (int64_t d = 0; d < R; ++d) {
      if (!type.isDynamicDim(d)) {
        r.push_back(idx(type.getDimSize(d)));
        continue;
      }
      Value size;
      for (Value m : operands) {
        int64_t k = d - (R - rank(m));
        if (k >= 0 && shape(m)[k] != 1) {
          size = dim(m, k);
          break;
        }
      }
      r.push_back(size ? size : idx(1));
    }
    return r;
  }

  LogicalResult fail(Operation *op, const Twine &why) {
    error = ("'" + op->getName().getStringRef() + "': " + why).str();
    return failure();
  }
  LogicalResult unsupported(Operation *op) {
    error = ("unsupported op '" + op->getName().getStringRef() + "'").str();
    return failure();
  }
  static RankedTensorType tensorType(Value v) {
    return dyn_cast<RankedTensorType>(v.getType());
  }

  /// Records `m` as the buffer of `result`.
  LogicalResult define(Value result, Value m) {
    map.map(result, m);
    return success();
  }

  //===--------------------------------------------------------------------===//
  // Ops
  //===--------------------------------------------------------------------===//

  LogicalResult emitOp(Operation *op) {
    // Every tensor must be f32 (the kernel's only element type).
    auto isBadTensor = [&](Type t) {
      auto tt = dyn_cast<TensorType>(t);
      return tt && (!isa<RankedTensorType>(tt) || tt.getElementType() != f32);
    };
    if (llvm::any_of(op->getOperandTypes(), isBadTensor) ||
        llvm::any_of(op->getResultTypes(), isBadTensor))
      return fail(op, "tensors must be ranked f32");
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(
            [&](auto o) { return emitBinary(o); })
        .Case<ExpOp, LogOp, NegOp, AbsOp, SqrtOp, RsqrtOp, TanhOp, SigmoidOp,
              SiluOp, SoftplusOp, ScaleOp>([&](auto o) { return emitUnary(o); })
        .Case([&](ReshapeOp o) { return emitReshape(o); })
        .Case([&](PermuteOp o) { return emitPermute(o); })
        .Case([&](RepeatOp o) { return emitRepeat(o); })
        .Case([&](SliceOp o) { return emitSlice(o); })
        .Case([&](PadToMultipleOp o) { return emitPadToMultiple(o); })
        .Case([&](CropOp o) { return emitCrop(o); })
        .Case([&](CumsumOp o) { return emitCumsum(o); })
        .Case([&](TriOp o) { return emitTri(o); })
        .Case([&](BatchMatmulOp o) { return emitBatchMatmul(o); })
        .Case([&](SolveTriOp o) { return emitSolveTri(o); })
        .Case([&](tensor::EmptyOp o) { return emitEmpty(o); })
        .Case([&](tensor::DimOp o) { return emitDim(o); })
        .Case([&](tensor::ExtractSliceOp o) { return emitExtractSlice(o); })
        .Case([&](tensor::InsertSliceOp o) { return emitInsertSlice(o); })
        .Case([&](scf::ForOp o) { return emitFor(o); })
        .Default([&](Operation *o) { return emitScalar(o); });
  }

  /// arith ops on scalars (index arithmetic, constants) are copied.
  LogicalResult emitScalar(Operation *op) {
    if (!isa<arith::ArithDialect>(op->getDialect()) || op->getNumRegions())
      return unsupported(op);
    auto shaped = [](Type t) { return isa<ShapedType>(t); };
    if (llvm::any_of(op->getOperandTypes(), shaped) ||
        llvm::any_of(op->getResultTypes(), shaped))
      return unsupported(op);
    b.clone(*op, map);
    return success();
  }

  Value scalarBinary(Operation *op, Value x, Value y) {
    return llvm::TypeSwitch<Operation *, Value>(op)
        .Case([&](AddOp) { return arith::AddFOp::create(b, loc, x, y); })
        .Case([&](SubOp) { return arith::SubFOp::create(b, loc, x, y); })
        .Case([&](MulOp) { return arith::MulFOp::create(b, loc, x, y); })
        .Case([&](DivOp) { return arith::DivFOp::create(b, loc, x, y); })
        .Case([&](MaxOp) { return arith::MaximumFOp::create(b, loc, x, y); })
        .Case([&](MinOp) { return arith::MinimumFOp::create(b, loc, x, y); });
  }
  /// 1 / (1 + exp(-x)), shared by sigmoid and silu.
  Value logistic(Value x) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, f(1.0f),
                                 arith::AddFOp::create(b, loc, f(1.0f), e));
  }
  Value scalarUnary(Operation *op, Value x) {
    return llvm::TypeSwitch<Operation *, Value>(op)
        .Case([&](ExpOp) { return math::ExpOp::create(b, loc, x); })
        .Case([&](LogOp) { return math::LogOp::create(b, loc, x); })
        .Case([&](NegOp) { return arith::NegFOp::create(b, loc, x); })
        .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, x); })
        .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, x); })
        .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, x); })
        .Case([&](TanhOp) {
          // 1 - 2 / (exp(2x) + 1), from exp alone (math.tanh has no direct
          // LLVM lowering in CpuJit's pipeline).
          Value e = math::ExpOp::create(
              b, loc, arith::MulFOp::create(b, loc, x, f(2.0f)));
          Value r = arith::DivFOp::create(
              b, loc, f(2.0f), arith::AddFOp::create(b, loc, e, f(1.0f)));
          return arith::SubFOp::create(b, loc, f(1.0f), r);
        })
        .Case([&](SigmoidOp) { return logistic(x); })
        .Case([&](SiluOp) {
          return arith::MulFOp::create(b, loc, x, logistic(x));
        })
        .Case([&](SoftplusOp) {
          // ggml: x > 20 ? x : log(1 + exp(x)).
          Value l = math::LogOp::create(
              b, loc,
              arith::AddFOp::create(b, loc, f(1.0f),
                                    math::ExpOp::create(b, loc, x)));
          Value big = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                            x, f(20.0f));
          return arith::SelectOp::create(b, loc, big, x, l);
        })
        .Case([&](ScaleOp s) {
          return arith::MulFOp::create(b, loc, x,
                                       f(s.getFactor().convertToFloat()));
        });
  }

  LogicalResult emitBinary(Operation *op) {
    Value x = map.lookup(op->getOperand(0)), y = map.lookup(op->getOperand(1));
    RankedTensorType type = tensorType(op->getResult(0));
    Value out = alloc(type, broadcastSizes(type, {x, y}));
    loopNest(dims(out), [&](ValueRange ivs) {
      Value a = load(x, broadcastIndex(shape(x), type.getShape(), ivs));
      Value c = load(y, broadcastIndex(shape(y), type.getShape(), ivs));
      store(scalarBinary(op, a, c), out, ivs);
    });
    return define(op->getResult(0), out);
  }

  LogicalResult emitUnary(Operation *op) {
    Value x = map.lookup(op->getOperand(0));
    Value out = allocLike(x);
    loopNest(dims(out), [&](ValueRange ivs) {
      store(scalarUnary(op, load(x, ivs)), out, ivs);
    });
    return define(op->getResult(0), out);
  }

  /// A view: the operand is contiguous, so only sizes and strides change.
  LogicalResult emitReshape(ReshapeOp op) {
    Value x = map.lookup(op.getInput());
    RankedTensorType type = op.getType();
    ArrayRef<int64_t> s = type.getShape();
    if (llvm::count(s, kDyn) > 1)
      return fail(op, "more than one dynamic result dimension");
    SmallVector<OpFoldResult> sizes, strides(s.size());
    Value dynSize;
    if (llvm::is_contained(s, kDyn)) {
      Value total = idx(1);
      for (Value d : dims(x))
        total = mulI(total, d);
      int64_t known = 1;
      for (int64_t d : s)
        if (!ShapedType::isDynamic(d))
          known *= d;
      dynSize = arith::DivUIOp::create(b, loc, total, idx(known));
    }
    for (int64_t d : s)
      sizes.push_back(ShapedType::isDynamic(d) ? OpFoldResult(dynSize)
                                               : b.getIndexAttr(d));
    // Row-major strides; a stride over a dynamic dimension is a value.
    OpFoldResult stride = b.getIndexAttr(1);
    for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
      strides[d] = stride;
      auto st = dyn_cast<Attribute>(stride);
      if (st && !ShapedType::isDynamic(s[d]))
        stride = b.getIndexAttr(cast<IntegerAttr>(st).getInt() * s[d]);
      else
        stride = OpFoldResult(mulI(toValue(stride), toValue(sizes[d])));
    }
    auto mt = MemRefType::get(s, f32);
    Value view = memref::ReinterpretCastOp::create(
        b, loc, mt, x, b.getIndexAttr(0), sizes, strides);
    return define(op.getResult(), view);
  }
  Value toValue(OpFoldResult r) {
    if (auto v = dyn_cast<Value>(r))
      return v;
    return idx(cast<IntegerAttr>(cast<Attribute>(r)).getInt());
  }

  LogicalResult emitPermute(PermuteOp op) {
    Value x = map.lookup(op.getInput());
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<Value> in = dims(x), sizes;
    for (int64_t p : perm)
      sizes.push_back(in[p]);
    Value out = alloc(op.getType(), sizes);
    loopNest(sizes, [&](ValueRange ivs) {
      SmallVector<Value> src(ivs.size());
      for (auto [d, p] : llvm::enumerate(perm))
        src[p] = ivs[d];
      store(load(x, src), out, ivs);
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitRepeat(RepeatOp op) {
    Value x = map.lookup(op.getInput());
    ArrayRef<int64_t> mult = op.getMultiples();
    ArrayRef<int64_t> in = shape(x);
    SmallVector<Value> inSizes = dims(x), sizes;
    for (auto [d, m] : llvm::enumerate(mult))
      sizes.push_back(m == 1 ? inSizes[d] : mulI(inSizes[d], idx(m)));
    Value out = alloc(op.getType(), sizes);
    loopNest(sizes, [&](ValueRange ivs) {
      SmallVector<Value> src;
      for (auto [d, m] : llvm::enumerate(mult)) {
        if (m == 1)
          src.push_back(ivs[d]);
        else if (in[d] == 1)
          src.push_back(idx(0));
        else
          src.push_back(arith::RemUIOp::create(b, loc, ivs[d], inSizes[d]));
      }
      store(load(x, src), out, ivs);
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitSlice(SliceOp op) {
    Value x = map.lookup(op.getInput());
    ArrayRef<int64_t> offsets = op.getOffsets(), sizes = op.getSizes(),
                      strides = op.getStrides();
    RankedTensorType type = op.getType();
    SmallVector<Value> outSizes;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        outSizes.push_back(idx(type.getDimSize(d)));
        continue;
      }
      if (sizes[d] != -1) {
        outSizes.push_back(idx(sizes[d]));
        continue;
      }
      // As many as fit: ceil((n - offset) / stride).
      Value n = arith::SubIOp::create(b, loc, dim(x, d), idx(offsets[d]));
      outSizes.push_back(ceilDiv(n, strides[d]));
    }
    Value out = alloc(type, outSizes);
    loopNest(outSizes, [&](ValueRange ivs) {
      SmallVector<Value> src;
      for (auto [d, iv] : llvm::enumerate(ivs))
        src.push_back(addI(idx(offsets[d]), mulI(iv, idx(strides[d]))));
      store(load(x, src), out, ivs);
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitPadToMultiple(PadToMultipleOp op) {
    Value x = map.lookup(op.getInput());
    int64_t d = op.getDim(), m = op.getMultiple();
    SmallVector<Value> sizes = dims(x);
    sizes[d] = mulI(ceilDiv(sizes[d], m), idx(m));
    Value out = alloc(op.getType(), sizes);
    // Zeros for the padded rows only, then the input.
    SmallVector<Value> tail = sizes;
    Value n = dim(x, d);
    tail[d] = arith::SubIOp::create(b, loc, sizes[d], n);
    loopNest(tail, [&](ValueRange ivs) {
      SmallVector<Value> at(ivs);
      at[d] = addI(ivs[d], n);
      store(f(0.0f), out, at);
    });
    loopNest(dims(x), [&](ValueRange ivs) { store(load(x, ivs), out, ivs); });
    return define(op.getResult(), out);
  }

  LogicalResult emitCrop(CropOp op) {
    Value x = map.lookup(op.getInput()), like = map.lookup(op.getLike());
    if (!like)
      return fail(op, "the reference operand has no buffer");
    SmallVector<Value> sizes = dims(x);
    sizes[op.getDim()] = dim(like, op.getDim());
    Value out = alloc(op.getType(), sizes);
    loopNest(sizes, [&](ValueRange ivs) { store(load(x, ivs), out, ivs); });
    return define(op.getResult(), out);
  }

  /// out[i] = in[i] + out[i - 1] along `dim`; the loop nest visits i - 1
  /// (with the same other indices) before i.
  LogicalResult emitCumsum(CumsumOp op) {
    Value x = map.lookup(op.getInput());
    int64_t d = op.getDim();
    Value out = allocLike(x);
    loopNest(dims(x), [&](ValueRange ivs) {
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          ivs[d], idx(0));
      SmallVector<Value> prev(ivs);
      prev[d] = arith::SelectOp::create(
          b, loc, first, idx(0), arith::SubIOp::create(b, loc, ivs[d], idx(1)));
      Value p =
          arith::SelectOp::create(b, loc, first, f(0.0f), load(out, prev));
      store(arith::AddFOp::create(b, loc, load(x, ivs), p), out, ivs);
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitTri(TriOp op) {
    Value x = map.lookup(op.getInput());
    int64_t r = rank(x);
    Value out = allocLike(x);
    arith::CmpIPredicate pred;
    switch (op.getKind()) { // keep element (i, j) when `j pred i`
    case TriKind::lower:
      pred = arith::CmpIPredicate::ult;
      break;
    case TriKind::lower_diag:
      pred = arith::CmpIPredicate::ule;
      break;
    case TriKind::upper:
      pred = arith::CmpIPredicate::ugt;
      break;
    case TriKind::upper_diag:
      pred = arith::CmpIPredicate::uge;
      break;
    }
    loopNest(dims(x), [&](ValueRange ivs) {
      Value keep = arith::CmpIOp::create(b, loc, pred, ivs[r - 1], ivs[r - 2]);
      store(arith::SelectOp::create(b, loc, keep, load(x, ivs), f(0.0f)), out,
            ivs);
    });
    return define(op.getResult(), out);
  }

  /// out[b, m, n] = sum_k lhs[b, m, k] rhs[b, k, n] in the order b, m, k, n:
  /// the innermost loop runs over the contiguous n of rhs and out (a
  /// transposed rhs is transposed into a buffer first).
  LogicalResult emitBatchMatmul(BatchMatmulOp op) {
    Value lhs = map.lookup(op.getLhs()), rhs = map.lookup(op.getRhs());
    int64_t rl = rank(lhs), rr = rank(rhs);
    if (op.getTransposeRhs()) {
      SmallVector<Value> sizes = dims(rhs);
      std::swap(sizes[rr - 1], sizes[rr - 2]);
      SmallVector<int64_t> s(shape(rhs));
      std::swap(s[rr - 1], s[rr - 2]);
      Value t = alloc(RankedTensorType::get(s, f32), sizes);
      loopNest(sizes, [&](ValueRange ivs) {
        SmallVector<Value> src(ivs);
        std::swap(src[rr - 1], src[rr - 2]);
        store(load(rhs, src), t, ivs);
      });
      rhs = t;
    }
    RankedTensorType type = op.getType();
    int64_t R = type.getRank();
    // Batch sizes broadcast like the elementwise ops (the operands' batch
    // parts only); M from lhs, N from rhs.
    SmallVector<int64_t> batchShape(type.getShape().drop_back(2));
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < R - 2; ++d) {
      if (!type.isDynamicDim(d)) {
        sizes.push_back(idx(type.getDimSize(d)));
        continue;
      }
      Value size = idx(1);
      for (Value m : {lhs, rhs}) {
        int64_t k = d - (R - rank(m));
        if (k >= 0 && shape(m)[k] != 1) {
          size = dim(m, k);
          break;
        }
      }
      sizes.push_back(size);
    }
    Value M = dim(lhs, rl - 2), K = dim(lhs, rl - 1), N = dim(rhs, rr - 1);
    sizes.push_back(M);
    sizes.push_back(N);
    Value out = alloc(type, sizes);
    fill(out, 0.0f);
    SmallVector<Value> outer(ArrayRef<Value>(sizes).drop_back());
    loopNest(outer, [&](ValueRange ivs) { // batch..., m
      ValueRange batch = ivs.drop_back();
      Value m = ivs.back();
      SmallVector<Value> li = broadcastIndex(shape(lhs).drop_back(2),
                                             batchShape, batch),
                         ri = broadcastIndex(shape(rhs).drop_back(2),
                                             batchShape, batch);
      loopNest({K}, [&](ValueRange kv) {
        SmallVector<Value> la(li);
        la.push_back(m);
        la.push_back(kv[0]);
        Value a = load(lhs, la);
        loopNest({N}, [&](ValueRange nv) {
          SmallVector<Value> rb(ri), oi(batch);
          rb.push_back(kv[0]);
          rb.push_back(nv[0]);
          oi.push_back(m);
          oi.push_back(nv[0]);
          Value acc = arith::AddFOp::create(
              b, loc, load(out, oi),
              arith::MulFOp::create(b, loc, a, load(rhs, rb)));
          store(acc, out, oi);
        });
      });
    });
    return define(op.getResult(), out);
  }
  /// Forward substitution per batch: X[i] = B[i] - sum_{t<i} A[i][t] X[t]
  /// (then / A[i][i] unless unit_diagonal); the innermost loop runs over the
  /// contiguous columns of X.
  LogicalResult emitSolveTri(SolveTriOp op) {
    Value A = map.lookup(op.getA()), B = map.lookup(op.getB());
    int64_t r = rank(B);
    Value X = allocLike(B);
    SmallVector<Value> sizes = dims(B);
    Value n = sizes[r - 2], cols = sizes[r - 1];
    SmallVector<Value> batch(ArrayRef<Value>(sizes).drop_back(2));
    batch.push_back(n);
    bool unit = op.getUnitDiagonal();
    loopNest(batch, [&](ValueRange ivs) { // batch..., i
      SmallVector<Value> bi(ivs.drop_back());
      Value i = ivs.back();
      auto at = [&](Value row, Value col) {
        SmallVector<Value> x(bi);
        x.push_back(row);
        x.push_back(col);
        return x;
      };
      loopNest({cols}, [&](ValueRange c) {
        store(load(B, at(i, c[0])), X, at(i, c[0]));
      });
      loopNest({i}, [&](ValueRange t) {
        Value a = load(A, at(i, t[0]));
        loopNest({cols}, [&](ValueRange c) {
          Value y = arith::SubFOp::create(
              b, loc, load(X, at(i, c[0])),
              arith::MulFOp::create(b, loc, a, load(X, at(t[0], c[0]))));
          store(y, X, at(i, c[0]));
        });
      });
      if (!unit) {
        Value diag = load(A, at(i, i));
        loopNest({cols}, [&](ValueRange c) {
          store(arith::DivFOp::create(b, loc, load(X, at(i, c[0])), diag), X,
                at(i, c[0]));
        });
      }
    });
    return define(op.getResult(), X);
  }

  LogicalResult emitEmpty(tensor::EmptyOp op) {
    RankedTensorType type = op.getType();
    SmallVector<Value> sizes;
    auto dyn = op.getDynamicSizes().begin();
    for (int64_t s : type.getShape())
      sizes.push_back(ShapedType::isDynamic(s) ? map.lookup(*dyn++) : idx(s));
    return define(op.getResult(), alloc(type, sizes));
  }

  LogicalResult emitDim(tensor::DimOp op) {
    Value m = map.lookup(op.getSource());
    map.map(op.getResult(),
            memref::DimOp::create(b, loc, m, map.lookup(op.getIndex())));
    return success();
  }

  Value ofr(OpFoldResult r) {
    if (auto v = dyn_cast<Value>(r))
      return map.lookup(v);
    return idx(cast<IntegerAttr>(cast<Attribute>(r)).getInt());
  }

  /// A copy of the window (a chunk is a small fraction of its tensor, and
  /// every chunk is read once, so the copies add up to one pass).
  LogicalResult emitExtractSlice(tensor::ExtractSliceOp op) {
    Value x = map.lookup(op.getSource());
    llvm::SmallBitVector dropped = op.getDroppedDims();
    SmallVector<Value> offsets, sizes, strides, outSizes;
    for (auto [o, s, st] : llvm::zip(op.getMixedOffsets(), op.getMixedSizes(),
                                     op.getMixedStrides())) {
      offsets.push_back(ofr(o));
      sizes.push_back(ofr(s));
      strides.push_back(ofr(st));
    }
    for (auto [d, s] : llvm::enumerate(sizes))
      if (!dropped.test(d))
        outSizes.push_back(s);
    Value out = alloc(op.getType(), outSizes);
    loopNest(outSizes, [&](ValueRange ivs) {
      store(load(x, sliceIndex(offsets, strides, dropped, ivs)), out, ivs);
    });
    return define(op.getResult(), out);
  }
  SmallVector<Value> sliceIndex(ArrayRef<Value> offsets,
                                ArrayRef<Value> strides,
                                const llvm::SmallBitVector &dropped,
                                ValueRange ivs) {
    SmallVector<Value> r;
    size_t j = 0;
    for (size_t d = 0; d < offsets.size(); ++d)
      r.push_back(dropped.test(d)
                      ? offsets[d]
                      : addI(offsets[d], mulI(ivs[j++], strides[d])));
    return r;
  }

  LogicalResult emitInsertSlice(tensor::InsertSliceOp op) {
    Value src = map.lookup(op.getSource()), dest = map.lookup(op.getDest());
    // In place when nothing else can see the destination's buffer.
    Value out = dest;
    if (!owned.contains(dest) || !op.getDest().hasOneUse()) {
      out = allocLike(dest);
      copy(dest, out);
    }
    llvm::SmallBitVector dropped = op.getDroppedDims();
    SmallVector<Value> offsets, strides;
    for (auto [o, st] : llvm::zip(op.getMixedOffsets(), op.getMixedStrides())) {
      offsets.push_back(ofr(o));
      strides.push_back(ofr(st));
    }
    loopNest(dims(src), [&](ValueRange ivs) {
      store(load(src, ivs), out, sliceIndex(offsets, strides, dropped, ivs));
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitFor(scf::ForOp op) {
    SmallVector<Value> carried;
    for (Value init : op.getInitArgs()) {
      if (!isa<RankedTensorType>(init.getType()))
        return fail(op, "only tensors may be loop-carried");
      Value m = map.lookup(init);
      if (owned.contains(m) && init.hasOneUse()) {
        carried.push_back(m);
      } else {
        Value c = allocLike(m);
        copy(m, c);
        carried.push_back(c);
      }
    }
    auto loop = scf::ForOp::create(b, loc, map.lookup(op.getLowerBound()),
                                   map.lookup(op.getUpperBound()),
                                   map.lookup(op.getStep()));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      map.map(op.getInductionVar(), loop.getInductionVar());
      for (auto [arg, c] : llvm::zip(op.getRegionIterArgs(), carried))
        map.map(arg, c);
      pushScope();
      if (failed(emitBlock(*op.getBody())))
        return failure();
      auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
      for (auto [y, c] : llvm::zip(yield.getOperands(), carried))
        if (Value m = map.lookup(y); m != c)
          copy(m, c);
      popScope();
    }
    for (auto [r, c] : llvm::zip(op.getResults(), carried))
      map.map(r, c);
    return success();
  }

  OpBuilder &b;
  Location loc;
  Type f32;
  /// Buffers allocated per scope (kernel, loop body), freed at its end.
  SmallVector<SmallVector<Value>> scopes;
  /// Buffers that hold their own storage (not views, not arguments).
  llvm::DenseSet<Value> owned;
};

llvm::Error kernelError(func::FuncOp source, const Twine &what) {
  return llvm::createStringError("cannot generate a loop kernel for @" +
                                 source.getSymName() + ": " + what);
}

} // namespace

llvm::Error emitLoopKernel(func::FuncOp source, ModuleOp into, StringRef name) {
  MLIRContext *ctx = source.getContext();
  loadKernelDialects(*ctx);
  if (!source.getBody().hasOneBlock())
    return kernelError(source, "the body must be one block");
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> argTypes;
  SmallVector<Type> tensorTypes(source.getArgumentTypes());
  llvm::append_range(tensorTypes, source.getResultTypes());
  for (Type t : tensorTypes) {
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor || tensor.getElementType() != f32)
      return kernelError(source, "arguments and results must be f32 ranked "
                                 "tensors");
    argTypes.push_back(MemRefType::get(tensor.getShape(), f32));
  }

  OpBuilder b(ctx);
  b.setInsertionPointToEnd(into.getBody());
  Location loc = source.getLoc();
  auto kernel =
      func::FuncOp::create(b, loc, name, b.getFunctionType(argTypes, {}));
  kernel->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  b.setInsertionPointToStart(entry);

  Emitter emitter(b, loc);
  unsigned nArgs = source.getNumArguments();
  for (auto [arg, m] : llvm::zip(source.getArguments(),
                                 entry->getArguments().take_front(nArgs)))
    emitter.bindArgument(arg, m);
  emitter.pushScope();
  Block &body = source.getBody().front();
  if (failed(emitter.emitBlock(body))) {
    kernel.erase();
    return kernelError(source, emitter.error);
  }
  // Results last: everything that reads the arguments has run.
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (auto [v, out] :
       llvm::zip(ret.getOperands(), entry->getArguments().drop_front(nArgs)))
    emitter.copyOut(v, out);
  emitter.popScope();
  func::ReturnOp::create(b, loc);
  return llvm::Error::success();
}

} // namespace qn::codegen

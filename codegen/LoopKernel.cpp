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
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qn::codegen {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// An elementwise op (its scalar formula is its buildScalar).
bool isElementwise(Operation *op) {
  return isa<ScalarElementwiseOpInterface>(op);
}

/// An elementwise op of two operands, which broadcast numpy-style.
bool isBroadcastBinary(Operation *op) {
  return isElementwise(op) && op->getNumOperands() == 2;
}

/// Ops whose element at an index is a cheap function of their operands'
/// elements: they can be left unmaterialized and evaluated inside their
/// consumer's loop nest.
bool isFusible(Operation *op) {
  return isElementwise(op) || isa<RepeatOp, PermuteOp, TriOp, CropOp, SliceOp,
                                  tensor::ExtractSliceOp>(op);
}

/// Uses that only read the shape (no element).
bool isShapeUse(OpOperand &use) {
  Operation *user = use.getOwner();
  return isa<tensor::DimOp>(user) ||
         (isa<CropOp>(user) && use.getOperandNumber() == 1);
}

/// Whether the user reads each element of the operand at most once, so that
/// evaluating the operand inside the user's loop nest costs nothing extra.
bool readsOnce(OpOperand &use) {
  Operation *user = use.getOwner();
  if (isBroadcastBinary(user)) {
    // No broadcasting of this operand (a broadcast operand is read again for
    // every index along the broadcast dimension).
    ArrayRef<int64_t> s =
        cast<RankedTensorType>(use.get().getType()).getShape();
    ArrayRef<int64_t> r =
        cast<RankedTensorType>(user->getResult(0).getType()).getShape();
    if (s.size() != r.size())
      return false;
    for (auto [a, c] : llvm::zip(s, r))
      if (a == 1 && c != 1)
        return false;
    return true;
  }
  if (isa<SolveTriOp>(user)) // B is read once, A many times
    return use.getOperandNumber() == 1;
  if (isa<tensor::InsertSliceOp>(user)) // the source
    return use.getOperandNumber() == 0;
  return isElementwise(user) || // of one operand (two: above)
         isa<PermuteOp, TriOp, CropOp, SliceOp, tensor::ExtractSliceOp,
             PadToMultipleOp, CumsumOp>(user);
}

/// A fusible value is left unmaterialized when its one element-reading use
/// reads each element once.
bool staysLazy(Operation *op) {
  if (!isFusible(op))
    return false;
  OpOperand *reader = nullptr;
  for (OpOperand &use : op->getResult(0).getUses()) {
    if (isShapeUse(use))
      continue;
    if (reader)
      return false;
    reader = &use;
  }
  return reader && readsOnce(*reader);
}

class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc) { f32 = b.getF32Type(); }

  /// Why emission failed.
  std::string error;

  void bindArgument(Value tensor, Value memref) { map.map(tensor, memref); }
  void pushScope() { scopes.emplace_back(); }
  /// Frees the buffers allocated since the matching pushScope.
  void popScope() {
    for (Value m : scopes.back())
      memref::DeallocOp::create(b, loc, m);
    scopes.pop_back();
    // Transposes made in the scope are gone with it.
    transposed.remove_if(
        [&](auto &entry) { return entry.second.second > scopes.size(); });
  }

  /// Emits every op of `block` but its terminator.
  LogicalResult emitBlock(Block &block) {
    for (Operation &op : block.without_terminator())
      if (failed(emitOp(&op)))
        return failure();
    return success();
  }

  /// Writes the value `v` into `out` (same shape).
  void copyOut(Value v, Value out) { copyInto(v, out); }

private:
  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  Value idx(int64_t x) { return arith::ConstantIndexOp::create(b, loc, x); }
  Value f(float x) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(x));
  }
  /// The (source) tensor shape of a value.
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
  /// The sizes of source value `v`, materialized or not.
  SmallVector<Value> sizesOf(Value v) {
    auto it = lazy.find(v);
    if (it != lazy.end())
      return it->second.sizes;
    Value m = map.lookup(v);
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

  /// A buffer of `shape`; `sizes` gives every dimension (only the dynamic
  /// ones are used). Freed when the current scope ends.
  Value alloc(ArrayRef<int64_t> shape, ArrayRef<Value> sizes) {
    SmallVector<Value> dynamic;
    for (auto [d, s] : llvm::enumerate(shape))
      if (ShapedType::isDynamic(s))
        dynamic.push_back(sizes[d]);
    auto mt = MemRefType::get(shape, f32);
    Value m =
        memref::AllocOp::create(b, loc, mt, dynamic, b.getI64IntegerAttr(64));
    scopes.back().push_back(m);
    owned.insert(m);
    return m;
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
  /// out[ivs] = v[ivs] over v's shape.
  void copyInto(Value v, Value out) {
    loopNest(sizesOf(v), [&](ValueRange ivs) { store(at(v, ivs), out, ivs); });
  }

  /// The buffer of source value `v` (materializing a lazy one; by
  /// staysLazy's rule only uses that read each element once see lazy
  /// values, so this is a fallback).
  Value buffer(Value v) {
    if (!lazy.count(v))
      return map.lookup(v);
    Value m = alloc(shape(v), sizesOf(v));
    copyInto(v, m);
    return m;
  }

  /// The element of source value `v` at `ivs`: a load, or the lazy op's
  /// formula on its operands' elements.
  Value at(Value v, ValueRange ivs) {
    auto it = lazy.find(v);
    if (it == lazy.end())
      return load(map.lookup(v), ivs);
    return elementOf(it->second.op, ivs);
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
  /// The sizes of a broadcast result of rank `resultShape.size()` (of which
  /// the last `trailing` dimensions are skipped): static from its type,
  /// dynamic from an operand whose aligned dimension is not 1.
  SmallVector<Value> broadcastSizes(ArrayRef<int64_t> resultShape,
                                    ArrayRef<Value> operands,
                                    int64_t trailing = 0) {
    SmallVector<Value> r;
    int64_t R = resultShape.size();
    for (int64_t d = 0; d + trailing < R; ++d) {
      if (!ShapedType::isDynamic(resultShape[d])) {
        r.push_back(idx(resultShape[d]));
        continue;
      }
      Value size;
      for (Value v : operands) {
        int64_t k = d - (R - rank(v));
        if (k >= 0 && shape(v)[k] != 1) {
          size = sizesOf(v)[k];
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

  /// Records `m` as the buffer of `result`.
  LogicalResult define(Value result, Value m) {
    map.map(result, m);
    return success();
  }

  Value ofr(OpFoldResult r) {
    if (auto v = dyn_cast<Value>(r))
      return map.lookup(v);
    return idx(cast<IntegerAttr>(cast<Attribute>(r)).getInt());
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
    if (isFusible(op))
      return emitFusible(op);
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](ReshapeOp o) { return emitReshape(o); })
        .Case([&](PadToMultipleOp o) { return emitPadToMultiple(o); })
        .Case([&](CumsumOp o) { return emitCumsum(o); })
        .Case([&](BatchMatmulOp o) { return emitBatchMatmul(o); })
        .Case([&](SolveTriOp o) { return emitSolveTri(o); })
        .Case([&](tensor::EmptyOp o) { return emitEmpty(o); })
        .Case([&](tensor::DimOp o) { return emitDim(o); })
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

  //===--------------------------------------------------------------------===//
  // Fusible ops: sizes now, elements where they are read
  //===--------------------------------------------------------------------===//

  LogicalResult emitFusible(Operation *op) {
    Value result = op->getResult(0);
    // A view when possible: a chunk of a buffer is a contiguous window.
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
      if (!staysLazy(op))
        if (Value view = contiguousWindow(slice))
          return define(result, view);
    lazy[result] = Lazy{op, resultSizes(op)};
    if (staysLazy(op))
      return success();
    Value m = alloc(shape(result), lazy[result].sizes);
    copyInto(result, m);
    lazy.erase(result);
    return define(result, m);
  }

  SmallVector<Value> resultSizes(Operation *op) {
    ArrayRef<int64_t> rs = shape(op->getResult(0));
    if (isBroadcastBinary(op))
      return broadcastSizes(rs, {op->getOperand(0), op->getOperand(1)});
    return llvm::TypeSwitch<Operation *, SmallVector<Value>>(op)
        .Case([&](RepeatOp o) {
          SmallVector<Value> r = sizesOf(o.getInput());
          for (auto [d, m] : llvm::enumerate(o.getMultiples()))
            if (m != 1)
              r[d] = mulI(r[d], idx(m));
          return r;
        })
        .Case([&](PermuteOp o) {
          SmallVector<Value> in = sizesOf(o.getInput()), r;
          for (int64_t p : o.getPermutation())
            r.push_back(in[p]);
          return r;
        })
        .Case([&](CropOp o) {
          SmallVector<Value> r = sizesOf(o.getInput());
          r[o.getDim()] = sizesOf(o.getLike())[o.getDim()];
          return r;
        })
        .Case([&](SliceOp o) {
          SmallVector<Value> in = sizesOf(o.getInput()), r;
          for (auto [d, s] : llvm::enumerate(rs)) {
            if (!ShapedType::isDynamic(s))
              r.push_back(idx(s));
            else if (o.getSizes()[d] != -1)
              r.push_back(idx(o.getSizes()[d]));
            else // as many as fit: ceil((n - offset) / stride)
              r.push_back(ceilDiv(
                  arith::SubIOp::create(b, loc, in[d], idx(o.getOffsets()[d])),
                  o.getStrides()[d]));
          }
          return r;
        })
        .Case([&](tensor::ExtractSliceOp o) {
          llvm::SmallBitVector dropped = o.getDroppedDims();
          SmallVector<Value> r;
          for (auto [d, s] : llvm::enumerate(o.getMixedSizes()))
            if (!dropped.test(d))
              r.push_back(ofr(s));
          return r;
        })
        .Default([&](Operation *o) { return sizesOf(o->getOperand(0)); });
  }

  Value elementOf(Operation *op, ValueRange ivs) {
    ArrayRef<int64_t> rs = shape(op->getResult(0));
    if (auto e = dyn_cast<ScalarElementwiseOpInterface>(op)) {
      // The operands' elements (broadcast), then the op's one formula.
      SmallVector<Value, 2> in;
      for (Value x : op->getOperands())
        in.push_back(at(x, broadcastIndex(shape(x), rs, ivs)));
      return e.buildScalar(b, loc, in);
    }
    return llvm::TypeSwitch<Operation *, Value>(op)
        .Case([&](RepeatOp o) {
          Value x = o.getInput();
          SmallVector<Value> in = sizesOf(x), src;
          for (auto [d, m] : llvm::enumerate(o.getMultiples())) {
            if (m == 1)
              src.push_back(ivs[d]);
            else if (shape(x)[d] == 1)
              src.push_back(idx(0));
            else
              src.push_back(arith::RemUIOp::create(b, loc, ivs[d], in[d]));
          }
          return at(x, src);
        })
        .Case([&](PermuteOp o) {
          SmallVector<Value> src(ivs.size());
          for (auto [d, p] : llvm::enumerate(o.getPermutation()))
            src[p] = ivs[d];
          return at(o.getInput(), src);
        })
        .Case([&](TriOp o) { return triElement(o, ivs); })
        .Case([&](CropOp o) { return at(o.getInput(), ivs); })
        .Case([&](SliceOp o) {
          SmallVector<Value> src;
          for (auto [d, iv] : llvm::enumerate(ivs))
            src.push_back(
                addI(idx(o.getOffsets()[d]), mulI(iv, idx(o.getStrides()[d]))));
          return at(o.getInput(), src);
        })
        .Case([&](tensor::ExtractSliceOp o) {
          SmallVector<Value> offsets, strides;
          for (OpFoldResult r : o.getMixedOffsets())
            offsets.push_back(ofr(r));
          for (OpFoldResult r : o.getMixedStrides())
            strides.push_back(ofr(r));
          return at(o.getSource(),
                    sliceIndex(offsets, strides, o.getDroppedDims(), ivs));
        })
        .Default([&](Operation *) { return Value(); });
  }

  Value triElement(TriOp op, ValueRange ivs) {
    size_t r = ivs.size();
    arith::CmpIPredicate pred = arith::CmpIPredicate::ult;
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
    Value keep = arith::CmpIOp::create(b, loc, pred, ivs[r - 1], ivs[r - 2]);
    return arith::SelectOp::create(b, loc, keep, at(op.getInput(), ivs),
                                   f(0.0f));
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

  /// A slice of a row-major buffer that is one contiguous run (unit
  /// strides, full extent in every dimension after the first sliced one,
  /// e.g. one chunk [c, :, :, :]) as a view at an offset; null otherwise.
  Value contiguousWindow(tensor::ExtractSliceOp op) {
    if (lazy.count(op.getSource()))
      return nullptr;
    Value src = map.lookup(op.getSource());
    auto mt = cast<MemRefType>(src.getType());
    if (!mt.getLayout().isIdentity() || !op.hasUnitStride())
      return nullptr;
    ArrayRef<int64_t> srcShape = mt.getShape();
    SmallVector<OpFoldResult> sizes = op.getMixedSizes();
    // Dimensions 0..k-1 have size 1; k.. must be taken whole.
    size_t k = 0;
    while (k < sizes.size() && isConstantIntValue(sizes[k], 1))
      ++k;
    for (size_t d = k; d < sizes.size(); ++d) {
      if (ShapedType::isDynamic(srcShape[d]) ||
          !isConstantIntValue(sizes[d], srcShape[d]) ||
          !isConstantIntValue(op.getMixedOffsets()[d], 0))
        return nullptr;
    }
    // Row-major strides of the source; the offset is sum offset[d] * stride.
    SmallVector<int64_t> strides(srcShape.size(), 1);
    for (int64_t d = static_cast<int64_t>(srcShape.size()) - 2; d >= 0; --d) {
      if (ShapedType::isDynamic(srcShape[d + 1]))
        return nullptr;
      strides[d] = strides[d + 1] * srcShape[d + 1];
    }
    Value offset = idx(0);
    for (auto [d, o] : llvm::enumerate(op.getMixedOffsets()))
      offset = addI(offset, mulI(ofr(o), idx(strides[d])));
    ArrayRef<int64_t> rs = op.getType().getShape();
    SmallVector<int64_t> viewStrides;
    SmallVector<OpFoldResult> viewSizes, viewStrideAttrs;
    llvm::SmallBitVector dropped = op.getDroppedDims();
    for (size_t d = 0; d < srcShape.size(); ++d)
      if (!dropped.test(d))
        viewStrides.push_back(strides[d]);
    for (auto [s, st] : llvm::zip(rs, viewStrides)) {
      viewSizes.push_back(b.getIndexAttr(s));
      viewStrideAttrs.push_back(b.getIndexAttr(st));
    }
    auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                         viewStrides);
    auto viewType = MemRefType::get(rs, f32, layout);
    return memref::ReinterpretCastOp::create(b, loc, viewType, src, offset,
                                             viewSizes, viewStrideAttrs);
  }

  //===--------------------------------------------------------------------===//
  // Ops that write their own buffer
  //===--------------------------------------------------------------------===//

  /// A view of a contiguous operand (materialized first if it is lazy or a
  /// strided view): only sizes and strides change.
  LogicalResult emitReshape(ReshapeOp op) {
    Value x = buffer(op.getInput());
    if (!cast<MemRefType>(x.getType()).getLayout().isIdentity()) {
      Value c = alloc(shape(x), sizesOf(op.getInput()));
      loopNest(sizesOf(op.getInput()),
               [&](ValueRange ivs) { store(load(x, ivs), c, ivs); });
      x = c;
    }
    SmallVector<Value> inSizes = sizesOf(op.getInput());
    RankedTensorType type = op.getType();
    ArrayRef<int64_t> s = type.getShape();
    if (llvm::count(s, kDyn) > 1)
      return fail(op, "more than one dynamic result dimension");
    SmallVector<OpFoldResult> sizes, strides(s.size());
    Value dynSize;
    if (llvm::is_contained(s, kDyn)) {
      Value total = idx(1);
      for (Value d : inSizes)
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

  LogicalResult emitPadToMultiple(PadToMultipleOp op) {
    Value x = op.getInput();
    int64_t d = op.getDim(), m = op.getMultiple();
    SmallVector<Value> sizes = sizesOf(x);
    Value n = sizes[d];
    sizes[d] = mulI(ceilDiv(n, m), idx(m));
    Value out = alloc(shape(op.getResult()), sizes);
    // Zeros for the padded rows only, then the input.
    SmallVector<Value> tail = sizes;
    tail[d] = arith::SubIOp::create(b, loc, sizes[d], n);
    loopNest(tail, [&](ValueRange ivs) {
      SmallVector<Value> where(ivs);
      where[d] = addI(ivs[d], n);
      store(f(0.0f), out, where);
    });
    copyInto(x, out);
    return define(op.getResult(), out);
  }

  /// out[i] = in[i] + out[i - 1] along `dim`; the loop nest visits i - 1
  /// (with the same other indices) before i.
  LogicalResult emitCumsum(CumsumOp op) {
    Value x = op.getInput();
    int64_t d = op.getDim();
    SmallVector<Value> sizes = sizesOf(x);
    Value out = alloc(shape(x), sizes);
    loopNest(sizes, [&](ValueRange ivs) {
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          ivs[d], idx(0));
      SmallVector<Value> prev(ivs);
      prev[d] = arith::SelectOp::create(
          b, loc, first, idx(0), arith::SubIOp::create(b, loc, ivs[d], idx(1)));
      // At i = 0 the load reads out[0] before it is written; the select
      // discards it.
      Value p =
          arith::SelectOp::create(b, loc, first, f(0.0f), load(out, prev));
      store(arith::AddFOp::create(b, loc, at(x, ivs), p), out, ivs);
    });
    return define(op.getResult(), out);
  }

  /// `m` with its last two dimensions swapped, in a buffer (cached per
  /// source buffer: the chunked form transposes K for two products).
  Value transposedCopy(Value m) {
    auto it = transposed.find(m);
    if (it != transposed.end())
      return it->second.first;
    int64_t r = rank(m);
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < r; ++d)
      sizes.push_back(dim(m, d));
    std::swap(sizes[r - 1], sizes[r - 2]);
    SmallVector<int64_t> s(shape(m));
    std::swap(s[r - 1], s[r - 2]);
    Value t = alloc(s, sizes);
    loopNest(sizes, [&](ValueRange ivs) {
      SmallVector<Value> src(ivs);
      std::swap(src[r - 1], src[r - 2]);
      store(load(m, src), t, ivs);
    });
    transposed[m] = {t, scopes.size()};
    return t;
  }

  /// out[b, m, n] = sum_k lhs[b, m, k] rhs[b, k, n] in the order b, m, k, n:
  /// the innermost loop runs over the contiguous n of rhs and out (a
  /// transposed rhs is transposed into a buffer first).
  LogicalResult emitBatchMatmul(BatchMatmulOp op) {
    Value lhs = buffer(op.getLhs()), rhs = buffer(op.getRhs());
    if (op.getTransposeRhs())
      rhs = transposedCopy(rhs);
    int64_t rl = rank(lhs), rr = rank(rhs);
    ArrayRef<int64_t> rs = op.getType().getShape();
    // Batch sizes broadcast like the elementwise ops; M from lhs, N from rhs.
    SmallVector<int64_t> batchShape(rs.drop_back(2));
    SmallVector<Value> sizes;
    for (int64_t d = 0; d + 2 < static_cast<int64_t>(rs.size()); ++d) {
      if (!ShapedType::isDynamic(rs[d])) {
        sizes.push_back(idx(rs[d]));
        continue;
      }
      Value size = idx(1);
      for (Value m : {lhs, rhs}) {
        int64_t k = d - (static_cast<int64_t>(rs.size()) - rank(m));
        if (k >= 0 && shape(m)[k] != 1) {
          size = dim(m, k);
          break;
        }
      }
      sizes.push_back(size);
    }
    Value K = dim(lhs, rl - 1), N = dim(rhs, rr - 1);
    sizes.push_back(dim(lhs, rl - 2));
    sizes.push_back(N);
    Value out = alloc(rs, sizes);
    SmallVector<Value> outer(ArrayRef<Value>(sizes).drop_back());
    loopNest(outer, [&](ValueRange ivs) { // batch..., m
      ValueRange batch = ivs.drop_back();
      Value m = ivs.back();
      SmallVector<Value> li = broadcastIndex(shape(lhs).drop_back(2),
                                             batchShape, batch),
                         ri = broadcastIndex(shape(rhs).drop_back(2),
                                             batchShape, batch);
      auto outAt = [&](Value n) {
        SmallVector<Value> oi(batch);
        oi.push_back(m);
        oi.push_back(n);
        return oi;
      };
      loopNest({N}, [&](ValueRange nv) { store(f(0.0f), out, outAt(nv[0])); });
      loopNest({K}, [&](ValueRange kv) {
        SmallVector<Value> la(li);
        la.push_back(m);
        la.push_back(kv[0]);
        Value a = load(lhs, la);
        loopNest({N}, [&](ValueRange nv) {
          SmallVector<Value> rb(ri);
          rb.push_back(kv[0]);
          rb.push_back(nv[0]);
          Value acc = arith::AddFOp::create(
              b, loc, load(out, outAt(nv[0])),
              arith::MulFOp::create(b, loc, a, load(rhs, rb)));
          store(acc, out, outAt(nv[0]));
        });
      });
    });
    return define(op.getResult(), out);
  }

  /// Forward substitution per batch: X[i] = B[i] - sum_{t<i} A[i][t] X[t]
  /// (then / A[i][i] unless unit_diagonal); the innermost loop runs over the
  /// contiguous columns of X. B is read once, so it may be lazy.
  LogicalResult emitSolveTri(SolveTriOp op) {
    Value A = buffer(op.getA()), B = op.getB();
    int64_t r = rank(B);
    SmallVector<Value> sizes = sizesOf(B);
    Value X = alloc(shape(B), sizes);
    Value cols = sizes[r - 1];
    SmallVector<Value> rows(ArrayRef<Value>(sizes).drop_back());
    bool unit = op.getUnitDiagonal();
    loopNest(rows, [&](ValueRange ivs) { // batch..., i
      ValueRange batch = ivs.drop_back();
      Value i = ivs.back();
      auto at2 = [&](Value row, Value col) {
        SmallVector<Value> x(batch);
        x.push_back(row);
        x.push_back(col);
        return x;
      };
      loopNest({cols}, [&](ValueRange c) {
        store(at(B, at2(i, c[0])), X, at2(i, c[0]));
      });
      loopNest({i}, [&](ValueRange t) {
        Value a = load(A, at2(i, t[0]));
        loopNest({cols}, [&](ValueRange c) {
          Value y = arith::SubFOp::create(
              b, loc, load(X, at2(i, c[0])),
              arith::MulFOp::create(b, loc, a, load(X, at2(t[0], c[0]))));
          store(y, X, at2(i, c[0]));
        });
      });
      if (!unit) {
        Value diag = load(A, at2(i, i));
        loopNest({cols}, [&](ValueRange c) {
          store(arith::DivFOp::create(b, loc, load(X, at2(i, c[0])), diag), X,
                at2(i, c[0]));
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
    return define(op.getResult(), alloc(type.getShape(), sizes));
  }

  LogicalResult emitDim(tensor::DimOp op) {
    std::optional<int64_t> d = op.getConstantIndex();
    if (!d)
      return fail(op, "the dimension must be a constant");
    map.map(op.getResult(), sizesOf(op.getSource())[*d]);
    return success();
  }

  LogicalResult emitInsertSlice(tensor::InsertSliceOp op) {
    Value dest = buffer(op.getDest());
    // In place when nothing else can see the destination's buffer (the
    // chunk loop's output); else into a copy.
    Value out = dest;
    if (!owned.contains(dest) || !op.getDest().hasOneUse()) {
      out = alloc(shape(dest), sizesOf(op.getDest()));
      loopNest(sizesOf(op.getDest()),
               [&](ValueRange ivs) { store(load(dest, ivs), out, ivs); });
    }
    llvm::SmallBitVector dropped = op.getDroppedDims();
    SmallVector<Value> offsets, strides;
    for (OpFoldResult r : op.getMixedOffsets())
      offsets.push_back(ofr(r));
    for (OpFoldResult r : op.getMixedStrides())
      strides.push_back(ofr(r));
    Value src = op.getSource();
    loopNest(sizesOf(src), [&](ValueRange ivs) {
      store(at(src, ivs), out, sliceIndex(offsets, strides, dropped, ivs));
    });
    return define(op.getResult(), out);
  }

  LogicalResult emitFor(scf::ForOp op) {
    SmallVector<Value> carried;
    for (Value init : op.getInitArgs()) {
      if (!isa<RankedTensorType>(init.getType()))
        return fail(op, "only tensors may be loop-carried");
      Value m = buffer(init);
      if (owned.contains(m) && init.hasOneUse()) {
        carried.push_back(m);
      } else {
        Value c = alloc(shape(init), sizesOf(init));
        loopNest(sizesOf(init),
                 [&](ValueRange ivs) { store(load(m, ivs), c, ivs); });
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
        if (lazy.count(y) || map.lookup(y) != c)
          copyInto(y, c);
      popScope();
    }
    for (auto [r, c] : llvm::zip(op.getResults(), carried))
      map.map(r, c);
    return success();
  }

  /// An unmaterialized value: its op and its sizes.
  struct Lazy {
    Operation *op;
    SmallVector<Value> sizes;
  };

  OpBuilder &b;
  Location loc;
  Type f32;
  /// Source values to kernel values: tensors to memrefs, scalars to scalars.
  IRMapping map;
  /// Tensors that are not materialized (evaluated where they are read).
  llvm::DenseMap<Value, Lazy> lazy;
  /// Buffers allocated per scope (kernel, loop body), freed at its end.
  SmallVector<SmallVector<Value>> scopes;
  /// Buffers that hold their own storage (not views, not arguments).
  llvm::DenseSet<Value> owned;
  /// Transposed copies of buffers and the scope depth they were made in.
  llvm::MapVector<Value, std::pair<Value, size_t>> transposed;
};

llvm::Error kernelError(func::FuncOp source, const Twine &what) {
  return llvm::createStringError("cannot generate a loop kernel for @" +
                                 source.getSymName() + ": " + what);
}

/// Folds the index arithmetic of an emitted kernel and sums its
/// allocations (loopKernelAllocations).
class AllocationEvaluator {
public:
  explicit AllocationEvaluator(int64_t dynamicSize)
      : dynamicSize(dynamicSize) {}

  LogicalResult run(func::FuncOp kernel) {
    for (BlockArgument arg : kernel.getArguments())
      if (auto mt = dyn_cast<MemRefType>(arg.getType()))
        sizes[arg] = staticOr(mt.getShape(), {});
    return evalBlock(kernel.getBody().front(), 1);
  }

  LoopKernelAllocations result;
  std::string error;

private:
  /// `shape` with its dynamic sizes from `dynamic` in order; with none
  /// given, every dynamic size is `dynamicSize` (the kernel's arguments).
  SmallVector<int64_t> staticOr(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> dynamic) {
    SmallVector<int64_t> r;
    size_t k = 0;
    for (int64_t s : shape)
      r.push_back(!ShapedType::isDynamic(s) ? s
                  : dynamic.empty()         ? dynamicSize
                                            : dynamic[k++]);
    return r;
  }

  std::optional<int64_t> get(Value v) {
    auto it = ints.find(v);
    if (it == ints.end())
      return std::nullopt;
    return it->second;
  }

  LogicalResult fail(Operation *op, const Twine &why) {
    std::string s;
    llvm::raw_string_ostream os(s);
    op->print(os, OpPrintingFlags().skipRegions());
    error = (why + ": " + s).str();
    return failure();
  }

  /// Index arithmetic whose operands are known; anything else is unknown.
  void foldScalar(Operation *op) {
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
        ints[c.getResult()] = i.getInt();
      return;
    }
    if (op->getNumResults() != 1 || !op->getResult(0).getType().isIntOrIndex())
      return;
    SmallVector<int64_t> x;
    for (Value v : op->getOperands()) {
      std::optional<int64_t> k = get(v);
      if (!k)
        return;
      x.push_back(*k);
    }
    std::optional<int64_t> r =
        llvm::TypeSwitch<Operation *, std::optional<int64_t>>(op)
            .Case([&](arith::AddIOp) { return x[0] + x[1]; })
            .Case([&](arith::SubIOp) { return x[0] - x[1]; })
            .Case([&](arith::MulIOp) { return x[0] * x[1]; })
            .Case([&](arith::DivUIOp) -> std::optional<int64_t> {
              if (x[1] == 0)
                return std::nullopt;
              return int64_t(uint64_t(x[0]) / uint64_t(x[1]));
            })
            .Case([&](arith::DivSIOp) -> std::optional<int64_t> {
              if (x[1] == 0)
                return std::nullopt;
              return x[0] / x[1];
            })
            .Case([&](arith::RemUIOp) -> std::optional<int64_t> {
              if (x[1] == 0)
                return std::nullopt;
              return int64_t(uint64_t(x[0]) % uint64_t(x[1]));
            })
            .Case([&](arith::MinUIOp) { return std::min(x[0], x[1]); })
            .Case([&](arith::MaxUIOp) { return std::max(x[0], x[1]); })
            .Case([&](arith::MinSIOp) { return std::min(x[0], x[1]); })
            .Case([&](arith::MaxSIOp) { return std::max(x[0], x[1]); })
            .Case([&](arith::IndexCastOp) { return x[0]; })
            .Default([](Operation *) { return std::nullopt; });
    if (r)
      ints[op->getResult(0)] = *r;
  }

  LogicalResult evalBlock(Block &block, int64_t times) {
    for (Operation &op : block) {
      if (auto a = dyn_cast<memref::AllocOp>(op)) {
        SmallVector<int64_t> dynamic;
        for (Value v : a.getDynamicSizes()) {
          std::optional<int64_t> k = get(v);
          if (!k)
            return fail(&op, "an allocation size that does not fold");
          dynamic.push_back(*k);
        }
        MemRefType mt = a.getType();
        SmallVector<int64_t> s = staticOr(mt.getShape(), dynamic);
        int64_t bytes = mt.getElementTypeBitWidth() / 8;
        for (int64_t d : s)
          bytes *= d;
        sizes[a.getResult()] = s;
        bytesOf[a.getResult()] = bytes;
        result.allocs += times;
        result.totalBytes += bytes * times;
        live += bytes;
        result.peakBytes = std::max(result.peakBytes, live);
        continue;
      }
      if (auto d = dyn_cast<memref::DeallocOp>(op)) {
        live -= bytesOf.lookup(d.getMemref());
        continue;
      }
      if (auto d = dyn_cast<memref::DimOp>(op)) {
        std::optional<int64_t> k = get(d.getIndex());
        auto it = sizes.find(d.getSource());
        if (k && it != sizes.end() && *k >= 0 &&
            *k < static_cast<int64_t>(it->second.size()))
          ints[d.getResult()] = it->second[*k];
        continue;
      }
      if (auto rc = dyn_cast<memref::ReinterpretCastOp>(op)) {
        SmallVector<int64_t> s;
        bool known = true;
        for (OpFoldResult r : rc.getMixedSizes()) {
          if (auto v = dyn_cast<Value>(r)) {
            std::optional<int64_t> k = get(v);
            known = known && k;
            s.push_back(k ? *k : 0);
          } else {
            s.push_back(cast<IntegerAttr>(cast<Attribute>(r)).getInt());
          }
        }
        if (known)
          sizes[rc.getResult()] = s;
        continue;
      }
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        bool allocates = false;
        loop.getBody()->walk([&](memref::AllocOp) { allocates = true; });
        if (!allocates)
          continue;
        std::optional<int64_t> lb = get(loop.getLowerBound()),
                               ub = get(loop.getUpperBound()),
                               step = get(loop.getStep());
        if (!lb || !ub || !step || *step <= 0)
          return fail(&op, "a loop around allocations whose bounds do not "
                           "fold");
        int64_t trips = *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
        if (trips == 0)
          continue;
        // Every iteration allocates the same (sizes cannot depend on the
        // induction variable, which stays unknown) and frees what it
        // allocated: one pass over the body, counted `trips` times.
        int64_t before = live;
        if (failed(evalBlock(*loop.getBody(), times * trips)))
          return failure();
        if (live != before)
          return fail(&op, "a loop body that does not free its allocations");
        continue;
      }
      if (op.getNumRegions())
        return fail(&op, "an op with regions");
      foldScalar(&op);
    }
    return success();
  }

  int64_t dynamicSize;
  int64_t live = 0;
  llvm::DenseMap<Value, int64_t> ints;
  llvm::DenseMap<Value, SmallVector<int64_t>> sizes;
  llvm::DenseMap<Value, int64_t> bytesOf;
};

} // namespace

llvm::Expected<LoopKernelAllocations>
loopKernelAllocations(func::FuncOp kernel, int64_t dynamicSize) {
  if (kernel.getBody().empty() || !kernel.getBody().hasOneBlock())
    return llvm::createStringError("loop kernel @" + kernel.getSymName() +
                                   ": the body must be one block");
  AllocationEvaluator eval(dynamicSize);
  if (failed(eval.run(kernel)))
    return llvm::createStringError("loop kernel @" + kernel.getSymName() +
                                   ": " + eval.error);
  return eval.result;
}

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

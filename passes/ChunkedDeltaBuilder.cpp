//===- ChunkedDeltaBuilder.cpp - qn.gated_delta_net as the chunked form --===//
//
// Expands one qn.gated_delta_net into the chunked form of spec §4.1 in
// primitive qn ops, built the way the non-fused ggml baseline builds it
// (§4.2, ik's merged variant): q/k repeated to the value heads, padding to
// whole chunks of C = 64, the decay matrix from two *materialized* repeats of
// the cumulative decay (G as a column repeated to C x C minus G as a row
// repeated to C x C), masks before and after exp, (I + L)^-1 applied by
// `qn.solve_tri {unit_diagonal}`, and an scf.for over the chunks carrying
// the state. Everything that does not depend on the state is computed for
// all chunks at once (leading dimension nc); the loop body only does the
// three products with the running state.
//
// Layout inside: [nc, Hv, C, X] (chunk, value head, row in chunk, feature).
//
//===----------------------------------------------------------------------===//

#include "passes/ChunkedDeltaBuilder.h"

#include "dialect/QNOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;

namespace qn {
namespace {

constexpr int64_t C = kChunkedDeltaChunk;
constexpr int64_t kDyn = ShapedType::kDynamic;

struct Builder {
  OpBuilder &b;
  Location loc;
  Type et;

  RankedTensorType tt(ArrayRef<int64_t> shape) const {
    return RankedTensorType::get(shape, et);
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }
  Value reshape(Value x, ArrayRef<int64_t> shape) {
    return ReshapeOp::create(b, loc, tt(shape), x);
  }
  Value permute(Value x, ArrayRef<int64_t> perm) {
    return PermuteOp::create(b, loc, x, perm);
  }
  Value repeat(Value x, ArrayRef<int64_t> multiples) {
    return RepeatOp::create(b, loc, x, multiples);
  }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value exp(Value x) { return ExpOp::create(b, loc, x); }
  Value tri(TriKind kind, Value x) { return TriOp::create(b, loc, kind, x); }
  Value bmm(Value x, Value y, bool transposeRhs = false) {
    return BatchMatmulOp::create(b, loc, x, y, transposeRhs);
  }

  /// q or k [T, Hk, d] -> [T, Hv, d] by materializing the head mapping
  /// (mainline's reshape / repeat_4d / reshape).
  Value repeatHeads(Value x, int64_t Hk, int64_t Hv, HeadMapping mapping) {
    if (Hk == Hv)
      return x;
    const int64_t T = shapeOf(x)[0], d = shapeOf(x)[2], r = Hv / Hk;
    if (mapping == HeadMapping::interleave) // head h reads h / r
      return reshape(repeat(reshape(x, {T, Hk, 1, d}), {1, 1, r, 1}),
                     {T, Hv, d});
    return reshape(repeat(reshape(x, {T, 1, Hk, d}), {1, r, 1, 1}),
                   {T, Hv, d}); // tile: head h reads h mod Hk
  }

  /// [T, H, d] -> padded to whole chunks -> [nc, H, C, d].
  Value toChunks(Value x) {
    Value p = PadToMultipleOp::create(b, loc, x, 0, C);
    const int64_t Tp = shapeOf(p)[0], H = shapeOf(p)[1], d = shapeOf(p)[2];
    const int64_t nc = ShapedType::isDynamic(Tp) ? kDyn : Tp / C;
    return permute(reshape(p, {nc, C, H, d}), {0, 2, 1, 3});
  }
  /// [T, H] -> [nc, H, C].
  Value toChunks2(Value x) {
    Value p = PadToMultipleOp::create(b, loc, x, 0, C);
    const int64_t Tp = shapeOf(p)[0], H = shapeOf(p)[1];
    const int64_t nc = ShapedType::isDynamic(Tp) ? kDyn : Tp / C;
    return permute(reshape(p, {nc, C, H}), {0, 2, 1});
  }

  /// Chunk `c` of a [nc, Hv, ...] tensor, without the chunk dimension.
  Value chunk(Value x, Value c) {
    ArrayRef<int64_t> s = shapeOf(x);
    SmallVector<OpFoldResult> offsets(s.size(), b.getIndexAttr(0)), sizes,
        strides(s.size(), b.getIndexAttr(1));
    offsets[0] = c;
    sizes.push_back(b.getIndexAttr(1));
    for (int64_t d : s.drop_front())
      sizes.push_back(b.getIndexAttr(d));
    return tensor::ExtractSliceOp::create(b, loc, tt(s.drop_front()), x,
                                          offsets, sizes, strides);
  }
  /// Writes `part` [Hv, ...] as chunk `c` of `into` [nc, Hv, ...].
  Value insertChunk(Value part, Value into, Value c) {
    ArrayRef<int64_t> s = shapeOf(into);
    SmallVector<OpFoldResult> offsets(s.size(), b.getIndexAttr(0)), sizes,
        strides(s.size(), b.getIndexAttr(1));
    offsets[0] = c;
    sizes.push_back(b.getIndexAttr(1));
    for (int64_t d : s.drop_front())
      sizes.push_back(b.getIndexAttr(d));
    return tensor::InsertSliceOp::create(b, loc, part, into, offsets, sizes,
                                         strides);
  }
};

} // namespace

std::pair<Value, Value> buildChunkedDeltaNet(OpBuilder &b, GatedDeltaNetOp op) {
  Builder x{b, op.getLoc(),
            cast<RankedTensorType>(op.getV().getType()).getElementType()};
  ArrayRef<int64_t> qs = Builder::shapeOf(op.getQ()),
                    vs = Builder::shapeOf(op.getV());
  const int64_t Hk = qs[1], dk = qs[2], Hv = vs[1], dv = vs[2];
  const float scale = op.getScale() ? op.getScale()->convertToFloat()
                                    : 1.0f / std::sqrt(static_cast<float>(dk));

  // q, k to the value heads; s q; pad and cut into chunks.
  Value q = x.repeatHeads(op.getQ(), Hk, Hv, op.getHeadMapping());
  Value k = x.repeatHeads(op.getK(), Hk, Hv, op.getHeadMapping());
  q = ScaleOp::create(b, x.loc, q, b.getF32FloatAttr(scale));
  Value Q = x.toChunks(q), K = x.toChunks(k), V = x.toChunks(op.getV());
  Value g = x.toChunks2(op.getG()), beta = x.toChunks2(op.getBeta());
  const int64_t nc = Builder::shapeOf(Q)[0];

  // G = inclusive cumsum of g inside each chunk.
  Value G = CumsumOp::create(b, x.loc, g, 2);
  // D[i][j] = G[i] - G[j]: both operands materialized to C x C, as the
  // baseline does (qn-fuse-repeat-broadcast turns them into broadcasts).
  Value gi = x.repeat(x.reshape(G, {nc, Hv, C, 1}), {1, 1, 1, C});
  Value gj = x.repeat(x.reshape(G, {nc, Hv, 1, C}), {1, 1, C, 1});
  Value D = x.sub(gi, gj);
  // Gamma: masked before exp (above the diagonal D is large and positive)
  // and after (exp(0) = 1 there).
  Value Gamma =
      x.tri(TriKind::lower_diag, x.exp(x.tri(TriKind::lower_diag, D)));

  Value betaCol = x.reshape(beta, {nc, Hv, C, 1});
  Value eG = x.exp(G);
  Value eGCol = x.reshape(eG, {nc, Hv, C, 1});
  // L_ij = beta_i (k_i.k_j) Gamma_ij below the diagonal; A = (sQ K^T) Gamma.
  Value L =
      x.tri(TriKind::lower, x.mul(x.mul(x.bmm(K, K, true), Gamma), betaCol));
  Value A = x.mul(x.bmm(Q, K, true), Gamma);
  // U = (I + L)^-1 diag(beta) V, W = (I + L)^-1 diag(beta e^G) K: one unit
  // lower-triangular solve each (the diagonal of L is taken as 1 + 0).
  Value U = SolveTriOp::create(b, x.loc, L, x.mul(V, betaCol), true);
  Value W =
      SolveTriOp::create(b, x.loc, L, x.mul(x.mul(K, betaCol), eGCol), true);
  Value Qe = x.mul(Q, eGCol);
  // Key decay e^{G_last - G} (G_last repeated over the chunk) and the
  // chunk's total decay e^{G_last}.
  Value gLast =
      SliceOp::create(b, x.loc, G, ArrayRef<int64_t>{0, 0, C - 1},
                      ArrayRef<int64_t>{-1, Hv, 1}, ArrayRef<int64_t>{1, 1, 1});
  Value kDecay = x.exp(x.sub(x.repeat(gLast, {1, 1, C}), G));
  Value Kd = x.mul(K, x.reshape(kDecay, {nc, Hv, C, 1}));
  Value eLast = x.reshape(x.exp(gLast), {nc, Hv, 1, 1});

  // The loop over chunks: V~ = U - W M, O = (e^G sQ) M + A V~,
  // M <- e^{G_last} M + (e^{G_last - G} K)^T V~.
  Value c0 = arith::ConstantIndexOp::create(b, x.loc, 0);
  Value c1 = arith::ConstantIndexOp::create(b, x.loc, 1);
  Value n = tensor::DimOp::create(b, x.loc, Q, c0);
  SmallVector<Value> dynSizes;
  if (ShapedType::isDynamic(nc))
    dynSizes.push_back(n);
  Value O0 = tensor::EmptyOp::create(b, x.loc, ArrayRef<int64_t>{nc, Hv, C, dv},
                                     x.et, dynSizes);
  auto loop = scf::ForOp::create(
      b, x.loc, c0, n, c1, ValueRange{op.getState(), O0},
      [&](OpBuilder &lb, Location l, Value c, ValueRange iter) {
        Builder y{lb, l, x.et};
        Value M = iter[0];
        Value Vn = y.sub(y.chunk(U, c), y.bmm(y.chunk(W, c), M));
        Value Oc = y.add(y.bmm(y.chunk(Qe, c), M), y.bmm(y.chunk(A, c), Vn));
        Value KdT = y.permute(y.chunk(Kd, c), {0, 2, 1});
        Value Mn = y.add(y.mul(M, y.chunk(eLast, c)), y.bmm(KdT, Vn));
        scf::YieldOp::create(lb, l,
                             ValueRange{Mn, y.insertChunk(Oc, iter[1], c)});
      });

  // Back to [T, Hv, dv]: undo the chunk layout and drop the padded rows.
  Value O = x.permute(loop.getResult(1), {0, 2, 1, 3});
  const int64_t Tp = ShapedType::isDynamic(nc) ? kDyn : nc * C;
  O = x.reshape(O, {Tp, Hv, dv});
  O = CropOp::create(b, x.loc, O, op.getV(), 0);
  return {O, loop.getResult(0)};
}

} // namespace qn

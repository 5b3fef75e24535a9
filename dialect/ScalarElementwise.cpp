//===- ScalarElementwise.cpp - the scalar formula of each elementwise op -===//
//
// ScalarElementwiseOpInterface::buildScalar of every elementwise qn op: the
// one definition of what the op computes per element, which the CPU loop
// kernels (codegen/ElementwiseKernel.cpp) and any other chain emitter use.
//
//===----------------------------------------------------------------------===//

#include "dialect/QNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace qn;

namespace {

Value constant(OpBuilder &b, Location loc, Value like, double x) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(like.getType(), x));
}

/// 1 / (1 + exp(-x)), the logistic function shared by sigmoid and silu.
Value logistic(OpBuilder &b, Location loc, Value x) {
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  Value den = arith::AddFOp::create(b, loc, constant(b, loc, x, 1.0), e);
  return arith::DivFOp::create(b, loc, constant(b, loc, x, 1.0), den);
}

} // namespace

Value AddOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::AddFOp::create(b, loc, in[0], in[1]);
}
Value SubOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::SubFOp::create(b, loc, in[0], in[1]);
}
Value MulOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::MulFOp::create(b, loc, in[0], in[1]);
}
Value DivOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::DivFOp::create(b, loc, in[0], in[1]);
}
Value MaxOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::MaximumFOp::create(b, loc, in[0], in[1]);
}
Value MinOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::MinimumFOp::create(b, loc, in[0], in[1]);
}
Value ExpOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::ExpOp::create(b, loc, in[0]);
}
Value LogOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::LogOp::create(b, loc, in[0]);
}
Value NegOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::NegFOp::create(b, loc, in[0]);
}
Value AbsOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::AbsFOp::create(b, loc, in[0]);
}
Value SqrtOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::SqrtOp::create(b, loc, in[0]);
}
Value RsqrtOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::RsqrtOp::create(b, loc, in[0]);
}
Value TanhOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return math::TanhOp::create(b, loc, in[0]);
}
Value SigmoidOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return logistic(b, loc, in[0]);
}
Value SiluOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  return arith::MulFOp::create(b, loc, in[0], logistic(b, loc, in[0]));
}
Value SoftplusOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  // ggml: x > 20 ? x : log(1 + exp(x)).
  Value e = math::ExpOp::create(b, loc, in[0]);
  Value l = math::LogOp::create(
      b, loc, arith::AddFOp::create(b, loc, constant(b, loc, in[0], 1.0), e));
  Value big = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, in[0],
                                    constant(b, loc, in[0], 20.0));
  return arith::SelectOp::create(b, loc, big, in[0], l);
}
Value ScaleOp::buildScalar(OpBuilder &b, Location loc, ValueRange in) {
  // The factor as an f32 constant, as ggml_scale multiplies.
  return arith::MulFOp::create(
      b, loc, in[0],
      arith::ConstantOp::create(
          b, loc, b.getF32FloatAttr(getFactor().convertToFloat())));
}

//===- ElementwiseChains.cpp - find and outline fusible chains ------------===//
//
// A tree grows from its root backwards: an operand produced by a fusible op
// whose only use is this tree joins it. Keeping to trees (not DAGs) means
// every tree has exactly one output, which is what the loop kernel writes;
// values used twice start trees of their own.
//
//===----------------------------------------------------------------------===//

#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "codegen/LoopKernel.h"

#include "dialect/QNOps.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qn::codegen {

bool isFusibleElementwise(Operation *op) {
  return llvm::isa<ScalarElementwiseOpInterface>(op);
}

namespace {

/// The op joins its user's tree when it is fusible, has one result and that
/// result has exactly one use.
bool joinsUser(Operation *op) {
  return op && isFusibleElementwise(op) && op->getNumResults() == 1 &&
         op->getResult(0).hasOneUse();
}

void collect(Operation *op, llvm::SmallPtrSetImpl<Operation *> &members) {
  members.insert(op);
  for (Value operand : op->getOperands())
    if (Operation *def = operand.getDefiningOp(); joinsUser(def))
      collect(def, members);
}

} // namespace

std::vector<ElementwiseChain> findElementwiseChains(func::FuncOp func) {
  std::vector<ElementwiseChain> chains;
  func.walk([&](Operation *op) {
    if (!isFusibleElementwise(op) || op->getNumResults() != 1)
      return;
    // A root: its result is used by something outside any tree (or more than
    // once).
    Value result = op->getResult(0);
    if (result.hasOneUse() && isFusibleElementwise(*result.user_begin()))
      return;
    llvm::SmallPtrSet<Operation *, 8> members;
    collect(op, members);
    ElementwiseChain chain;
    llvm::SetVector<Value> inputs;
    // Program order: members appear in the block before the root.
    for (Operation &o : *op->getBlock()) {
      if (!members.count(&o))
        continue;
      chain.ops.push_back(&o);
      for (Value operand : o.getOperands())
        if (!members.count(operand.getDefiningOp()))
          inputs.insert(operand);
      if (&o == op)
        break;
    }
    chain.inputs.assign(inputs.begin(), inputs.end());
    chains.push_back(std::move(chain));
  });
  return chains;
}

func::FuncOp outlineDispatchBody(Operation *dispatch, ModuleOp into,
                                 StringRef name) {
  OpBuilder b(dispatch->getContext());
  Block &body = dispatch->getRegion(0).front();
  auto yield = llvm::cast<DispatchYieldOp>(body.getTerminator());
  b.setInsertionPointToEnd(into.getBody());
  auto source = func::FuncOp::create(
      b, dispatch->getLoc(), name,
      b.getFunctionType(body.getArgumentTypes(), yield.getValues().getTypes()));
  Block *entry = source.addEntryBlock();
  IRMapping map;
  for (auto [arg, in] : llvm::zip(body.getArguments(), entry->getArguments()))
    map.map(arg, in);
  b.setInsertionPointToStart(entry);
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  SmallVector<Value> values;
  for (Value v : yield.getValues())
    values.push_back(map.lookup(v));
  func::ReturnOp::create(b, dispatch->getLoc(), values);
  return source;
}

llvm::Expected<std::vector<ChainKernel>> emitDispatchKernels(ModuleOp model,
                                                             ModuleOp kernels) {
  MLIRContext *ctx = model.getContext();
  std::vector<ChainKernel> result;
  llvm::StringSet<> emitted;
  // Bodies are outlined into a scratch module, one function per kernel.
  OwningOpRef<ModuleOp> scratch(ModuleOp::create(UnknownLoc::get(ctx)));
  llvm::Error err = llvm::Error::success();
  model.walk([&](Operation *d) {
    const bool chain = llvm::isa<DispatchElementwiseOp>(d);
    if (err || (!chain && !llvm::isa<DispatchLoopOp>(d)))
      return;
    std::string name;
    if (auto func = d->getParentOfType<func::FuncOp>())
      name = (func.getSymName() + ".").str();
    if (auto n = d->getAttrOfType<StringAttr>("qn.name"))
      name += n.getValue().str();
    const std::string kernel =
        d->getAttrOfType<StringAttr>("kernel").getValue().str();
    result.push_back({name, kernel, !chain});
    if (!emitted.insert(kernel).second)
      return;
    func::FuncOp source = outlineDispatchBody(d, *scratch, kernel);
    err = chain ? emitElementwiseKernel(source, kernels, kernel)
                : emitLoopKernel(source, kernels, kernel);
  });
  if (err)
    return std::move(err);
  return result;
}

} // namespace qn::codegen

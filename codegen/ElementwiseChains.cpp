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

#include "dialect/QNOps.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qn::codegen {

bool isFusibleElementwise(Operation *op) {
  return llvm::isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp, ExpOp, LogOp,
                   NegOp, AbsOp, SqrtOp, RsqrtOp, SigmoidOp, SiluOp, SoftplusOp,
                   ScaleOp>(op);
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

llvm::Expected<std::vector<ChainKernel>> emitChainKernels(ModuleOp model,
                                                          ModuleOp kernels) {
  MLIRContext *ctx = model.getContext();
  std::vector<ChainKernel> result;
  // Printed source (without its name and op names) -> kernel name.
  llvm::StringMap<std::string> distinct;
  // Sources are outlined into a scratch module, one function per chain.
  OwningOpRef<ModuleOp> scratch(ModuleOp::create(UnknownLoc::get(ctx)));
  OpBuilder b(ctx);
  for (auto func : model.getOps<func::FuncOp>()) {
    for (const ElementwiseChain &chain : findElementwiseChains(func)) {
      std::string name = (func.getSymName() + ".").str();
      if (auto n = chain.root()->getAttrOfType<StringAttr>("qn.name"))
        name += n.getValue().str();
      else
        name += "chain" + std::to_string(result.size());
      SmallVector<Type> inputTypes;
      for (Value v : chain.inputs)
        inputTypes.push_back(v.getType());
      b.setInsertionPointToEnd(scratch->getBody());
      auto source = func::FuncOp::create(
          b, chain.root()->getLoc(), name,
          b.getFunctionType(inputTypes, chain.root()->getResult(0).getType()));
      Block *entry = source.addEntryBlock();
      IRMapping map;
      for (auto [v, arg] : llvm::zip(chain.inputs, entry->getArguments()))
        map.map(v, arg);
      b.setInsertionPointToStart(entry);
      for (Operation *op : chain.ops)
        b.clone(*op, map);
      func::ReturnOp::create(b, source.getLoc(),
                             map.lookup(chain.root()->getResult(0)));
      // The key: the source as printed under a fixed name, without the
      // qn.name attributes, so the same chain in another layer matches.
      source.setSymName("k");
      source.walk([](Operation *op) { op->removeAttr("qn.name"); });
      std::string key;
      llvm::raw_string_ostream os(key);
      source->print(os, OpPrintingFlags().useLocalScope());
      auto [it, inserted] = distinct.try_emplace(key, name);
      if (inserted)
        if (llvm::Error err = emitElementwiseKernel(source, kernels, name))
          return std::move(err);
      result.push_back({name, it->second});
    }
  }
  return result;
}

} // namespace qn::codegen

//===- FormDispatches.cpp - show PlanBuilder's decisions in the IR --------===//
//
// qn-form-dispatches: builds the plans of @prefill and @decode exactly as
// compileModel does (same chain kernels, same PlanBuilder) and writes each
// op's part of the plan onto the op as discardable attributes. The
// decisions stay in PlanBuilder; this pass only reads its PlanTrace.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/PlanBuilder.h"
#include "codegen/ProgramPrinter.h"

#include "mlir/IR/Builders.h"

namespace qn {
#define GEN_PASS_DEF_FORMDISPATCHESPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

namespace plan = runtime::plan;

/// Writes `p` (what the plan made of `op`) onto `op`.
void annotate(Operation *op, const codegen::OpPlan &p,
              const plan::Program &program,
              const llvm::MapVector<Operation *, codegen::OpPlan> &ops) {
  Builder b(op->getContext());
  if (p.chainRoot && p.chainRoot != op) {
    // A member: computed inside its root's kernel, no dispatch of its own.
    auto root = ops.find(p.chainRoot);
    if (root != ops.end() && !root->second.dispatches.empty())
      op->setAttr(
          "qn.kernel",
          b.getStringAttr(
              program.dispatches[root->second.dispatches.back()].kernelName));
    return;
  }

  SmallVector<Attribute> copies;
  for (int32_t i : p.dispatches)
    if (program.dispatches[i].kind == plan::DispatchKind::Copy)
      copies.push_back(b.getStringAttr(program.dispatches[i].name));
  const plan::Value *view = nullptr;
  if (p.results.size() == 1 && p.results[0] >= 0 &&
      program.values[p.results[0]].kind == plan::ValueKind::View)
    view = &program.values[p.results[0]];

  if (!p.dispatches.empty()) {
    const plan::Dispatch &own = program.dispatches[p.dispatches.back()];
    op->setAttr("qn.dispatch",
                b.getStringAttr(plan::dispatchKindName(own.kind)));
    if (own.kind == plan::DispatchKind::Elementwise)
      op->setAttr("qn.kernel", b.getStringAttr(own.kernelName));
    if (own.kind == plan::DispatchKind::GatedDeltaNet) {
      op->setAttr("qn.delta_impl",
                  b.getStringAttr(codegen::deltaImplName(own.i0)));
      if (own.i1 > 0)
        op->setAttr("qn.recurrent_below", b.getI64IntegerAttr(own.i1));
    }
  } else if (view) {
    op->setAttr("qn.dispatch", b.getStringAttr("view"));
  }
  if (!copies.empty())
    op->setAttr("qn.copies", b.getArrayAttr(copies));
  if (view) {
    op->setAttr("qn.offset", b.getI64IntegerAttr(view->offset));
    op->setAttr("qn.strides", b.getDenseI64ArrayAttr(view->strides));
  }

  // The slot of each result's storage (a view's is its base's).
  SmallVector<int64_t> slots;
  bool inScratch = false;
  for (int32_t id : p.results) {
    int64_t slot = -1;
    if (id >= 0) {
      const plan::Value *v = &program.values[id];
      if (v->kind == plan::ValueKind::View)
        v = &program.values[v->base];
      if (v->kind == plan::ValueKind::Scratch)
        slot = v->slot;
    }
    inScratch |= slot >= 0;
    slots.push_back(slot);
  }
  if (inScratch)
    op->setAttr("qn.slot", b.getDenseI64ArrayAttr(slots));
}

struct FormDispatchesPass
    : public impl::FormDispatchesPassBase<FormDispatchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Kernel names as compileModel gets them; the kernels are thrown away.
    OwningOpRef<ModuleOp> kernels(
        ModuleOp::create(UnknownLoc::get(module.getContext())));
    auto names = codegen::emitChainKernels(module, *kernels);
    codegen::ChainKernelMap map;
    std::string kernelError;
    if (names) {
      auto mapped = codegen::mapChainKernels(module, *names);
      if (!mapped) {
        module.emitError("cannot match chains to kernels: ")
            << llvm::toString(mapped.takeError());
        return signalPassFailure();
      }
      map = std::move(*mapped);
    } else {
      // As in compileModel: an op the plan cannot express is the error to
      // report first; the kernels' error only if the plans are fine.
      kernelError = llvm::toString(names.takeError());
      map = codegen::placeholderKernels(module);
    }

    bool failed = false;
    for (llvm::StringRef name : {"prefill", "decode"}) {
      auto entry = module.lookupSymbol<func::FuncOp>(name);
      if (!entry)
        continue;
      codegen::PlanTrace trace;
      auto program = codegen::buildProgram(entry, map, &trace);
      if (!program) {
        Operation *at = trace.failedOp ? trace.failedOp : entry;
        at->emitError(llvm::toString(program.takeError()));
        failed = true;
        continue;
      }
      if (!kernelError.empty())
        continue;
      for (auto &[op, p] : trace.ops)
        annotate(op, p, *program, trace.ops);
    }
    if (!failed && !kernelError.empty()) {
      module.emitError("cannot generate the elementwise kernels: ")
          << kernelError;
      failed = true;
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
} // namespace qn

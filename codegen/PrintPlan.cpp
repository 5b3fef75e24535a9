//===- PrintPlan.cpp - the runtime plan of each function, printed ---------===//
//
// qn-print-plan: the listing `qn-run ir --emit plan` prints, from qn-opt, so
// that every decision down to the buffers can be read (and FileCheck'ed)
// from IR alone.
//
//===----------------------------------------------------------------------===//

#include "codegen/CodegenPasses.h"
#include "codegen/PlanBuilder.h"
#include "codegen/ProgramPrinter.h"

namespace qn {
#define GEN_PASS_DEF_PRINTPLANPASS
#include "codegen/CodegenPasses.h.inc"
} // namespace qn

using namespace mlir;

namespace qn {
namespace {

struct PrintPlanPass : qn::impl::PrintPlanPassBase<PrintPlanPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto entry : getOperation().getOps<func::FuncOp>()) {
      if (entry.isExternal())
        continue;
      llvm::Expected<runtime::plan::Program> program =
          codegen::buildProgram(entry);
      if (!program) {
        entry.emitError(llvm::toString(program.takeError()));
        return signalPassFailure();
      }
      codegen::printProgram(llvm::outs(), *program);
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
} // namespace qn

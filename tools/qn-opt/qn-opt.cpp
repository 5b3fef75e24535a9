//===- qn-opt.cpp - the qn optimizer driver ---------------------*- C++ -*-===//
//
// mlir-opt for the qn dialect: parses qn IR, runs qn passes, prints IR.
// Registers only the dialects qn IR uses: qn, func, arith and tensor for
// constants, scf for the chunk loop of decomposed delta nets. The codegen
// passes (qn-form-dispatches) load the kernel dialects they need.
//
//===----------------------------------------------------------------------===//

#include "NestingLimit.h"

#include "codegen/CodegenPasses.h"
#include "dialect/QNDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "passes/Passes.h"

#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry
      .insert<qn::QNDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
              mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  qn::registerQNPasses();
  qn::registerQNPipelines();
  qn::registerQNCodegenPasses();
  qn::registerQNCodegenPipelines();
  // Generic clean-ups that pipelines combine with qn passes.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  auto [inputPath, outputPath] = mlir::registerAndParseCLIOptions(
      argc, argv, "qn optimizer driver\n", registry);
  // --show-dialects and --list-passes read no input: do not wait on stdin.
  const auto config = mlir::MlirOptMainConfig::createFromCLOptions();
  const bool readsInput =
      !config.shouldShowDialects() && !config.shouldListPasses();
  if (llvm::Error err = readsInput ? qn::opt::checkInputNesting(inputPath)
                                   : llvm::Error::success()) {
    llvm::errs() << "qn-opt: " << llvm::toString(std::move(err)) << "\n";
    return 1;
  }
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, inputPath, outputPath, registry));
}

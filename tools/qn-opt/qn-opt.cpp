//===- qn-opt.cpp - the qn optimizer driver ---------------------*- C++ -*-===//
//
// mlir-opt for the qn dialect: parses qn IR, runs qn passes, prints IR.
// Registers only the dialects qn IR uses: qn, func, arith and tensor for
// constants, scf for the chunk loop of decomposed delta nets. The codegen
// passes (qn-form-dispatches) load the kernel dialects they need.
//
// The files are handled here rather than by MlirOptMain so that the output
// discipline of docs/reliability.md holds: `-o` naming the input is refused
// before anything is opened for writing, the input is read (not mapped),
// and the output is a temporary renamed over `-o` only when the pipeline
// succeeded, so a failing run never deletes or truncates anything.
//
//===----------------------------------------------------------------------===//

#include "NestingLimit.h"

#include "codegen/CodegenPasses.h"
#include "dialect/QNDialect.h"
#include "gguf/InputFile.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "passes/Passes.h"
#include "support/OutputFile.h"
#include "support/StandardOutput.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace {
int fail(llvm::Error err) {
  llvm::errs() << "qn-opt: " << llvm::toString(std::move(err)) << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
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
  if (llvm::Error err = qn::support::checkNotAnInput(outputPath, {inputPath}))
    return fail(std::move(err));
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  // --show-dialects and --list-passes read no input: do not wait on stdin.
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputPath, outputPath, registry));
  // Volatile: read into memory, never mapped (a mapped input dies with
  // SIGBUS when someone rewrites it under us); a FIFO or device is refused.
  if (std::error_code ec = inputPath == "-" ? std::error_code()
                                            : qn::checkRegularFile(inputPath))
    return fail(llvm::createStringError(
        ec, "cannot open input file '" + inputPath + "': " + ec.message()));
  auto input = inputPath == "-"
                   ? llvm::MemoryBuffer::getSTDIN()
                   : llvm::MemoryBuffer::getFile(
                         inputPath, /*IsText=*/false,
                         /*RequiresNullTerminator=*/true, /*IsVolatile=*/true);
  if (!input)
    return fail(llvm::createStringError(
        input.getError(), "cannot open input file '" + inputPath +
                              "': " + input.getError().message()));
  // Nesting the parser's recursion cannot survive is refused first.
  if (llvm::Error err = qn::opt::checkNestingDepth((*input)->getMemBufferRef()))
    return fail(std::move(err));
  auto output = qn::support::OutputFile::create(outputPath, {inputPath});
  if (!output)
    return fail(output.takeError());
  if (mlir::failed(mlir::MlirOptMain(output->os(), std::move(*input), registry,
                                     config))) {
    output->discard();
    return qn::support::checkStandardOutput("qn-opt", 1);
  }
  if (llvm::Error err = output->commit())
    return fail(std::move(err));
  return qn::support::checkStandardOutput("qn-opt", 0);
}

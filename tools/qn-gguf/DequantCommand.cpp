//===- DequantCommand.cpp - `qn-gguf dequant` -----------------------------===//
//
//   qn-gguf dequant FILE TENSOR -o OUT.f32
//
// Writes the tensor's elements as little-endian float32 in ggml order (ne0
// fastest), dequantized exactly as ggml does; e.g. to compare with
// ../shared/fixtures/quant/deq/*.f32 using `cmp`.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"
#include "support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <vector>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand dequantCmd("dequant", "write a tensor as raw float32");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<file.gguf>"),
                               cl::Required, cl::sub(dequantCmd));
cl::opt<std::string> tensorName(cl::Positional, cl::desc("<tensor>"),
                                cl::Required, cl::sub(dequantCmd));
cl::opt<std::string> outputPath("o", cl::desc("output .f32 file"),
                                cl::value_desc("path"), cl::Required,
                                cl::sub(dequantCmd));

int runDequant() {
  auto fileOr = GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("dequant", fileOr.takeError());
  const TensorInfo *t = (*fileOr)->findTensor(tensorName);
  if (!t)
    return qn::gguftool::reportError(
        "dequant", createStringError(inputPath + ": no tensor named '" +
                                     tensorName + "'"));
  auto out =
      qn::support::OutputFile::create(outputPath, (*fileOr)->filePaths());
  if (!out)
    return qn::gguftool::reportError("dequant", out.takeError());
  // Row by row (a row group at a time for interleaved _r4/_r8 types) keeps
  // memory small for large tensors.
  const int64_t rowLen = t->ne[0];
  const uint64_t rowSize = rowBytes(t->type, rowLen);
  const int64_t rows = rowLen ? t->numElements() / rowLen : 0;
  const int64_t group = rowsPerGroup(t->type);
  std::vector<float> row(rowLen * group);
  for (int64_t r = 0; r < rows; r += group) {
    if (Error err = dequantizeRows(t->type, t->data + r * rowSize, row.data(),
                                   std::min(group, rows - r), rowLen))
      return qn::gguftool::reportError(
          "dequant", createStringError("tensor '" + t->name +
                                       "': " + toString(std::move(err))));
    out->os().write(reinterpret_cast<const char *>(row.data()),
                    row.size() * sizeof(float));
  }
  if (Error err = out->commit())
    return qn::gguftool::reportError("dequant", std::move(err));
  return 0;
}

qn::gguftool::CommandRegistration reg(&dequantCmd, runDequant);
} // namespace

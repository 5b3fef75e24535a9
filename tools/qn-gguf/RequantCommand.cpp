//===- RequantCommand.cpp - `qn-gguf requant` -----------------------------===//
//
//   qn-gguf requant IN.gguf OUT.gguf --type q8_0
//
// Rewrites the weight matrices of a file in another block format (f32, f16,
// bf16, q4_0, q4_1, q5_0, q5_1, q8_0), going through float with the exact
// dequantizers and ggml's reference quantizers. Like the converter, it keeps
// in F32 what ggml needs in F32: 1-D tensors, norms, ssm_conv1d and the
// routers (ffn_gate_inp*). Used to make small test models in any format.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/Dequantize.h"
#include "gguf/GGUFWriter.h"
#include "gguf/Quantize.h"
#include "support/OutputFile.h"

#include "llvm/Support/raw_ostream.h"

#include <vector>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand requantCmd("requant", "rewrite weight matrices in a block type");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<in.gguf>"),
                               cl::Required, cl::sub(requantCmd));
cl::opt<std::string> outputPath(cl::Positional, cl::desc("<out.gguf>"),
                                cl::Required, cl::sub(requantCmd));
cl::opt<std::string> typeName("type", cl::desc("target type, e.g. q8_0"),
                              cl::Required, cl::sub(requantCmd));

bool keepsF32(const TensorInfo &t) {
  StringRef name = t.name;
  return t.ne.size() < 2 || name.contains("norm") ||
         name.contains("ssm_conv1d") || name.contains("ffn_gate_inp");
}

int runRequant() {
  std::optional<GGMLType> target = parseTypeName(typeName);
  if (!target || !canQuantize(*target) || *target == GGMLType::Q8_1 ||
      *target == GGMLType::Q8_K)
    return qn::gguftool::reportError(
        "requant", createStringError("cannot write weights as '" + typeName +
                                     "' (f32, f16, bf16, q4_0, q4_1, q5_0, "
                                     "q5_1, q8_0, q4_K, q5_K, q6_K are "
                                     "supported)"));
  auto fileOr = GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("requant", fileOr.takeError());
  const GGUFFile &file = **fileOr;
  // Refused before the (long) conversion, not only when writing.
  if (Error err = qn::support::checkNotAnInput(outputPath, file.filePaths()))
    return qn::gguftool::reportError("requant", std::move(err));
  const int64_t block = getTypeInfo(*target)->blockSize;

  GGUFWriter writer(file.alignment());
  for (const auto &kv : file.metadata())
    writer.setValue(kv.first, kv.second);
  std::vector<float> row;
  for (const TensorInfo &t : file.tensors()) {
    Error err = Error::success();
    bool convert = !keepsF32(t) && t.type != *target && t.ne[0] % block == 0;
    if (convert && !canDequantize(t.type))
      return qn::gguftool::reportError(
          "requant", createStringError("tensor '" + t.name + "': cannot read " +
                                       getTypeName(t.type) + " blocks"));
    if (!convert) {
      err = writer.addTensorView(t.name, t.type, t.ne,
                                 ArrayRef<uint8_t>(t.data, t.nbytes));
    } else {
      const int64_t cols = t.ne[0];
      const int64_t rows = t.numElements() / cols;
      const uint64_t inRow = rowBytes(t.type, cols);
      const uint64_t outRow = rowBytes(*target, cols);
      std::vector<uint8_t> out(outRow * rows);
      row.resize(cols);
      for (int64_t r = 0; r < rows; ++r) {
        dequantizeRowUnchecked(t.type, t.data + r * inRow, row.data(), cols);
        quantizeRowUnchecked(*target, row.data(), out.data() + r * outRow,
                             cols);
      }
      err = writer.addTensor(t.name, *target, t.ne, out);
    }
    if (err)
      return qn::gguftool::reportError("requant", std::move(err));
  }
  if (Error err = writer.writeFile(outputPath, file.filePaths()))
    return qn::gguftool::reportError("requant", std::move(err));
  return 0;
}

qn::gguftool::CommandRegistration reg(&requantCmd, runRequant);
} // namespace

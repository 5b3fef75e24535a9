//===- SplitCommand.cpp - `qn-gguf split` ---------------------------------===//
//
//   qn-gguf split IN.gguf OUT_PREFIX --parts N
//
// Writes a split model the way llama.cpp's gguf-split does: files
// OUT_PREFIX-00001-of-0000N.gguf ..., tensors in file order spread over the
// parts, all metadata in the first part, and split.no (u16), split.count
// (u16), split.tensors.count (i32) in every part. GGUFFile::open of the first
// part reads the whole model back.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/GGUFWriter.h"
#include "support/FlagTable.h"
#include "support/OutputFile.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand splitCmd("split", "write a model as gguf-split parts");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<in.gguf>"),
                               cl::Required, cl::sub(splitCmd));
cl::opt<std::string> outputPrefix(cl::Positional, cl::desc("<out-prefix>"),
                                  cl::Required, cl::sub(splitCmd));
cl::opt<unsigned> parts("parts", cl::desc("number of files"), cl::init(2),
                        cl::sub(splitCmd));
// gguf-split numbers parts with five digits; 99 keeps the names short.
const qn::support::FlagTable flagTable{{parts, 2, 99}};

/// OUT_PREFIX-0000<part+1>-of-0000N.gguf, gguf-split's names.
std::string partPath(unsigned part) {
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "-%05u-of-%05u.gguf", part + 1,
                parts.getValue());
  return outputPrefix + suffix;
}

int runSplit() {
  if (Error err = flagTable.check())
    return qn::gguftool::reportError("split", std::move(err));
  auto fileOr = GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("split", fileOr.takeError());
  const GGUFFile &file = **fileOr;
  if (file.shardCount() > 1 || file.find("split.count"))
    return qn::gguftool::reportError(
        "split", createStringError(inputPath + ": already a split model"));
  ArrayRef<TensorInfo> tensors = file.tensors();
  const size_t perPart = (tensors.size() + parts - 1) / parts;
  // Every part name is checked before the first is written: a clash with
  // the input found at part 2 must not leave part 1 behind.
  for (unsigned part = 0; part < parts; ++part)
    if (Error err =
            qn::support::checkNotAnInput(partPath(part), file.filePaths()))
      return qn::gguftool::reportError("split", std::move(err));
  for (unsigned part = 0; part < parts; ++part) {
    GGUFWriter writer(file.alignment());
    if (part == 0)
      for (const auto &kv : file.metadata())
        writer.setValue(kv.first, kv.second);
    writer.setValue("split.no", Value::makeUInt(ValueType::UInt16, part));
    writer.setValue("split.count", Value::makeUInt(ValueType::UInt16, parts));
    writer.setValue(
        "split.tensors.count",
        Value::makeInt(ValueType::Int32, static_cast<int64_t>(tensors.size())));
    size_t begin = std::min(tensors.size(), part * perPart);
    size_t end = std::min(tensors.size(), begin + perPart);
    for (const TensorInfo &t : tensors.slice(begin, end - begin))
      if (Error err = writer.addTensorView(t.name, t.type, t.ne,
                                           ArrayRef<uint8_t>(t.data, t.nbytes)))
        return qn::gguftool::reportError("split", std::move(err));
    if (Error err = writer.writeFile(partPath(part), file.filePaths()))
      return qn::gguftool::reportError("split", std::move(err));
  }
  return 0;
}

qn::gguftool::CommandRegistration reg(&splitCmd, runSplit);
} // namespace

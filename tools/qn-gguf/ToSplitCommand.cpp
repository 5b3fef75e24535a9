//===- ToSplitCommand.cpp - `qn-gguf to-split` ----------------------------===//
//
//   qn-gguf to-split IN.gguf OUT.gguf
//
// Rewrites a qwen3next file that uses the legacy fused `blk.N.ssm_in` into the
// current converter's layout: `blk.N.attn_qkv` (conv channels q|k|v) and
// `blk.N.attn_gate` (z), by the fixed row gather of spec §2.3. Rows are copied
// as bytes, so any weight type converts exactly. Everything else is copied
// unchanged.
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/GGUFWriter.h"
#include "gguf/Qwen3Next.h"
#include "support/OutputFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand toSplitCmd("to-split",
                          "convert legacy ssm_in to attn_qkv + attn_gate");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<in.gguf>"),
                               cl::Required, cl::sub(toSplitCmd));
cl::opt<std::string> outputPath(cl::Positional, cl::desc("<out.gguf>"),
                                cl::Required, cl::sub(toSplitCmd));

std::vector<uint8_t> gatherRows(const TensorInfo &t, ArrayRef<int64_t> order,
                                size_t begin, size_t end) {
  const uint64_t rowSize = rowBytes(t.type, t.ne[0]);
  std::vector<uint8_t> out((end - begin) * rowSize);
  for (size_t i = begin; i < end; ++i)
    std::memcpy(out.data() + (i - begin) * rowSize, t.data + order[i] * rowSize,
                rowSize);
  return out;
}

int runToSplit() {
  auto fileOr = GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("to-split", fileOr.takeError());
  const GGUFFile &file = **fileOr;
  if (Error err = qn::support::checkNotAnInput(outputPath, file.filePaths()))
    return qn::gguftool::reportError("to-split", std::move(err));
  auto modelOr = describeQwen3Next(file);
  if (!modelOr)
    return qn::gguftool::reportError(
        "to-split",
        createStringError(inputPath + ": " + toString(modelOr.takeError())));
  const Qwen3NextModel &m = *modelOr;
  if (m.layout != LinearLayout::Legacy)
    return qn::gguftool::reportError(
        "to-split",
        createStringError(inputPath + ": already uses attn_qkv + attn_gate; "
                                      "nothing to convert"));
  const Qwen3NextHParams &hp = m.hp;
  std::vector<int64_t> order = legacyQKVZRowOrder(hp);
  const size_t Cc = static_cast<size_t>(hp.convChannels());

  GGUFWriter writer(file.alignment());
  for (const auto &kv : file.metadata())
    writer.setValue(kv.first, kv.second);
  for (const TensorInfo &t : file.tensors()) {
    StringRef name = t.name;
    Error err = Error::success();
    if (name.starts_with("blk.") && name.ends_with(".ssm_in.weight")) {
      std::string prefix = name.drop_back(strlen("ssm_in.weight")).str();
      std::vector<uint8_t> qkv = gatherRows(t, order, 0, Cc);
      std::vector<uint8_t> gate = gatherRows(t, order, Cc, order.size());
      err = writer.addTensor(prefix + "attn_qkv.weight", t.type,
                             {t.ne[0], hp.convChannels()}, qkv);
      if (!err)
        err = writer.addTensor(prefix + "attn_gate.weight", t.type,
                               {t.ne[0], hp.ssmInner}, gate);
    } else {
      err = writer.addTensorView(name, t.type, t.ne,
                                 ArrayRef<uint8_t>(t.data, t.nbytes));
    }
    if (err)
      return qn::gguftool::reportError("to-split", std::move(err));
  }
  if (Error err = writer.writeFile(outputPath, file.filePaths()))
    return qn::gguftool::reportError("to-split", std::move(err));
  return 0;
}

qn::gguftool::CommandRegistration reg(&toSplitCmd, runToSplit);
} // namespace

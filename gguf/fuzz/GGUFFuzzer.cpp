//===- GGUFFuzzer.cpp - libFuzzer entry for the GGUF reader ---------------===//
//
// Feeds arbitrary bytes through everything that reads a file: the parser,
// the qwen3next description and the dequantizers. Any crash, sanitizer report
// or hang is a bug: a bad file must only ever produce an llvm::Error.
// Build with clang: -DQN_ENABLE_FUZZER=ON; seed with ../shared/fixtures.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "gguf/GGUFFile.h"
#include "gguf/Qwen3Next.h"

#include "llvm/Support/MemoryBuffer.h"

#include <vector>

using namespace qn::gguf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz",
      /*RequiresNullTerminator=*/false);
  auto file = GGUFFile::fromBuffer(std::move(buffer));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  for (const auto &kv : (*file)->metadata())
    (void)kv.second.toString();
  if (auto model = describeQwen3Next(**file); !model)
    llvm::consumeError(model.takeError());
  // Dequantize the first row (the first row group of an interleaved _r4/_r8
  // type) of every tensor the parser accepted.
  std::vector<float> row;
  for (const TensorInfo &t : (*file)->tensors()) {
    const int64_t group = rowsPerGroup(t.type);
    if (!canDequantize(t.type) || t.ne[0] > (1 << 20) / group || t.nbytes == 0)
      continue;
    row.resize(t.ne[0] * group);
    if (llvm::Error err =
            dequantizeRows(t.type, t.data, row.data(), group, t.ne[0]))
      llvm::consumeError(std::move(err));
  }
  return 0;
}

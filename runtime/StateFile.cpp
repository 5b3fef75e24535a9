//===- StateFile.cpp - save/load one sequence's whole state --------------===//
//
// Format (little-endian): the 8-byte magic "QNSEQ001", then 12 uint64: the
// model geometry (nLayer, D, Cc, Kc, Hv, dk, dv, Hkv, Dh), the KV element
// bytes, the sequence length and the payload byte count; then per layer in
// order either the conv window and delta state (F32) of a linear layer, or
// the first `length` K rows then V rows of an attention layer's cache. The
// geometry must match on load, so a state never lands in a different model.
//
//===----------------------------------------------------------------------===//

#include "runtime/Context.h"

#include "runtime/layers/Layers.h"
#include "support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <cstring>

namespace qn::runtime {

static constexpr char kMagic[8] = {'Q', 'N', 'S', 'E', 'Q', '0', '0', '1'};
static constexpr size_t kHeaderWords = 12;

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Header words 0..9 describe the model and cache; 10 is the length, 11 the
/// payload size.
static std::array<uint64_t, kHeaderWords>
geometry(const gguf::Qwen3NextHParams &hp, KVType kv) {
  return {static_cast<uint64_t>(hp.nLayer),
          static_cast<uint64_t>(hp.nEmbd),
          static_cast<uint64_t>(hp.convChannels()),
          static_cast<uint64_t>(hp.convKernel),
          static_cast<uint64_t>(hp.ssmTimeStepRank),
          static_cast<uint64_t>(hp.ssmState),
          static_cast<uint64_t>(hp.headVDim()),
          static_cast<uint64_t>(hp.nHeadKV),
          static_cast<uint64_t>(hp.headDim),
          kvElementBytes(kv),
          0,
          0};
}

static uint64_t payloadBytes(const gguf::Qwen3NextHParams &hp, KVType kv,
                             int64_t length) {
  uint64_t n = 0;
  const uint64_t kvRow = kvElementBytes(kv) * hp.nHeadKV * hp.headDim;
  for (int64_t il = 0; il < hp.nLayer; ++il)
    n +=
        hp.isRecurrent[il]
            ? sizeof(float) * ((hp.convKernel - 1) * hp.convChannels() +
                               hp.ssmTimeStepRank * hp.ssmState * hp.headVDim())
            : 2 * kvRow * length;
  return n;
}

llvm::Error Context::saveSequence(int32_t seq, llvm::StringRef path) const {
  if (llvm::Error err = checkSeq(seq))
    return err;
  const gguf::Qwen3NextHParams &hp = model.hparams();
  const SequenceSlot &slot = slots[seq];
  auto header = geometry(hp, cparams.kvType);
  header[10] = static_cast<uint64_t>(slot.length);
  header[11] = payloadBytes(hp, cparams.kvType, slot.length);
  const size_t kvRow = kvElementBytes(cparams.kvType) * hp.nHeadKV * hp.headDim;
  // Never over the mapped model (its pages would vanish under the
  // weights); a failed or interrupted save leaves an older state intact.
  llvm::Error err = support::writeFileAtomically(
      path, model.file().filePaths(), [&](llvm::raw_ostream &os) {
        os.write(kMagic, sizeof(kMagic));
        os.write(reinterpret_cast<const char *>(header.data()),
                 sizeof(uint64_t) * header.size());
        for (int64_t il = 0; il < hp.nLayer; ++il) {
          if (hp.isRecurrent[il]) {
            os.write(reinterpret_cast<const char *>(slot.conv[il].data()),
                     sizeof(float) * slot.conv[il].size());
            os.write(reinterpret_cast<const char *>(slot.delta[il].data()),
                     sizeof(float) * slot.delta[il].size());
          } else {
            os.write(reinterpret_cast<const char *>(slot.keys[il].data()),
                     kvRow * slot.length);
            os.write(reinterpret_cast<const char *>(slot.values[il].data()),
                     kvRow * slot.length);
          }
        }
        return llvm::Error::success();
      });
  if (err)
    return error("state file: " + llvm::toString(std::move(err)));
  return llvm::Error::success();
}

llvm::Error Context::loadSequence(int32_t seq, llvm::StringRef path) {
  if (llvm::Error err = checkSeq(seq))
    return err;
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return error("cannot read state file '" + path +
                 "': " + buf.getError().message());
  llvm::StringRef data = (*buf)->getBuffer();
  const size_t headerBytes = sizeof(kMagic) + sizeof(uint64_t) * kHeaderWords;
  if (data.size() < headerBytes ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    return error("'" + path + "' is not a qn sequence state file");
  std::array<uint64_t, kHeaderWords> header;
  std::memcpy(header.data(), data.data() + sizeof(kMagic),
              sizeof(uint64_t) * kHeaderWords);
  const gguf::Qwen3NextHParams &hp = model.hparams();
  auto expected = geometry(hp, cparams.kvType);
  for (size_t i = 0; i < 10; ++i)
    if (header[i] != expected[i])
      return error(llvm::formatv(
          "state file '{0}' was saved for another model or KV type (header "
          "field {1} is {2}, this context needs {3})",
          path, i, header[i], expected[i]));
  const uint64_t length = header[10];
  if (length > static_cast<uint64_t>(cparams.nCtx))
    return error(llvm::formatv("state file '{0}' holds {1} positions, more "
                               "than the context of {2}",
                               path, length, cparams.nCtx));
  const uint64_t payload = payloadBytes(hp, cparams.kvType, length);
  if (header[11] != payload || data.size() != headerBytes + payload)
    return error("state file '" + path + "' is truncated or corrupt");

  SequenceSlot &slot = slots[seq];
  const char *p = data.data() + headerBytes;
  const size_t kvRow = kvElementBytes(cparams.kvType) * hp.nHeadKV * hp.headDim;
  for (int64_t il = 0; il < hp.nLayer; ++il) {
    if (hp.isRecurrent[il]) {
      std::memcpy(slot.conv[il].data(), p,
                  sizeof(float) * slot.conv[il].size());
      p += sizeof(float) * slot.conv[il].size();
      std::memcpy(slot.delta[il].data(), p,
                  sizeof(float) * slot.delta[il].size());
      p += sizeof(float) * slot.delta[il].size();
    } else {
      std::memcpy(slot.keys[il].data(), p, kvRow * length);
      p += kvRow * length;
      std::memcpy(slot.values[il].data(), p, kvRow * length);
      p += kvRow * length;
    }
  }
  slot.length = static_cast<int64_t>(length);
  inUse[seq] = true;
  return llvm::Error::success();
}

} // namespace qn::runtime

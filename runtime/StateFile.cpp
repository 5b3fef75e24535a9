//===- StateFile.cpp - save/load one sequence's whole state --------------===//
//
// Format (little-endian): the 8-byte magic "QNSEQ002", then 13 uint64: the
// model geometry (nLayer, D, Cc, Kc, Hv, dk, dv, Hkv, Dh), the KV element
// bytes, the sequence length, the payload byte count and the model's
// fingerprint; then per layer in order either the conv window and delta
// state (F32) of a linear layer, or the first `length` K rows then V rows of
// an attention layer's cache. Geometry and fingerprint must match on load,
// so a state never lands in a different model, not even one of the same
// shape with other weights; a payload with NaN or Inf is refused too.
//
//===----------------------------------------------------------------------===//

#include "gguf/InputFile.h"
#include "runtime/Context.h"

#include "runtime/layers/Layers.h"
#include "support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace qn::runtime {

static constexpr char kMagic[8] = {'Q', 'N', 'S', 'E', 'Q', '0', '0', '2'};
static constexpr size_t kHeaderWords = 13;
static constexpr size_t kGeometryWords = 10;
static constexpr size_t kFingerprintWord = 12;

static llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// Header words 0..9 describe the model and cache; 10 is the length, 11 the
/// payload size, 12 the model fingerprint.
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
          0,
          0};
}

/// Identifies the weights cheaply (not a hash of the whole file): the
/// tensor table (names, types, shapes, offsets) and up to 64 bytes at the
/// start, middle and end of every tensor's data. Two models of one geometry
/// but other weights (another seed, another fine-tune) differ in it.
static uint64_t modelFingerprint(const gguf::GGUFFile &file) {
  llvm::SmallVector<uint8_t, 0> bytes;
  auto add = [&](const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    bytes.append(b, b + n);
  };
  for (const gguf::TensorInfo &t : file.tensors()) {
    add(t.name.data(), t.name.size() + 1);
    add(&t.type, sizeof(t.type));
    add(t.ne.data(), sizeof(int64_t) * t.ne.size());
    add(&t.offset, sizeof(t.offset));
    add(&t.nbytes, sizeof(t.nbytes));
    const uint64_t sample = std::min<uint64_t>(64, t.nbytes);
    if (t.data && sample) {
      add(t.data, sample);
      add(t.data + (t.nbytes - sample) / 2, sample);
      add(t.data + t.nbytes - sample, sample);
    }
  }
  return llvm::xxh3_64bits(bytes);
}

/// Index of the first element of `count` that is NaN or Inf, or -1. F16
/// elements are non-finite when all exponent bits are set.
static int64_t firstNonFinite(const char *p, uint64_t count, size_t elemBytes) {
  for (uint64_t i = 0; i < count; ++i) {
    if (elemBytes == 2) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      if ((h & 0x7C00) == 0x7C00)
        return static_cast<int64_t>(i);
    } else {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      if (!std::isfinite(f))
        return static_cast<int64_t>(i);
    }
  }
  return -1;
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
  header[kFingerprintWord] = modelFingerprint(model.file());
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
  auto buf = qn::getInputFile(path, /*IsText=*/false,
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
  for (size_t i = 0; i < kGeometryWords; ++i)
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
  if (header[kFingerprintWord] != modelFingerprint(model.file()))
    return error("state file '" + path +
                 "' was saved from another model of the same geometry (its "
                 "weights differ from " +
                 model.file().bufferIdentifier() + ")");

  // Checked whole before anything is copied, so a bad file leaves the
  // sequence as it was.
  {
    const size_t kvElem = kvElementBytes(cparams.kvType);
    const uint64_t kvRowElems =
        static_cast<uint64_t>(hp.nHeadKV) * hp.headDim * length;
    const char *p = data.data() + headerBytes;
    for (int64_t il = 0; il < hp.nLayer; ++il) {
      const uint64_t recurrentElems =
          (hp.convKernel - 1) * hp.convChannels() +
          hp.ssmTimeStepRank * hp.ssmState * hp.headVDim();
      const bool recurrent = hp.isRecurrent[il];
      const uint64_t count = recurrent ? recurrentElems : 2 * kvRowElems;
      const size_t elemBytes = recurrent ? sizeof(float) : kvElem;
      if (int64_t bad = firstNonFinite(p, count, elemBytes); bad >= 0)
        return error(llvm::formatv("state file '{0}' holds NaN or Inf (layer "
                                   "{1}, element {2})",
                                   path, il, bad));
      p += count * elemBytes;
    }
  }

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

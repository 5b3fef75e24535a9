//===- DequantizeFormats.h - per-family block decoders ----------*- C++ -*-===//
//
// Internal to gguf/: the decoders of each family of block formats, one file
// per family, behind the switch in Dequantize.cpp. Each reproduces the
// peer's to_float for its types bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_DEQUANTIZEFORMATS_H
#define QN_GGUF_DEQUANTIZEFORMATS_H

#include "gguf/GGMLType.h"

#include <cstdint>
#include <cstring>

namespace qn::gguf::detail {

inline uint16_t load16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t load32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// An fp16 value at p (unaligned).
float loadHalfValue(const uint8_t *p);

inline float loadFloat(const uint8_t *p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// Byte `i` (0 = lowest) of a packed grid entry.
inline uint8_t gridByte(uint64_t entry, int i) {
  return static_cast<uint8_t>(entry >> (8 * i));
}

/// Decodes elements of one row of a type without interleaved rows: `meta` is
/// the row's start (its row metadata, if the type has any), `blocks` the
/// first block to decode and `n` a whole number of blocks. False if `type`
/// is not of the file's family.
bool dequantizeIQuantRow(GGMLType type, const uint8_t *meta,
                         const uint8_t *blocks, float *dst, int64_t n);
bool dequantizeIKRow(GGMLType type, const uint8_t *meta, const uint8_t *blocks,
                     float *dst, int64_t n);
bool dequantizeTrellisRow(GGMLType type, const uint8_t *meta,
                          const uint8_t *blocks, float *dst, int64_t n);
bool dequantizeTernaryRow(GGMLType type, const uint8_t *meta,
                          const uint8_t *blocks, float *dst, int64_t n);

/// Decodes one group of rowsPerGroup(type) interleaved rows of `cols`
/// elements each (`group` is its first byte; rows land row-major in `dst`).
/// False if `type` is not a repacked type qn decodes.
bool dequantizeRepackedGroup(GGMLType type, const uint8_t *group, float *dst,
                             int64_t cols);

} // namespace qn::gguf::detail

#endif // QN_GGUF_DEQUANTIZEFORMATS_H

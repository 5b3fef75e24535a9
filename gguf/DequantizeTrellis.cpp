//===- DequantizeTrellis.cpp - ik_llama.cpp's trellis types to float ------===//
//
// IQ1_KT .. IQ4_KT store no levels at all: each group of 8 (IQ4_KT: 4)
// weights is a 13..16-bit seed, and the weights are successive outputs of a
// fixed integer generator started from it (a "trellis" code). Every row
// starts with a float scale; 32-weight blocks add a scale of their own.
//
// The generator is part of the format: state x = seed + offset, then per
// weight x = x * 0xCBAC1FED (mod 2^32) and the weight is the sum of the four
// bytes of x & 0x3f3f3f3f, minus 126 (a sum of four uniform 6-bit values:
// roughly Gaussian, in [-126, 126]). IQ3_KT keeps the magnitude and stores
// the signs separately.
//
//===----------------------------------------------------------------------===//

#include "gguf/DequantizeFormats.h"
#include "gguf/QuantGrids.h"

#include <cmath>

namespace qn::gguf::detail {
namespace {

constexpr uint32_t kTrellisMultiplier = 0xCBAC1FED;
constexpr uint32_t kTrellisOffset = 4096;

// Writes `count` generator outputs from `seed`, each times `scale`.
template <bool Magnitude>
void trellisValues(uint32_t seed, uint32_t offset, float scale, float *y,
                   int count) {
  uint32_t x = seed + offset;
  for (int k = 0; k < count; ++k) {
    x *= kTrellisMultiplier;
    const uint32_t bytes = x & 0x3f3f3f3f;
    const int sum = static_cast<int>((bytes & 0xff) + ((bytes >> 8) & 0xff) +
                                     ((bytes >> 16) & 0xff) + (bytes >> 24));
    const float value = static_cast<float>(sum) - 126.f;
    y[k] = scale * (Magnitude ? std::fabs(value) : value);
  }
}

// IQ1_KT (56-byte blocks): 8 bytes (low nibble: block scale as an IQ4_K
// level; high nibble: bit 12 of each of its four seeds), 32 bytes of seed
// low bits, 16 bytes of seed bits 8-11 (a nibble per seed; blocks 4-7 use
// the high nibbles).
void dequantIQ1_KT(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 56) {
    const uint8_t *sh = x, *ql = x + 8, *qh = x + 40;
    for (int ib = 0; ib < 8; ++ib) {
      const float scale = d * grids::kValuesIQ4K[sh[ib] & 0xf];
      for (int g = 0; g < 4; ++g, y += 8) {
        const uint32_t mid = (qh[4 * (ib % 4) + g] >> (4 * (ib / 4))) & 0xf;
        const uint32_t top = (sh[ib] >> (4 + g)) & 1;
        const uint32_t seed = ql[4 * ib + g] | (mid << 8) | (top << 12);
        trellisValues<false>(seed, kTrellisOffset, scale, y, 8);
      }
    }
  }
}

// IQ2_KT (68-byte blocks): 4 bytes of two 4-bit block scales (IQ4_K levels;
// the low nibble for the first half of the super-block, the high one for the
// second), then 32 16-bit seeds: 16 for the first 128 weights, 16 for the
// second.
void dequantIQ2_KT(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 68, y += 256) {
    const uint8_t *seeds = x + 4;
    for (int ib = 0; ib < 4; ++ib) {
      const float low = d * grids::kValuesIQ4K[x[ib] & 0xf];
      const float high = d * grids::kValuesIQ4K[x[ib] >> 4];
      for (int g = 0; g < 4; ++g) {
        const int k = 4 * ib + g;
        trellisValues<false>(load16(seeds + 2 * k), kTrellisOffset, low,
                             y + 8 * k, 8);
        trellisValues<false>(load16(seeds + 32 + 2 * k), kTrellisOffset, high,
                             y + 128 + 8 * k, 8);
      }
    }
  }
}

// IQ3_KT (100-byte blocks): as IQ2_KT with unsigned 4-bit block scales and
// magnitudes, plus 32 sign bytes: bit b of byte 8 * g + j negates weight j of
// group g in block b (bits 0-3 the first half, 4-7 the second).
void dequantIQ3_KT(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 100, y += 256) {
    const uint8_t *seeds = x + 4, *signs = x + 68;
    for (int ib = 0; ib < 4; ++ib) {
      const float low = d * (x[ib] & 0xf);
      const float high = d * (x[ib] >> 4);
      for (int g = 0; g < 4; ++g) {
        const int k = 4 * ib + g;
        float *yl = y + 8 * k, *yh = y + 128 + 8 * k;
        trellisValues<true>(load16(seeds + 2 * k), kTrellisOffset, low, yl, 8);
        trellisValues<true>(load16(seeds + 32 + 2 * k), kTrellisOffset, high,
                            yh, 8);
        for (int j = 0; j < 8; ++j) {
          if ((signs[8 * g + j] >> ib) & 1)
            yl[j] = -yl[j];
          if ((signs[8 * g + j] >> (ib + 4)) & 1)
            yh[j] = -yh[j];
        }
      }
    }
  }
}

// IQ4_KT (128-byte blocks): 8 32-bit block words (bit 0: seed offset +32768;
// bits 1-7: block scale + 64; bits 8-31: bits 12-14 of its eight seeds), 64
// bytes of seed low bits, 32 bytes of seed bits 8-11 (nibbles; groups 32-63
// use the high ones). Groups of 4 weights.
void dequantIQ4_KT(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 128) {
    const uint8_t *ql = x + 32, *qh = x + 96;
    for (int ib = 0; ib < 8; ++ib) {
      const uint32_t word = load32(x + 4 * ib);
      const uint32_t offset =
          (word & 1) ? 32768 + kTrellisOffset : kTrellisOffset;
      const float scale = d * (static_cast<int>((word & 0xff) >> 1) - 64);
      for (int g = 0; g < 8; ++g, y += 4) {
        const int k = 8 * ib + g;
        const uint32_t mid = (qh[k % 32] >> (4 * (k / 32))) & 0xf;
        const uint32_t top = (word >> (8 + 3 * g)) & 7;
        const uint32_t seed = ql[k] | (mid << 8) | (top << 12);
        trellisValues<false>(seed, offset, scale, y, 4);
      }
    }
  }
}

} // namespace

bool dequantizeTrellisRow(GGMLType type, const uint8_t *meta, const uint8_t *x,
                          float *y, int64_t n) {
  const int64_t nb = n / 256;
  switch (type) {
  case GGMLType::IQ1_KT:
    return dequantIQ1_KT(loadFloat(meta), x, y, nb), true;
  case GGMLType::IQ2_KT:
    return dequantIQ2_KT(loadFloat(meta), x, y, nb), true;
  case GGMLType::IQ3_KT:
    return dequantIQ3_KT(loadFloat(meta), x, y, nb), true;
  case GGMLType::IQ4_KT:
    return dequantIQ4_KT(loadFloat(meta), x, y, nb), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

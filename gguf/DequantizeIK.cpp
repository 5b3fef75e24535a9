//===- DequantizeIK.cpp - ik_llama.cpp's own block types to float ---------===//
//
// The peer's non-linear types: Q6_0; IQ2_K .. IQ6_K (fp16 super-block scale
// and an `extra` word whose bits pick the shifted half of the code book per
// 16 or 32 weights); the row-scaled IQ4_KS, IQ5_KS, IQ4_KSS (float row
// scale), IQ2_KS, IQ3_KS, IQ2_KL (fp16 row scale); Q8_KV (float row scale
// over plain int8). Code books are in QuantGrids.h. Same float operations in
// the same order as the peer (built with -ffp-contract=off); IQ6_K's cubic
// uses explicit fused multiply-adds because the peer's compiled form does.
//
//===----------------------------------------------------------------------===//

#include "gguf/DequantizeFormats.h"
#include "gguf/QuantGrids.h"

#include <cmath>

namespace qn::gguf::detail {
namespace {

using grids::kValuesIQ2NL;
using grids::kValuesIQ3NL;
using grids::kValuesIQ4K;
using grids::kValuesIQ5NL;

constexpr int kQK = 32;
constexpr int kQKK = 256;

// Q6_0 (26 bytes): fp16 d; 8 bytes of high bit pairs; 16 bytes of nibbles.
// Element j and j+16 share a nibble byte; their two high bits sit in
// qh[j % 8] at bit 4 * (j / 8) (low pair for j, next pair for j + 16).
void dequantQ6_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 26, y += kQK) {
    const float d = loadHalfValue(x);
    const uint8_t *qh = x + 2, *qs = x + 10;
    for (int j = 0; j < 16; ++j) {
      const int h = qh[j % 8] >> (4 * (j / 8));
      const int32_t lo = ((qs[j] & 0xf) | ((h << 4) & 0x30)) - 32;
      const int32_t hi = ((qs[j] >> 4) | ((h << 2) & 0x30)) - 32;
      y[j] = lo * d;
      y[j + 16] = hi * d;
    }
  }
}

// IQ2_K (76 bytes): fp16 d, extra, 8 bytes of two 4-bit scales (offset 8),
// 64 bytes of 2-bit quants: sub-block s of 32 uses bits 2*(s%4) of bytes
// 32*(s/4) .. +31 (first 16 and second 16 weights with their own scale).
void dequantIQ2_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 76) {
    const float d = loadHalfValue(x);
    const uint16_t extra = load16(x + 2);
    const uint8_t *scales = x + 4;
    for (int s = 0; s < 8; ++s, y += 32) {
      const uint8_t *qs = x + 12 + 32 * (s / 4);
      const int shift = 2 * (s % 4);
      const float dl[2] = {d * ((scales[s] & 0xf) - 8),
                           d * ((scales[s] >> 4) - 8)};
      for (int h = 0; h < 2; ++h) {
        const int8_t *values = kValuesIQ2NL + ((extra >> (2 * s + h)) & 1) * 4;
        for (int j = 0; j < 16; ++j)
          y[16 * h + j] = dl[h] * values[(qs[16 * h + j] >> shift) & 3];
      }
    }
  }
}

// IQ2_KS (fp16 row scale, then 70-byte blocks): extra (low 8 bits: code book
// half per 32 weights; high 8 bits: fifth scale bit), 4 bytes of two 4-bit
// scales, 64 bytes of 2-bit quants (a 64-weight chunk per 4 bits of a
// 32-byte half).
void dequantIQ2_KS(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 70) {
    const uint16_t extra = load16(x);
    const uint8_t *scales = x + 2;
    for (int c = 0; c < 4; ++c, y += 64) {
      const uint8_t *qs = x + 6 + 32 * (c / 2);
      const int shift = 4 * (c % 2);
      for (int h = 0; h < 2; ++h) {
        const int scale = ((scales[c] >> (4 * h)) & 0xf) |
                          (((extra >> (8 + 2 * c + h)) & 1) << 4);
        const float dl = d * (scale - 16);
        const int8_t *values = kValuesIQ2NL + ((extra >> (2 * c + h)) & 1) * 4;
        for (int j = 0; j < 32; ++j)
          y[32 * h + j] = dl * values[(qs[j] >> (shift + 2 * h)) & 3];
      }
    }
  }
}

// IQ2_KL (fp16 row scale, then 86-byte blocks): 16 bits of scale tops, 4
// bytes of scale nibbles, 64 bytes of 4-bit pair indices, 16 bytes of their
// fifth bits. Each 5-bit index selects two weights (kPairsIQ2KL).
void dequantIQ2_KL(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 86) {
    const uint16_t scalesHigh = load16(x);
    const uint8_t *scalesLow = x + 2, *qh = x + 70;
    for (int c = 0; c < 4; ++c, y += 64) {
      const uint8_t *qs = x + 6 + 16 * c;
      for (int h = 0; h < 2; ++h) {
        const int low = (scalesLow[(2 * c + h) % 4] >> (4 * (c / 2))) & 0xf;
        const int high = (scalesHigh >> (4 * c + 2 * h)) & 3;
        const float dl = d * ((low | (high << 4)) - 32);
        for (int j = 0; j < 16; ++j) {
          const int index =
              ((qs[j] >> (4 * h)) & 0xf) | (((qh[j] >> (2 * c + h)) & 1) << 4);
          const uint16_t pair = grids::kPairsIQ2KL[index];
          y[32 * h + 2 * j] = dl * static_cast<int8_t>(pair & 0xff);
          y[32 * h + 2 * j + 1] = dl * static_cast<int8_t>(pair >> 8);
        }
      }
    }
  }
}

// IQ3_K (110 bytes): fp16 d, extra, 16 bits of scale signs, 8 bytes of two
// 4-bit scales (odd multiples 1..31), 64 bytes of low 2 bits (as IQ2_K), 32
// bytes of third bits (bit s of byte j for sub-block s).
void dequantIQ3_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const float d = loadHalfValue(x);
    const uint16_t extra = load16(x + 2);
    const uint16_t signs = load16(x + 4);
    const uint8_t *scales = x + 6, *qh = x + 78;
    for (int s = 0; s < 8; ++s, y += 32) {
      const uint8_t *qs = x + 14 + 32 * (s / 4);
      const int shift = 2 * (s % 4);
      for (int h = 0; h < 2; ++h) {
        const int magnitude = 2 * ((scales[s] >> (4 * h)) & 0xf) + 1;
        const int sign = ((signs >> (2 * s + h)) & 1) ? -1 : 1;
        const float dl = d * (magnitude * sign);
        const int8_t *values = kValuesIQ3NL + ((extra >> (2 * s + h)) & 1) * 8;
        for (int j = 16 * h; j < 16 * h + 16; ++j)
          y[j] =
              dl * values[((qs[j] >> shift) & 3) | (((qh[j] >> s) & 1) << 2)];
      }
    }
  }
}

// IQ3_KS (fp16 row scale, then 102-byte blocks): extra (bits 0-7: fifth scale
// bit, bits 8-15: code book half per 32 weights), 4 bytes of two 4-bit
// scales, 64 bytes of low 2 bits (four 32-weight sub-blocks per 32-byte
// half), 32 bytes of third bits.
void dequantIQ3_KS(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 102) {
    const uint16_t extra = load16(x);
    const uint8_t *scales = x + 2, *qh = x + 70;
    float dl[8];
    for (int j = 0; j < 4; ++j) {
      dl[j] = d * (((scales[j] & 0xf) | (((extra >> j) & 1) << 4)) - 16);
      dl[j + 4] =
          d * (((scales[j] >> 4) | (((extra >> (j + 4)) & 1) << 4)) - 16);
    }
    for (int s = 0; s < 8; ++s, y += 32) {
      const uint8_t *qs = x + 6 + 32 * (s / 4);
      const int shift = 2 * (s % 4);
      const int8_t *values = kValuesIQ3NL + ((extra >> (8 + s)) & 1) * 8;
      for (int j = 0; j < 32; ++j)
        y[j] =
            dl[s] * values[((qs[j] >> shift) & 3) | (((qh[j] >> s) & 1) << 2)];
    }
  }
}

// IQ4_K (144 bytes): fp16 d, extra, 4 bytes of 2-bit scale tops, 8 bytes of
// scale nibbles (two 6-bit scales per 32 weights, one per 16), 128 bytes of
// nibbles.
void dequantIQ4_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 144) {
    const float d = loadHalfValue(x);
    const uint16_t extra = load16(x + 2);
    const uint8_t *scalesHigh = x + 4, *scalesLow = x + 8;
    for (int s = 0; s < 8; ++s, y += 32) {
      const uint8_t *qs = x + 16 + 16 * s;
      const int high = scalesHigh[s / 2] >> (4 * (s % 2));
      const float dl[2] = {
          d * (((scalesLow[s] & 0xf) | ((high << 4) & 0x30)) - 32),
          d * (((scalesLow[s] >> 4) | ((high << 2) & 0x30)) - 32)};
      for (int h = 0; h < 2; ++h) {
        const int8_t *values = kValuesIQ4K + ((extra >> (2 * s + h)) & 1) * 16;
        for (int j = 0; j < 16; ++j)
          y[16 * h + j] = dl[h] * values[(qs[j] >> (4 * h)) & 0xf];
      }
    }
  }
}

// IQ5_K (176 bytes): as IQ4_K plus 32 bytes of fifth bits; 64-weight chunk c
// takes nibbles from bytes 32c .. 32c+31 (low nibbles first) and its fifth
// bits from bits 2c, 2c+1 of qh.
void dequantIQ5_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 176) {
    const float d = loadHalfValue(x);
    const uint16_t extra = load16(x + 2);
    const uint8_t *scalesHigh = x + 4, *scalesLow = x + 8, *qh = x + 144;
    for (int c = 0; c < 4; ++c, y += 64) {
      const uint8_t *qs = x + 16 + 32 * c;
      const int sh = scalesHigh[c];
      // Quarter q (16 weights): scale nibble, its 2-bit top at bit 2q of sh.
      for (int q = 0; q < 4; ++q) {
        const int low = (scalesLow[2 * c + q / 2] >> (4 * (q % 2))) & 0xf;
        const float dl = d * ((low | (((sh >> (2 * q)) & 3) << 4)) - 32);
        const int8_t *values = kValuesIQ5NL + ((extra >> (4 * c + q)) & 1) * 32;
        const int nibble = 4 * (q / 2), bit = 2 * c + q / 2;
        const int base = 16 * (q % 2);
        for (int j = 0; j < 16; ++j) {
          const int k = base + j;
          y[16 * q + j] =
              dl *
              values[((qs[k] >> nibble) & 0xf) | (((qh[k] >> bit) & 1) << 4)];
        }
      }
    }
  }
}

// IQ6_K's levels are a cubic in the 6-bit quant (its code book is that
// polynomial, shifted by one where `extra` says so). The peer's compiler
// contracts the Horner form into three fused multiply-adds; so do we.
float iq6kLevel(float q, float shift) {
  constexpr float kA = -127.f, kB = 6.2568f, kC = 0.11218f, kD = 0.0011972f;
  return std::fmaf(q, std::fmaf(q, std::fmaf(q, kD, -kC), kB), kA) + shift;
}

// IQ6_K (212 bytes): fp16 d, extra, 16 int8 scales (one per 16 weights), 128
// bytes of nibbles, 64 bytes of 2-bit tops.
void dequantIQ6_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 212) {
    const float d = loadHalfValue(x);
    const uint16_t extra = load16(x + 2);
    const int8_t *scales = reinterpret_cast<const int8_t *>(x + 4);
    for (int c = 0; c < 4; ++c, y += 64) {
      const uint8_t *qs = x + 20 + 32 * c;
      const uint8_t *qh = x + 148 + 32 * (c / 2);
      const int shift = 4 * (c % 2);
      for (int q = 0; q < 4; ++q) {
        const float dl = d * scales[4 * c + q];
        const float m = ((extra >> (4 * c + q)) & 1) ? 1.f : 0.f;
        const int nibble = 4 * (q / 2), top = shift + 2 * (q / 2);
        const int base = 16 * (q % 2);
        for (int j = 0; j < 16; ++j) {
          const int k = base + j;
          const int level =
              ((qs[k] >> nibble) & 0xf) | (((qh[k] >> top) & 3) << 4);
          y[16 * q + j] = dl * iq6kLevel(static_cast<float>(level), m);
        }
      }
    }
  }
}

// The 8-bit scale of IQ4_KS / IQ5_KS / IQ4_KSS sub-blocks: even values
// 0..254 minus 127; the low bit picks the code book half.
inline float ksScale(float d, int scale) { return d * ((scale & 254) - 127); }

// IQ4_KS (float row scale, then 136-byte blocks): 8 scale bytes, 128 bytes of
// nibbles (16 per 32 weights).
void dequantIQ4_KS(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 136) {
    for (int s = 0; s < 8; ++s, y += 32) {
      const uint8_t *qs = x + 8 + 16 * s;
      const float dl = ksScale(d, x[s]);
      const int8_t *values = kValuesIQ4K + (x[s] & 1) * 16;
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * values[qs[j] & 0xf];
        y[j + 16] = dl * values[qs[j] >> 4];
      }
    }
  }
}

// IQ5_KS (float row scale, then 168-byte blocks): 8 scale bytes, 128 bytes of
// nibbles (a 64-weight chunk per 32 bytes), 32 bytes of fifth bits.
void dequantIQ5_KS(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 168) {
    const uint8_t *qh = x + 136;
    for (int c = 0; c < 4; ++c, y += 64) {
      const uint8_t *qs = x + 8 + 32 * c;
      for (int h = 0; h < 2; ++h) {
        const int scale = x[2 * c + h];
        const float dl = ksScale(d, scale);
        const int8_t *values = kValuesIQ5NL + (scale & 1) * 32;
        for (int j = 0; j < 32; ++j)
          y[32 * h + j] = dl * values[((qs[j] >> (4 * h)) & 0xf) |
                                      (((qh[j] >> (2 * c + h)) & 1) << 4)];
      }
    }
  }
}

// IQ4_KSS (float row scale, then 128-byte blocks): per 32 weights eight 16-bit
// words. Bit 0 of each word is one bit of the sub-block's 8-bit scale; the
// other 15 bits are the four nibbles, stored as v ^ (v >> 1) of the nibble
// word with its low bit cleared.
void dequantIQ4_KSS(float d, const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 128) {
    for (int s = 0; s < 8; ++s, y += 32) {
      uint8_t nibbles[16];
      int scale = 0;
      for (int k = 0; k < 8; ++k) {
        const uint16_t word = load16(x + 16 * s + 2 * k);
        uint16_t v = word & 0xfffe;
        v ^= v >> 1;
        nibbles[2 * k] = static_cast<uint8_t>(v & 0xff);
        nibbles[2 * k + 1] = static_cast<uint8_t>(v >> 8);
        scale |= (word & 1) << k;
      }
      const int8_t *values = kValuesIQ4K + (scale & 1) * 16;
      const float dl = ksScale(d, scale);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * values[nibbles[j] & 0xf];
        y[j + 16] = dl * values[nibbles[j] >> 4];
      }
    }
  }
}

// Q8_KV: the row starts with a float scale and an int32 (the sum of the
// quants, for the peer's dot products); then one int8 per element.
void dequantQ8_KV(float d, const uint8_t *x, float *y, int64_t n) {
  const int8_t *q = reinterpret_cast<const int8_t *>(x);
  for (int64_t j = 0; j < n; ++j)
    y[j] = d * q[j];
}

} // namespace

bool dequantizeIKRow(GGMLType type, const uint8_t *meta, const uint8_t *x,
                     float *y, int64_t n) {
  switch (type) {
  case GGMLType::Q6_0:
    return dequantQ6_0(x, y, n / kQK), true;
  case GGMLType::IQ2_K:
    return dequantIQ2_K(x, y, n / kQKK), true;
  case GGMLType::IQ3_K:
    return dequantIQ3_K(x, y, n / kQKK), true;
  case GGMLType::IQ4_K:
    return dequantIQ4_K(x, y, n / kQKK), true;
  case GGMLType::IQ5_K:
    return dequantIQ5_K(x, y, n / kQKK), true;
  case GGMLType::IQ6_K:
    return dequantIQ6_K(x, y, n / kQKK), true;
  case GGMLType::IQ2_KS:
    return dequantIQ2_KS(loadHalfValue(meta), x, y, n / kQKK), true;
  case GGMLType::IQ3_KS:
    return dequantIQ3_KS(loadHalfValue(meta), x, y, n / kQKK), true;
  case GGMLType::IQ2_KL:
    return dequantIQ2_KL(loadHalfValue(meta), x, y, n / kQKK), true;
  case GGMLType::IQ4_KS:
    return dequantIQ4_KS(loadFloat(meta), x, y, n / kQKK), true;
  case GGMLType::IQ5_KS:
    return dequantIQ5_KS(loadFloat(meta), x, y, n / kQKK), true;
  case GGMLType::IQ4_KSS:
    return dequantIQ4_KSS(loadFloat(meta), x, y, n / kQKK), true;
  case GGMLType::Q8_KV:
    return dequantQ8_KV(loadFloat(meta), x, y, n), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

//===- DequantizeIQ.cpp - the mainline i-quants to float ------------------===//
//
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M: 256-element
// super-blocks of 32-element sub-blocks, each weight group (4 or 8 weights)
// stored as an index into a lattice grid (QuantGrids.cpp) plus sign bits,
// under a per-sub-block scale. The float operations are the peer's, in its
// order (built with -ffp-contract=off), so the values match it bit for bit.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "gguf/DequantizeFormats.h"
#include "gguf/QuantGrids.h"

namespace qn::gguf::detail {
namespace {

constexpr int kQKK = 256;
// IQ1_S / IQ1_M: the grid values {-1, 0, 1} are shifted by +-1/8.
constexpr float kIQ1Delta = 0.125f;

// IQ2_XXS, IQ2_XS and IQ3_XXS store 7 sign bits per 8 weights; the eighth
// makes the count of negative signs even (the quantizer flips the least
// important weight to get there).
uint8_t evenParitySigns(uint32_t sevenBits) {
  uint32_t parity = sevenBits;
  parity ^= parity >> 4;
  parity ^= parity >> 2;
  parity ^= parity >> 1;
  return static_cast<uint8_t>(sevenBits | ((parity & 1) << 7));
}

// scale * magnitude, negated where the sign bit is set: the peer multiplies by
// -1.f, which is the same as negating (signed zeros included).
inline float signedValue(float scale, uint8_t magnitude, bool negative) {
  const float v = scale * magnitude;
  return negative ? -v : v;
}

// 8 weights from a grid entry of 8 magnitudes and a sign byte.
inline void put8(float *y, float scale, uint64_t entry, uint8_t signs) {
  for (int j = 0; j < 8; ++j)
    y[j] = signedValue(scale, gridByte(entry, j), (signs >> j) & 1);
}

// IQ2_XXS (66 bytes): fp16 d; per 32 weights two 32-bit words: four grid
// indices (bytes), then four 7-bit sign groups and a 4-bit scale on top.
void dequantIQ2_XXS(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 66) {
    const float d = loadHalfValue(x);
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t *words = x + 2 + 8 * ib;
      const uint32_t signsAndScale = load32(words + 4);
      const float db = d * (0.5f + (signsAndScale >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l, y += 8)
        put8(y, db, grids::kGridIQ2XXS[words[l]],
             evenParitySigns((signsAndScale >> (7 * l)) & 127));
    }
  }
}

// IQ2_XS (74 bytes): fp16 d; 32 16-bit codes (9-bit grid index, 7 sign
// bits); 8 bytes of two 4-bit scales (one per 16 weights).
void dequantIQ2_XS(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 74) {
    const float d = loadHalfValue(x);
    const uint8_t *scales = x + 66;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + (scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint16_t code = load16(x + 2 + 2 * (4 * ib + l));
        put8(y, db[l / 2], grids::kGridIQ2XS[code & 511],
             evenParitySigns(code >> 9));
      }
    }
  }
}

// IQ2_S (82 bytes): fp16 d; 32 low index bytes, 32 sign bytes, 8 bytes of
// 2-bit index tops (one byte per 32 weights), 8 bytes of scales.
void dequantIQ2_S(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 82) {
    const float d = loadHalfValue(x);
    const uint8_t *low = x + 2, *signs = x + 34, *high = x + 66;
    const uint8_t *scales = x + 74;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,
                           d * (0.5f + (scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const int index = low[4 * ib + l] | (((high[ib] >> (2 * l)) & 3) << 8);
        put8(y, db[l / 2], grids::kGridIQ2S[index], signs[4 * ib + l]);
      }
    }
  }
}

// IQ3_XXS (98 bytes): fp16 d; 64 grid indices (4 weights each); per 32
// weights a 32-bit word of four 7-bit sign groups and a 4-bit scale.
void dequantIQ3_XXS(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 98) {
    const float d = loadHalfValue(x);
    const uint8_t *index = x + 2;
    for (int ib = 0; ib < 8; ++ib) {
      const uint32_t signsAndScale = load32(x + 66 + 4 * ib);
      const float db = d * (0.5f + (signsAndScale >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t signs = evenParitySigns((signsAndScale >> (7 * l)) & 127);
        const uint32_t first = grids::kGridIQ3XXS[index[8 * ib + 2 * l]];
        const uint32_t second = grids::kGridIQ3XXS[index[8 * ib + 2 * l + 1]];
        for (int j = 0; j < 4; ++j) {
          y[j] = signedValue(db, gridByte(first, j), (signs >> j) & 1);
          y[j + 4] =
              signedValue(db, gridByte(second, j), (signs >> (j + 4)) & 1);
        }
      }
    }
  }
}

// IQ3_S (110 bytes): fp16 d; 64 low index bytes (4 weights each); 8 bytes of
// index top bits (one per group); 32 sign bytes; 4 bytes of 4-bit scales,
// odd multiples 1..31 of d.
void dequantIQ3_S(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const float d = loadHalfValue(x);
    const uint8_t *low = x + 2, *high = x + 66, *signs = x + 74;
    const uint8_t *scales = x + 106;
    for (int ib = 0; ib < 8; ++ib) {
      const float db = d * (1 + 2 * ((scales[ib / 2] >> (4 * (ib % 2))) & 0xf));
      for (int g = 0; g < 8; ++g, y += 4) {
        const int index = low[8 * ib + g] | (((high[ib] >> g) & 1) << 8);
        const uint32_t entry = grids::kGridIQ3S[index];
        const uint8_t sign = signs[4 * ib + g / 2] >> (4 * (g % 2));
        for (int j = 0; j < 4; ++j)
          y[j] = signedValue(db, gridByte(entry, j), (sign >> j) & 1);
      }
    }
  }
}

// 8 weights of an IQ1 grid entry: scale * (value + delta).
inline void putIQ1(float *y, float scale, uint64_t entry, float delta) {
  for (int j = 0; j < 8; ++j)
    y[j] = scale * (static_cast<int8_t>(gridByte(entry, j)) + delta);
}

// IQ1_S (50 bytes): fp16 d; 32 low index bytes; per 32 weights a 16-bit word:
// four 3-bit index tops, a 3-bit scale, the sign of the delta.
void dequantIQ1_S(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 50) {
    const float d = loadHalfValue(x);
    const uint8_t *low = x + 2;
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t word = load16(x + 34 + 2 * ib);
      const float dl = d * (2 * ((word >> 12) & 7) + 1);
      const float delta = (word & 0x8000) ? -kIQ1Delta : kIQ1Delta;
      for (int l = 0; l < 4; ++l, y += 8)
        putIQ1(
            y, dl,
            grids::kGridIQ1S[low[4 * ib + l] | (((word >> (3 * l)) & 7) << 8)],
            delta);
    }
  }
}

// IQ1_M (56 bytes): 32 low index bytes; 16 bytes of 4-bit group fields (3
// index top bits, delta sign); 8 bytes of 3-bit scales (one per 16
// weights) whose four spare top nibbles hold the fp16 super-block scale.
void dequantIQ1_M(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 56) {
    const uint8_t *low = x, *fields = x + 32;
    uint16_t sc[4];
    for (int k = 0; k < 4; ++k)
      sc[k] = load16(x + 48 + 2 * k);
    const uint16_t dBits =
        static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                              ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = fp16ToFloat(dBits);
    for (int ib = 0; ib < 8; ++ib) {
      const int shift = 6 * (ib % 2);
      const float dl[2] = {d * (2 * ((sc[ib / 2] >> shift) & 7) + 1),
                           d * (2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1)};
      for (int g = 0; g < 4; ++g, y += 8) {
        const int field = (fields[2 * ib + g / 2] >> (4 * (g % 2))) & 0xf;
        const float delta = (field & 8) ? -kIQ1Delta : kIQ1Delta;
        putIQ1(y, dl[g / 2],
               grids::kGridIQ1S[low[4 * ib + g] | ((field & 7) << 8)], delta);
      }
    }
  }
}

} // namespace

bool dequantizeIQuantRow(GGMLType type, const uint8_t * /*meta*/,
                         const uint8_t *x, float *y, int64_t n) {
  const int64_t nb = n / kQKK;
  switch (type) {
  case GGMLType::IQ2_XXS:
    return dequantIQ2_XXS(x, y, nb), true;
  case GGMLType::IQ2_XS:
    return dequantIQ2_XS(x, y, nb), true;
  case GGMLType::IQ2_S:
    return dequantIQ2_S(x, y, nb), true;
  case GGMLType::IQ3_XXS:
    return dequantIQ3_XXS(x, y, nb), true;
  case GGMLType::IQ3_S:
    return dequantIQ3_S(x, y, nb), true;
  case GGMLType::IQ1_S:
    return dequantIQ1_S(x, y, nb), true;
  case GGMLType::IQ1_M:
    return dequantIQ1_M(x, y, nb), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

//===- DequantizeRepacked.cpp - ik's row-interleaved layouts to float -----===//
//
// The peer's _r4 / _r8 types store R consecutive rows together: each block
// holds the same column range of all R rows (their scales side by side, the
// quants interleaved in 4-byte runs so that one SIMD load feeds R rows). A
// group of R rows is decoded as a unit; where the type has row metadata the
// group starts with the R rows' row scales. Most decode to exactly the base
// type's values (same float operations); q5_0_r4 and q6_0_r4 subtract the
// offset as d*q + (-16d) (resp. -32d), which gives +0.0 where the base type's
// (q - 16) * d gives -0.0; iq1_s_r4, iq1_m_r4 and iq2_bn_r4 are formats of
// their own. Built with -ffp-contract=off like the base decoders.
//
//===----------------------------------------------------------------------===//

#include "gguf/DequantizeFormats.h"
#include "gguf/QuantGrids.h"

namespace qn::gguf::detail {
namespace {

using grids::kValuesIQ2NL;
using grids::kValuesIQ3NL;
using grids::kValuesIQ4K;
using grids::kValuesIQ5NL;

constexpr float kIQ1Delta = 0.125f;

// Most 4-row layouts store a 32-weight sub-block as 64 bytes of nibbles in
// 4-byte runs: byte 16 * l + 4 * k + i holds row k's weights slot(l, i)
// (low nibble) and slot(l, i) + 8 (high nibble).
constexpr int nibbleSlot(int l, int i) {
  return i + 16 * (l % 2) + 4 * (l / 2);
}

inline float signedValue(float scale, int magnitude, bool negative) {
  const float v = scale * magnitude;
  return negative ? -v : v;
}

// The 6-bit scale `is` of the r4/r8 layouts: its low nibble in byte is % 32
// of `low` (the high nibble for is >= 32), its top 2 bits at bit 2 * (is /
// 16) of byte is % 16 of `high`.
inline int scale6(const uint8_t *low, const uint8_t *high, int is) {
  return ((low[is % 32] >> (4 * (is / 32))) & 0xf) |
         (((high[is % 16] >> (2 * (is / 16))) & 3) << 4);
}

//===--- 32-element blocks -----------------------------------------------===//

// q4_0_r8 (8 x 18 bytes per 32 columns): 8 fp16 scales, then 128 bytes:
// byte 32 * l + 4 * k + i holds row k's weights 4l + i and 4l + i + 16.
void decodeQ4_0_R8(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 32; ++b, g += 144)
    for (int k = 0; k < 8; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 32 * b;
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = g[16 + 32 * l + 4 * k + i];
          yk[4 * l + i] = d * ((q & 0xf) - 8);
          yk[4 * l + i + 16] = d * ((q >> 4) - 8);
        }
    }
}

// q8_0_r8 (8 x 34 bytes): 8 fp16 scales, then 256 int8: byte 32 * l + 4 * k +
// i is row k's weight 4l + i, byte 128 further its weight 4l + i + 16.
void decodeQ8_0_R8(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 32; ++b, g += 272)
    for (int k = 0; k < 8; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const int8_t *qs = reinterpret_cast<const int8_t *>(g + 16);
      float *yk = y + k * cols + 32 * b;
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          yk[4 * l + i] = d * qs[32 * l + 4 * k + i];
          yk[4 * l + i + 16] = d * qs[128 + 32 * l + 4 * k + i];
        }
    }
}

// iq4_nl_r4 (4 x 18 bytes): 4 fp16 scales, 64 nibble bytes (nibbleSlot).
void decodeIQ4_NL_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 32; ++b, g += 72)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 32 * b;
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = g[8 + 16 * l + 4 * k + i];
          yk[nibbleSlot(l, i)] = d * kValuesIQ4K[q & 0xf];
          yk[nibbleSlot(l, i) + 8] = d * kValuesIQ4K[q >> 4];
        }
    }
}

// q5_0_r4 (4 x 22 bytes): 4 fp16 scales, 16 bytes of fifth bits (byte 4k + i,
// bit l for the low nibble of run l, bit l + 4 for the high one), 64 nibble
// bytes.
void decodeQ5_0_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 32; ++b, g += 88)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const float m = -16 * d;
      float *yk = y + k * cols + 32 * b;
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = g[24 + 16 * l + 4 * k + i];
          const uint8_t h = g[8 + 4 * k + i];
          yk[nibbleSlot(l, i)] = d * ((q & 0xf) | (((h >> l) & 1) << 4)) + m;
          yk[nibbleSlot(l, i) + 8] =
              d * ((q >> 4) | (((h >> (l + 4)) & 1) << 4)) + m;
        }
    }
}

// q6_0_r4 (4 x 26 bytes): 4 fp16 scales, 32 bytes of high bit pairs (byte
// 4k + i + 16 * (l % 2), bits 2 * (l / 2) and + 4), 64 nibble bytes.
void decodeQ6_0_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 32; ++b, g += 104)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const float m = -32 * d;
      float *yk = y + k * cols + 32 * b;
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = g[40 + 16 * l + 4 * k + i];
          const uint8_t h = g[8 + 4 * k + i + 16 * (l % 2)];
          const int shift = 2 * (l / 2);
          yk[nibbleSlot(l, i)] =
              d * ((q & 0xf) | (((h >> shift) & 3) << 4)) + m;
          yk[nibbleSlot(l, i) + 8] =
              d * ((q >> 4) | (((h >> (shift + 4)) & 3) << 4)) + m;
        }
    }
}

// iq1_s_r4: 4 fp16 row scales, then per 32 columns 24 bytes: 16 low index
// bytes (byte 4i + k: row k's group i), four 16-bit words (row k: four 3-bit
// index tops, a 3-bit scale, the delta's sign).
void decodeIQ1_S_R4(const uint8_t *g, float *y, int64_t cols) {
  float d[4];
  for (int k = 0; k < 4; ++k)
    d[k] = loadHalfValue(g + 2 * k);
  const uint8_t *x = g + 8;
  for (int64_t b = 0; b < cols / 32; ++b, x += 24)
    for (int k = 0; k < 4; ++k) {
      const uint16_t word = load16(x + 16 + 2 * k);
      const float delta = (word & 0x8000) ? -kIQ1Delta : kIQ1Delta;
      const float dl = d[k] * (2 * ((word >> 12) & 7) + 1);
      float *yk = y + k * cols + 32 * b;
      for (int i = 0; i < 4; ++i) {
        const uint64_t entry =
            grids::kGridIQ1S[x[4 * i + k] | (((word >> (3 * i)) & 7) << 8)];
        for (int j = 0; j < 8; ++j)
          yk[8 * i + j] =
              dl * (static_cast<int8_t>(gridByte(entry, j)) + delta);
      }
    }
}

// iq1_m_r4: 4 fp16 row scales, then per 32 columns 28 bytes: 16 low index
// bytes, 8 bytes of two 4-bit fields (3 index top bits, delta sign), 4 bytes
// of two 4-bit scales (one per 16 weights) - no super-block scale.
void decodeIQ1_M_R4(const uint8_t *g, float *y, int64_t cols) {
  float d[4];
  for (int k = 0; k < 4; ++k)
    d[k] = loadHalfValue(g + 2 * k);
  const uint8_t *x = g + 8;
  for (int64_t b = 0; b < cols / 32; ++b, x += 28)
    for (int k = 0; k < 4; ++k) {
      const float dl[2] = {d[k] * (x[24 + k] & 0xf), d[k] * (x[24 + k] >> 4)};
      float *yk = y + k * cols + 32 * b;
      // Half h (16 weights): groups of 8 from index bytes 8h + k and 8h + k +
      // 4, their fields in the low and high nibble of byte 16 + 4h + k.
      for (int h = 0; h < 2; ++h)
        for (int s = 0; s < 2; ++s) {
          const int field = (x[16 + 4 * h + k] >> (4 * s)) & 0xf;
          const uint64_t entry =
              grids::kGridIQ1S[x[8 * h + k + 4 * s] | ((field & 7) << 8)];
          const float delta = (field & 8) ? -kIQ1Delta : kIQ1Delta;
          for (int j = 0; j < 8; ++j)
            yk[16 * h + 8 * s + j] =
                dl[h] * (static_cast<int8_t>(gridByte(entry, j)) + delta);
        }
    }
}

// q8_KV_r8: 8 float row scales, then per 16 columns 128 int8: byte 32 * l +
// 4 * k + i is row k's weight 4l + i.
void decodeQ8_KV_R8(const uint8_t *g, float *y, int64_t cols) {
  const int8_t *q = reinterpret_cast<const int8_t *>(g + 32);
  for (int64_t b = 0; b < cols / 16; ++b, q += 128)
    for (int k = 0; k < 8; ++k) {
      const float d = loadFloat(g + 4 * k);
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i)
          y[k * cols + 16 * b + 4 * l + i] = d * q[32 * l + 4 * k + i];
    }
}

// iq2_bn_r4: 4 float row scales, then per 64 columns 64 bytes: byte 16 * l +
// 4 * k + i holds four 2-bit values (-1, 0, +1 as 0, 1, 2) of row k, at
// columns 16l + i + 4t for t = 0..3.
void decodeIQ2_BN_R4(const uint8_t *g, float *y, int64_t cols) {
  const uint8_t *x = g + 16;
  for (int64_t b = 0; b < cols / 64; ++b, x += 64)
    for (int k = 0; k < 4; ++k) {
      const float d = loadFloat(g + 4 * k);
      for (int l = 0; l < 4; ++l)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = x[16 * l + 4 * k + i];
          for (int t = 0; t < 4; ++t)
            y[k * cols + 64 * b + 16 * l + i + 4 * t] =
                d * (((q >> (2 * t)) & 3) - 1);
        }
    }
}

//===--- K-quant layouts (256-element super-blocks) ----------------------===//

// q2_k_r4 (4 x 84 bytes): 4 fp16 d then 4 fp16 mins, 64 scale bytes (byte
// 8 * s + k: row k, 16-weight half 2s; + 4 the other half), 256 bytes of
// 2-bit quants (32 per sub-block: byte 4k + i, bits 2t, at weight i + 4t).
void decodeQ2_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 336)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const float m = loadHalfValue(g + 8 + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t *qs = g + 80 + 32 * s;
        for (int h = 0; h < 2; ++h) {
          const uint8_t sc = g[16 + 8 * s + k + 4 * h];
          const float dl = d * (sc & 0xf), ml = m * (sc >> 4);
          for (int i = 0; i < 4; ++i)
            for (int t = 0; t < 4; ++t)
              yk[32 * s + 16 * h + i + 4 * t] =
                  dl * ((qs[4 * k + i + 16 * h] >> (2 * t)) & 3) - ml;
        }
      }
    }
}

// q3_k_r4 (4 x 110 bytes): 4 fp16 d, 16 + 32 bytes of 6-bit scales
// (scale6), 128 bytes of third bits (16 per sub-block: byte 4k + i, bit t
// for the first half, t + 4 for the second), 256 bytes of low 2 bits.
void decodeQ3_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 440)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t *qs = g + 184 + 32 * s, *qh = g + 56 + 16 * s;
        for (int h = 0; h < 2; ++h) {
          const float dl = d * (scale6(g + 24, g + 8, 8 * s + k + 4 * h) - 32);
          for (int i = 0; i < 4; ++i)
            for (int t = 0; t < 4; ++t) {
              const int q = ((qs[4 * k + i + 16 * h] >> (2 * t)) & 3) |
                            (((qh[4 * k + i] >> (t + 4 * h)) & 1) << 2);
              yk[32 * s + 16 * h + i + 4 * t] = dl * (q - 4);
            }
        }
      }
    }
}

// The 6-bit scale and min of q4_k_r4 / q5_k_r4 sub-block `is`: low nibble
// and high nibble of low[is], 2-bit tops at bits 4 * (is / 16) (scale) and
// + 2 (min) of high[is % 16].
inline void scaleMinK4(const uint8_t *low, const uint8_t *high, int is,
                       int &scale, int &min) {
  const int top = high[is % 16] >> (4 * (is / 16));
  scale = (low[is] & 0xf) | ((top & 3) << 4);
  min = (low[is] >> 4) | (((top >> 2) & 3) << 4);
}

// q4_k_r4 (4 x 144 bytes): 4 fp16 d, 4 fp16 mins, 16 + 32 scale bytes, 512
// nibble bytes (64 per sub-block, nibbleSlot).
void decodeQ4_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 576)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const float m = loadHalfValue(g + 8 + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        int sc, mn;
        scaleMinK4(g + 32, g + 16, 4 * s + k, sc, mn);
        const float dl = d * sc, ml = m * mn;
        const uint8_t *qs = g + 64 + 64 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            yk[32 * s + nibbleSlot(l, i)] = dl * (q & 0xf) - ml;
            yk[32 * s + nibbleSlot(l, i) + 8] = dl * (q >> 4) - ml;
          }
      }
    }
}

// q5_k_r4 (4 x 176 bytes): as q4_k_r4 plus 128 bytes of fifth bits after the
// scales (16 per sub-block, byte 4k + i; run l's low nibble uses bit
// 2 * (l / 2) + 4 * (l % 2), its high nibble the next bit).
void decodeQ5_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 704)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const float m = loadHalfValue(g + 8 + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        int sc, mn;
        scaleMinK4(g + 32, g + 16, 4 * s + k, sc, mn);
        const float dl = d * sc, ml = m * mn;
        const uint8_t *qs = g + 192 + 64 * s, *qh = g + 64 + 16 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            const int bit = 2 * (l / 2) + 4 * (l % 2);
            const int h = qh[4 * k + i];
            yk[32 * s + nibbleSlot(l, i)] =
                dl * ((q & 0xf) | (((h >> bit) & 1) << 4)) - ml;
            yk[32 * s + nibbleSlot(l, i) + 8] =
                dl * ((q >> 4) | (((h >> (bit + 1)) & 1) << 4)) - ml;
          }
      }
    }
}

// q6_k_r4 (4 x 210 bytes): 4 fp16 d, 64 int8 scales (byte 8s + k and + 4 for
// the two halves of sub-block s), 256 bytes of 2-bit tops (32 per
// sub-block), 512 nibble bytes (nibbleSlot; run l takes its tops from byte
// 4k + i + 16 * (l % 2) at bit 4 * (l / 2), + 2 for the high nibble).
void decodeQ6_K_R4(const uint8_t *g, float *y, int64_t cols) {
  const int8_t *scales = nullptr;
  for (int64_t b = 0; b < cols / 256; ++b, g += 840)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      scales = reinterpret_cast<const int8_t *>(g + 8);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const float dl[2] = {d * scales[8 * s + k], d * scales[8 * s + k + 4]};
        const uint8_t *ql = g + 328 + 64 * s, *qh = g + 72 + 32 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = ql[16 * l + 4 * k + i];
            const int h = qh[4 * k + i + 16 * (l % 2)] >> (4 * (l / 2));
            yk[32 * s + nibbleSlot(l, i)] =
                dl[l % 2] * (((q & 0xf) | ((h & 3) << 4)) - 32);
            yk[32 * s + nibbleSlot(l, i) + 8] =
                dl[l % 2] * (((q >> 4) | (((h >> 2) & 3) << 4)) - 32);
          }
      }
    }
}

// q8_k_r8 (8 x 258 bytes): 8 fp16 scales, 2048 int8: byte 32 * j + 4 * k + i
// is row k's weight 4j + i.
void decodeQ8_K_R8(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 2064)
    for (int k = 0; k < 8; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      const int8_t *qs = reinterpret_cast<const int8_t *>(g + 16);
      for (int j = 0; j < 64; ++j)
        for (int i = 0; i < 4; ++i)
          y[k * cols + 256 * b + 4 * j + i] = d * qs[32 * j + 4 * k + i];
    }
}

//===--- Mainline i-quant layouts ----------------------------------------===//

// The 4-bit scale of iq2_xxs_r4 / iq3_xxs_r4 is spread over bit 0 of the four
// bytes of the sub-block's 32-bit word; the other 28 bits, after v ^ (v >>
// 1), are the sign bits of its weights in order.
inline uint32_t xxsSigns(uint32_t word, int &scale) {
  scale =
      (word & 1) | ((word >> 7) & 2) | ((word >> 14) & 4) | ((word >> 21) & 8);
  uint32_t v = word & 0xfefefefe;
  return v ^ (v >> 1);
}

// iq2_xxs_r4 (4 x 66 bytes): 4 fp16 d, 128 bytes of 32-bit sign/scale words
// (word 4s + k), 128 grid indices (byte 16s + 4k + i: row k, group i).
void decodeIQ2_XXS_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 264)
    for (int k = 0; k < 4; ++k) {
      const float d = 0.125f * loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        int scale;
        uint32_t signs = xxsSigns(load32(g + 8 + 4 * (4 * s + k)), scale);
        const float dl = d * (2 * scale + 1);
        for (int i = 0; i < 4; ++i, signs >>= 8) {
          const uint64_t entry =
              grids::kGridIQ2XXS[g[136 + 16 * s + 4 * k + i]];
          for (int j = 0; j < 8; ++j)
            yk[32 * s + 8 * i + j] =
                signedValue(dl, gridByte(entry, j), (signs >> j) & 1);
        }
      }
    }
}

// iq2_xs_r4 (4 x 74 bytes): 4 fp16 d, 128 16-bit codes (16s + 4k + i: 9-bit
// index, 7 sign bits stored as s ^ (s << 1)), 32 scale bytes (4s + k).
void decodeIQ2_XS_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 296)
    for (int k = 0; k < 4; ++k) {
      const float d = 0.125f * loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t sc = g[264 + 4 * s + k];
        const float dl[2] = {d * (2 * (sc & 0xf) + 1), d * (2 * (sc >> 4) + 1)};
        for (int i = 0; i < 4; ++i) {
          const uint16_t code = load16(g + 8 + 2 * (16 * s + 4 * k + i));
          int signs = code >> 9;
          signs ^= signs << 1;
          const uint64_t entry = grids::kGridIQ2XS[code & 511];
          for (int j = 0; j < 8; ++j)
            yk[32 * s + 8 * i + j] =
                signedValue(dl[i / 2], gridByte(entry, j), (signs >> j) & 1);
        }
      }
    }
}

// iq2_s_r4 (4 x 82 bytes): 4 fp16 d, 128 low index bytes, 32 bytes of 2-bit
// index tops (4s + k), 128 sign bytes, 32 scale bytes.
void decodeIQ2_S_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 328)
    for (int k = 0; k < 4; ++k) {
      const float d = 0.125f * loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t sc = g[296 + 4 * s + k];
        const float dl[2] = {d * (2 * (sc & 0xf) + 1), d * (2 * (sc >> 4) + 1)};
        const uint8_t top = g[136 + 4 * s + k];
        for (int i = 0; i < 4; ++i) {
          const int at = 16 * s + 4 * k + i;
          const uint64_t entry =
              grids::kGridIQ2S[g[8 + at] | (((top >> (2 * i)) & 3) << 8)];
          const uint8_t signs = g[168 + at];
          for (int j = 0; j < 8; ++j)
            yk[32 * s + 8 * i + j] =
                signedValue(dl[i / 2], gridByte(entry, j), (signs >> j) & 1);
        }
      }
    }
}

// iq3_xxs_r4 (4 x 98 bytes): 4 fp16 d, 128 bytes of sign/scale words, 256
// grid indices (32s + 8k + i: row k, group i of 4 weights).
void decodeIQ3_XXS_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 392)
    for (int k = 0; k < 4; ++k) {
      const float d = 0.25f * loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        int scale;
        uint32_t signs = xxsSigns(load32(g + 8 + 4 * (4 * s + k)), scale);
        const float dl = d * (2 * scale + 1);
        for (int i = 0; i < 8; ++i, signs >>= 4) {
          const uint32_t entry =
              grids::kGridIQ3XXS[g[136 + 32 * s + 8 * k + i]];
          for (int j = 0; j < 4; ++j)
            yk[32 * s + 4 * i + j] =
                signedValue(dl, gridByte(entry, j), (signs >> j) & 1);
        }
      }
    }
}

// iq3_s_r4 (4 x 110 bytes): 4 fp16 d, 256 low index bytes (32s + 8i + k for
// group i of the first 16 weights, + 4 for the second 16), 32 bytes of index
// tops (4s + k: bit i and i + 4), 128 sign bytes (16s + 4k + j: bit i for
// weight 4i + j, bit i + 4 for weight 16 + 4i + j), 16 bytes of 4-bit scales.
void decodeIQ3_S_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 440)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const int is = 4 * s + k;
        const float dl =
            d * (1 + 2 * ((g[424 + is % 16] >> (4 * (is / 16))) & 0xf));
        const uint8_t top = g[264 + 4 * s + k];
        for (int i = 0; i < 4; ++i)
          for (int h = 0; h < 2; ++h) {
            const int index = g[8 + 32 * s + k + 8 * i + 4 * h] |
                              (((top >> (i + 4 * h)) & 1) << 8);
            const uint32_t entry = grids::kGridIQ3S[index];
            for (int j = 0; j < 4; ++j) {
              const uint8_t signs = g[296 + 16 * s + 4 * k + j];
              yk[32 * s + 16 * h + 4 * i + j] = signedValue(
                  dl, gridByte(entry, j), (signs >> (i + 4 * h)) & 1);
            }
          }
      }
    }
}

// iq4_xs_r8 (8 x 136 bytes): 8 fp16 d, 16 + 32 bytes of 6-bit scales
// (scale6 of 8s + k), 1024 nibble bytes: byte 128s + 32l + 4k + i holds row
// k's weights 8l + i (low) and 8l + i + 4 (high).
void decodeIQ4_XS_R8(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 1088)
    for (int k = 0; k < 8; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const float dl = d * (scale6(g + 32, g + 16, 8 * s + k) - 32);
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = g[64 + 128 * s + 32 * l + 4 * k + i];
            yk[32 * s + 8 * l + i] = dl * kValuesIQ4K[q & 0xf];
            yk[32 * s + 8 * l + i + 4] = dl * kValuesIQ4K[q >> 4];
          }
      }
    }
}

//===--- ik layouts ------------------------------------------------------===//

// iq2_k_r4 (4 x 76 bytes): 4 fp16 d, 8 extra bytes (byte k / k + 4: bit s
// picks the code book half of sub-block s's first / second 16 weights), 32
// bytes of 4-bit scales (nibble 8s + k and + 4), 256 bytes of 2-bit quants
// (as q2_k_r4).
void decodeIQ2_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 304)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t *qs = g + 48 + 32 * s;
        for (int h = 0; h < 2; ++h) {
          const int is = 8 * s + k + 4 * h;
          const float dl =
              d * (((g[16 + is % 32] >> (4 * (is / 32))) & 0xf) - 8);
          const int8_t *values =
              kValuesIQ2NL + (((g[8 + k + 4 * h] >> s) & 1) ? 4 : 0);
          for (int i = 0; i < 4; ++i)
            for (int t = 0; t < 4; ++t)
              yk[32 * s + 16 * h + i + 4 * t] =
                  dl * values[(qs[4 * k + i + 16 * h] >> (2 * t)) & 3];
        }
      }
    }
}

// iq3_k_r4 (4 x 110 bytes): 4 fp16 d, 8 extra bytes, 8 bytes of scale signs
// (scale is: bit is / 8 of byte is % 8), 32 bytes of 4-bit scales (odd
// multiples), 256 bytes of low 2 bits, 128 bytes of third bits (as q3_k_r4).
void decodeIQ3_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 440)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const uint8_t *qs = g + 56 + 32 * s, *qh = g + 312 + 16 * s;
        for (int h = 0; h < 2; ++h) {
          const int is = 8 * s + k + 4 * h;
          const int magnitude =
              2 * ((g[24 + is % 32] >> (4 * (is / 32))) & 0xf) + 1;
          const int sign = ((g[16 + is % 8] >> (is / 8)) & 1) ? -1 : 1;
          const float dl = d * (magnitude * sign);
          const int8_t *values =
              kValuesIQ3NL + (((g[8 + k + 4 * h] >> s) & 1) ? 8 : 0);
          for (int i = 0; i < 4; ++i)
            for (int t = 0; t < 4; ++t) {
              const int q = ((qs[4 * k + i + 16 * h] >> (2 * t)) & 3) |
                            (((qh[4 * k + i] >> (t + 4 * h)) & 1) << 2);
              yk[32 * s + 16 * h + i + 4 * t] = dl * values[q];
            }
        }
      }
    }
}

// iq4_k_r4 (4 x 144 bytes): 4 fp16 d, 8 extra bytes, 16 + 32 bytes of 6-bit
// scales (scale6 of 8s + k and + 4), 512 nibble bytes (nibbleSlot; runs 0
// and 2 are the first 16 weights).
void decodeIQ4_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 576)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        float dl[2];
        const int8_t *values[2];
        for (int h = 0; h < 2; ++h) {
          dl[h] = d * (scale6(g + 32, g + 16, 8 * s + k + 4 * h) - 32);
          values[h] = kValuesIQ4K + (((g[8 + k + 4 * h] >> s) & 1) ? 16 : 0);
        }
        const uint8_t *qs = g + 64 + 64 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            yk[32 * s + nibbleSlot(l, i)] = dl[l % 2] * values[l % 2][q & 0xf];
            yk[32 * s + nibbleSlot(l, i) + 8] =
                dl[l % 2] * values[l % 2][q >> 4];
          }
      }
    }
}

// iq5_k_r4 (4 x 176 bytes): as iq4_k_r4 plus 128 bytes of fifth bits (16 per
// sub-block, byte 4k + i: bits 2l and 2l + 1 for run l's two nibbles).
void decodeIQ5_K_R4(const uint8_t *g, float *y, int64_t cols) {
  for (int64_t b = 0; b < cols / 256; ++b, g += 704)
    for (int k = 0; k < 4; ++k) {
      const float d = loadHalfValue(g + 2 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        float dl[2];
        const int8_t *values[2];
        for (int h = 0; h < 2; ++h) {
          dl[h] = d * (scale6(g + 32, g + 16, 8 * s + k + 4 * h) - 32);
          values[h] = kValuesIQ5NL + (((g[8 + k + 4 * h] >> s) & 1) ? 32 : 0);
        }
        const uint8_t *qs = g + 64 + 64 * s, *qh = g + 576 + 16 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            const int h = qh[4 * k + i] >> (2 * l);
            yk[32 * s + nibbleSlot(l, i)] =
                dl[l % 2] * values[l % 2][(q & 0xf) | ((h & 1) << 4)];
            yk[32 * s + nibbleSlot(l, i) + 8] =
                dl[l % 2] * values[l % 2][(q >> 4) | (((h >> 1) & 1) << 4)];
          }
      }
    }
}

// iq4_ks_r4: 4 float row scales, then per 256 columns 544 bytes: 32 scale
// bytes (4s + k; as iq4_ks), 512 nibble bytes (nibbleSlot).
void decodeIQ4_KS_R4(const uint8_t *g, float *y, int64_t cols) {
  const uint8_t *x = g + 16;
  for (int64_t b = 0; b < cols / 256; ++b, x += 544)
    for (int k = 0; k < 4; ++k) {
      const float d = loadFloat(g + 4 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const int sc = x[4 * s + k];
        const float dl = d * ((sc & 254) - 127);
        const int8_t *values = kValuesIQ4K + (sc & 1) * 16;
        const uint8_t *qs = x + 32 + 64 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            yk[32 * s + nibbleSlot(l, i)] = dl * values[q & 0xf];
            yk[32 * s + nibbleSlot(l, i) + 8] = dl * values[q >> 4];
          }
      }
    }
}

// iq5_ks_r4: 4 float row scales, then per 256 columns 672 bytes: 32 scale
// bytes, 512 nibble bytes, 128 bytes of fifth bits (as iq5_k_r4).
void decodeIQ5_KS_R4(const uint8_t *g, float *y, int64_t cols) {
  const uint8_t *x = g + 16;
  for (int64_t b = 0; b < cols / 256; ++b, x += 672)
    for (int k = 0; k < 4; ++k) {
      const float d = loadFloat(g + 4 * k);
      float *yk = y + k * cols + 256 * b;
      for (int s = 0; s < 8; ++s) {
        const int sc = x[4 * s + k];
        const float dl = d * ((sc & 254) - 127);
        const int8_t *values = kValuesIQ5NL + (sc & 1) * 32;
        const uint8_t *qs = x + 32 + 64 * s, *qh = x + 544 + 16 * s;
        for (int l = 0; l < 4; ++l)
          for (int i = 0; i < 4; ++i) {
            const uint8_t q = qs[16 * l + 4 * k + i];
            const int h = qh[4 * k + i] >> (2 * l);
            yk[32 * s + nibbleSlot(l, i)] =
                dl * values[(q & 0xf) | ((h & 1) << 4)];
            yk[32 * s + nibbleSlot(l, i) + 8] =
                dl * values[(q >> 4) | (((h >> 1) & 1) << 4)];
          }
      }
    }
}

} // namespace

bool dequantizeRepackedGroup(GGMLType type, const uint8_t *g, float *y,
                             int64_t cols) {
  switch (type) {
  case GGMLType::Q4_0_R8:
    return decodeQ4_0_R8(g, y, cols), true;
  case GGMLType::Q8_0_R8:
    return decodeQ8_0_R8(g, y, cols), true;
  case GGMLType::IQ4_NL_R4:
    return decodeIQ4_NL_R4(g, y, cols), true;
  case GGMLType::Q5_0_R4:
    return decodeQ5_0_R4(g, y, cols), true;
  case GGMLType::Q6_0_R4:
    return decodeQ6_0_R4(g, y, cols), true;
  case GGMLType::IQ1_S_R4:
    return decodeIQ1_S_R4(g, y, cols), true;
  case GGMLType::IQ1_M_R4:
    return decodeIQ1_M_R4(g, y, cols), true;
  case GGMLType::Q8_KV_R8:
    return decodeQ8_KV_R8(g, y, cols), true;
  case GGMLType::IQ2_BN_R4:
    return decodeIQ2_BN_R4(g, y, cols), true;
  case GGMLType::Q2_K_R4:
    return decodeQ2_K_R4(g, y, cols), true;
  case GGMLType::Q3_K_R4:
    return decodeQ3_K_R4(g, y, cols), true;
  case GGMLType::Q4_K_R4:
    return decodeQ4_K_R4(g, y, cols), true;
  case GGMLType::Q5_K_R4:
    return decodeQ5_K_R4(g, y, cols), true;
  case GGMLType::Q6_K_R4:
    return decodeQ6_K_R4(g, y, cols), true;
  case GGMLType::Q8_K_R8:
    return decodeQ8_K_R8(g, y, cols), true;
  case GGMLType::IQ2_XXS_R4:
    return decodeIQ2_XXS_R4(g, y, cols), true;
  case GGMLType::IQ2_XS_R4:
    return decodeIQ2_XS_R4(g, y, cols), true;
  case GGMLType::IQ2_S_R4:
    return decodeIQ2_S_R4(g, y, cols), true;
  case GGMLType::IQ3_XXS_R4:
    return decodeIQ3_XXS_R4(g, y, cols), true;
  case GGMLType::IQ3_S_R4:
    return decodeIQ3_S_R4(g, y, cols), true;
  case GGMLType::IQ4_XS_R8:
    return decodeIQ4_XS_R8(g, y, cols), true;
  case GGMLType::IQ2_K_R4:
    return decodeIQ2_K_R4(g, y, cols), true;
  case GGMLType::IQ3_K_R4:
    return decodeIQ3_K_R4(g, y, cols), true;
  case GGMLType::IQ4_K_R4:
    return decodeIQ4_K_R4(g, y, cols), true;
  case GGMLType::IQ5_K_R4:
    return decodeIQ5_K_R4(g, y, cols), true;
  case GGMLType::IQ4_KS_R4:
    return decodeIQ4_KS_R4(g, y, cols), true;
  case GGMLType::IQ5_KS_R4:
    return decodeIQ5_KS_R4(g, y, cols), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

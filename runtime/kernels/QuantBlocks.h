//===- QuantBlocks.h - byte layouts of the ggml block formats ---*- C++ -*-===//
//
// Private to the matmul kernels: the in-memory layout of one block of each
// ggml format the fast dequantizers read (ggml-common.h numbering and field
// order). Blocks in a GGUF tensor are packed with no padding and no alignment
// guarantee, so the structs are byte-aligned and read field by field.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_KERNELS_QUANTBLOCKS_H
#define QN_RUNTIME_KERNELS_QUANTBLOCKS_H

#include <cstdint>

namespace qn::runtime::quant {

constexpr int QK = 32;    // elements of a legacy / IQ4_NL / MXFP4 block
constexpr int QK_K = 256; // elements of a k-quant super-block

#pragma pack(push, 1)
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[QK / 2]; // element j: low nibble, element j+16: high nibble
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[QK / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4]; // bit j: fifth bit of element j
  uint8_t qs[QK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[QK / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[QK];
};
struct BlockQ2_K {
  uint8_t scales[QK_K / 16]; // 4-bit scale | 4-bit min per 16 elements
  uint8_t qs[QK_K / 4];
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[QK_K / 8]; // bit j of hmask[l]: high bit of element 32j + l
  uint8_t qs[QK_K / 4];
  uint8_t scales[12]; // 16 x 6-bit scales, packed
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12]; // 8 x (6-bit scale, 6-bit min), packed
  uint8_t qs[QK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  uint16_t d;
};
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[QK / 2];
};
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scalesH;
  uint8_t scalesL[QK_K / 64];
  uint8_t qs[QK_K / 2];
};
struct BlockMXFP4 {
  uint8_t e; // E8M0 shared exponent
  uint8_t qs[QK / 2];
};
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18, "ggml layout");
static_assert(sizeof(BlockQ4_1) == 20, "ggml layout");
static_assert(sizeof(BlockQ5_0) == 22, "ggml layout");
static_assert(sizeof(BlockQ5_1) == 24, "ggml layout");
static_assert(sizeof(BlockQ8_0) == 34, "ggml layout");
static_assert(sizeof(BlockQ2_K) == 84, "ggml layout");
static_assert(sizeof(BlockQ3_K) == 110, "ggml layout");
static_assert(sizeof(BlockQ4_K) == 144, "ggml layout");
static_assert(sizeof(BlockQ5_K) == 176, "ggml layout");
static_assert(sizeof(BlockQ6_K) == 210, "ggml layout");
static_assert(sizeof(BlockIQ4_NL) == 18, "ggml layout");
static_assert(sizeof(BlockIQ4_XS) == 136, "ggml layout");
static_assert(sizeof(BlockMXFP4) == 17, "ggml layout");

/// The 16 non-uniform levels of IQ4_NL / IQ4_XS (ggml kvalues_iq4nl).
constexpr int8_t KValuesIQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};
/// E2M1 values doubled (ggml kvalues_mxfp4); the block scale is halved to
/// match.
constexpr int8_t KValuesMXFP4[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                     0, -1, -2, -3, -4, -6, -8, -12};

/// ggml get_scale_min_k4: the j-th 6-bit (scale, min) pair of Q4_K / Q5_K.
inline void scaleMinK4(int j, const uint8_t *q, uint8_t &sc, uint8_t &m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

} // namespace qn::runtime::quant

#endif // QN_RUNTIME_KERNELS_QUANTBLOCKS_H

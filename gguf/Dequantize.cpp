//===- Dequantize.cpp - ggml block formats to float -----------------------===//
//
// Each routine mirrors ggml's dequantize_row_* (ggml-quants.c): the same
// integer unpacking and the same float operations in the same order, so the
// results match the peer bit for bit. This file is built with
// -ffp-contract=off so the compiler cannot fuse a*b+c into an FMA and change
// the rounding.
//
//===----------------------------------------------------------------------===//

#include "gguf/Dequantize.h"
#include "gguf/DequantizeFormats.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>

namespace qn::gguf {

//===----------------------------------------------------------------------===//
// Scalar conversions
//===----------------------------------------------------------------------===//

static uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

static float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

float fp16ToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) // inf / NaN: keep the payload
    return bitsToFloat(sign | 0x7f800000 | (mant << 13));
  if (exp != 0)
    return bitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24, exact in float.
  float v = static_cast<float>(mant) * bitsToFloat(0x33800000); // 2^-24
  return sign ? -v : v;
}

uint16_t floatToFp16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  uint32_t absBits = u & 0x7fffffff;
  if (absBits > 0x7f800000) // NaN: quiet, keep the top payload bits
    return sign | 0x7e00 | static_cast<uint16_t>((absBits >> 13) & 0x1ff);
  if (absBits >= 0x477ff000) // rounds to >= 65520: infinity
    return sign | 0x7c00;
  if (absBits < 0x38800000) {
    // Result is subnormal (or zero): value / 2^-24 rounded to nearest even.
    // Adding 0.5f moves the value so the float adder does the rounding.
    float a = bitsToFloat(absBits);
    float shifted = a + 0.5f; // ulp of 0.5f is 2^-24
    return sign | static_cast<uint16_t>(floatBits(shifted) - floatBits(0.5f));
  }
  // Normal: drop 13 mantissa bits, round to nearest even.
  uint32_t rounded = absBits + 0xfff + ((absBits >> 13) & 1);
  return sign | static_cast<uint16_t>((rounded - (112u << 23)) >> 13);
}

float bf16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffff) > 0x7f800000) // NaN: force quiet
    return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

//===----------------------------------------------------------------------===//
// Block formats
//===----------------------------------------------------------------------===//

float detail::loadHalfValue(const uint8_t *p) {
  return fp16ToFloat(detail::load16(p));
}

namespace {

using detail::load16;
using detail::load32;

float loadHalf(const uint8_t *p) { return fp16ToFloat(load16(p)); }

constexpr int kQK = 32;
constexpr int kQKK = 256;

// Non-linear 4-bit code books (ggml-common.h).
constexpr int8_t kValuesIQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};
constexpr int8_t kValuesMXFP4[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                     0, -1, -2, -3, -4, -6, -8, -12};

void dequantQ4_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 18, y += kQK) {
    const float d = loadHalf(x);
    const uint8_t *qs = x + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = (qs[j] & 0x0F) - 8;
      const int x1 = (qs[j] >> 4) - 8;
      y[j] = x0 * d;
      y[j + kQK / 2] = x1 * d;
    }
  }
}

void dequantQ4_1(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 20, y += kQK) {
    const float d = loadHalf(x);
    const float m = loadHalf(x + 2);
    const uint8_t *qs = x + 4;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = qs[j] & 0x0F;
      const int x1 = qs[j] >> 4;
      y[j] = x0 * d + m;
      y[j + kQK / 2] = x1 * d + m;
    }
  }
}

void dequantQ5_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 22, y += kQK) {
    const float d = loadHalf(x);
    const uint32_t qh = load32(x + 2);
    const uint8_t *qs = x + 6;
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
      const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
      const int32_t x0 = ((qs[j] & 0x0F) | xh0) - 16;
      const int32_t x1 = ((qs[j] >> 4) | xh1) - 16;
      y[j] = x0 * d;
      y[j + kQK / 2] = x1 * d;
    }
  }
}

void dequantQ5_1(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 24, y += kQK) {
    const float d = loadHalf(x);
    const float m = loadHalf(x + 2);
    const uint32_t qh = load32(x + 4);
    const uint8_t *qs = x + 8;
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
      const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
      const int x0 = (qs[j] & 0x0F) | xh0;
      const int x1 = (qs[j] >> 4) | xh1;
      y[j] = x0 * d + m;
      y[j + kQK / 2] = x1 * d + m;
    }
  }
}

void dequantQ8_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 34, y += kQK) {
    const float d = loadHalf(x);
    const int8_t *qs = reinterpret_cast<const int8_t *>(x + 2);
    for (int j = 0; j < kQK; ++j)
      y[j] = qs[j] * d;
  }
}

void dequantQ2_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 84) {
    const uint8_t *scales = x;
    const uint8_t *q = x + 16;
    const float d = loadHalf(x + 80);
    const float min = loadHalf(x + 82);
    int is = 0;
    for (int n = 0; n < kQKK; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        uint8_t sc = scales[is++];
        float dl = d * (sc & 0xF), ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<int8_t>((q[l] >> shift) & 3) - ml;
        sc = scales[is++];
        dl = d * (sc & 0xF), ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<int8_t>((q[l + 16] >> shift) & 3) - ml;
        shift += 2;
      }
      q += 32;
    }
  }
}

void dequantQ3_K(const uint8_t *x, float *y, int64_t nb) {
  const uint32_t kmask1 = 0x03030303;
  const uint32_t kmask2 = 0x0f0f0f0f;
  for (int64_t i = 0; i < nb; ++i, x += 110) {
    const uint8_t *hm = x;
    const uint8_t *q = x + 32;
    const float dAll = loadHalf(x + 108);
    // Unpack the twelve bytes of 6-bit scales into sixteen signed bytes.
    uint32_t aux[4];
    std::memcpy(aux, x + 96, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t scales[16];
    std::memcpy(scales, aux, 16);

    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < kQKK; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        float dl = dAll * (scales[is++] - 32);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * (static_cast<int8_t>((q[l + 0] >> shift) & 3) -
                       ((hm[l + 0] & m) ? 0 : 4));
        dl = dAll * (scales[is++] - 32);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * (static_cast<int8_t>((q[l + 16] >> shift) & 3) -
                       ((hm[l + 16] & m) ? 0 : 4));
        shift += 2;
        m <<= 1;
      }
      q += 32;
    }
  }
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block.
void getScaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

void dequantQ4_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 144) {
    const float d = loadHalf(x);
    const float min = loadHalf(x + 2);
    const uint8_t *scales = x + 4;
    const uint8_t *q = x + 16;
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < kQKK; j += 64) {
      getScaleMinK4(is + 0, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      getScaleMinK4(is + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void dequantQ5_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 176) {
    const float d = loadHalf(x);
    const float min = loadHalf(x + 2);
    const uint8_t *scales = x + 4;
    const uint8_t *qh = x + 16;
    const uint8_t *ql = x + 48;
    int is = 0;
    uint8_t sc, m;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQKK; j += 64) {
      getScaleMinK4(is + 0, scales, sc, m);
      const float d1 = d * sc;
      const float m1 = min * m;
      getScaleMinK4(is + 1, scales, sc, m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

void dequantQ6_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 210) {
    const uint8_t *ql = x;
    const uint8_t *qh = x + 128;
    const int8_t *sc = reinterpret_cast<const int8_t *>(x + 192);
    const float d = loadHalf(x + 208);
    for (int n = 0; n < kQKK; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int8_t q1 =
            static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) -
            32;
        const int8_t q2 = static_cast<int8_t>((ql[l + 32] & 0xF) |
                                              (((qh[l] >> 2) & 3) << 4)) -
                          32;
        const int8_t q3 =
            static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) -
            32;
        const int8_t q4 =
            static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) -
            32;
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void dequantQ8_K(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 292, y += kQKK) {
    float d;
    std::memcpy(&d, x, sizeof(d));
    const int8_t *qs = reinterpret_cast<const int8_t *>(x + 4);
    for (int j = 0; j < kQKK; ++j)
      y[j] = d * qs[j];
  }
}

void dequantIQ4_NL(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 18, y += kQK) {
    const float d = loadHalf(x);
    const uint8_t *qs = x + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * kValuesIQ4NL[qs[j] & 0xf];
      y[j + kQK / 2] = d * kValuesIQ4NL[qs[j] >> 4];
    }
  }
}

void dequantIQ4_XS(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 136) {
    const float d = loadHalf(x);
    const uint16_t scalesH = load16(x + 2);
    const uint8_t *scalesL = x + 4;
    const uint8_t *qs = x + 8;
    for (int ib = 0; ib < kQKK / 32; ++ib) {
      const int ls = ((scalesL[ib / 2] >> 4 * (ib % 2)) & 0xf) |
                     (((scalesH >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j + 0] = dl * kValuesIQ4NL[qs[j] & 0xf];
        y[j + 16] = dl * kValuesIQ4NL[qs[j] >> 4];
      }
      y += 32;
      qs += 16;
    }
  }
}

// ggml's GGML_E8M0_TO_FP32_HALF: 2^(e-127) / 2, built from bits so it is
// exact for every e (e < 2 lands in the subnormal range).
float e8m0ToFloatHalf(uint8_t e) {
  uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  return bitsToFloat(bits);
}

void dequantMXFP4(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 17, y += kQK) {
    const float d = e8m0ToFloatHalf(x[0]);
    const uint8_t *qs = x + 1;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = kValuesMXFP4[qs[j] & 0x0f] * d;
      y[j + kQK / 2] = kValuesMXFP4[qs[j] >> 4] * d;
    }
  }
}

} // namespace

/// Decodes n elements (whole blocks) of a type without interleaved rows:
/// `row` is the row's first byte (its metadata), `x` the first block.
static void decodeRow(GGMLType type, const uint8_t *row, const uint8_t *x,
                      float *dst, int64_t n) {
  switch (type) {
  case GGMLType::F32:
    std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
    return;
  case GGMLType::F16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = fp16ToFloat(load16(x + 2 * i));
    return;
  case GGMLType::BF16:
    for (int64_t i = 0; i < n; ++i)
      dst[i] = bf16ToFloat(load16(x + 2 * i));
    return;
  case GGMLType::Q4_0:
    return dequantQ4_0(x, dst, n / kQK);
  case GGMLType::Q4_1:
    return dequantQ4_1(x, dst, n / kQK);
  case GGMLType::Q5_0:
    return dequantQ5_0(x, dst, n / kQK);
  case GGMLType::Q5_1:
    return dequantQ5_1(x, dst, n / kQK);
  case GGMLType::Q8_0:
    return dequantQ8_0(x, dst, n / kQK);
  case GGMLType::Q2_K:
    return dequantQ2_K(x, dst, n / kQKK);
  case GGMLType::Q3_K:
    return dequantQ3_K(x, dst, n / kQKK);
  case GGMLType::Q4_K:
    return dequantQ4_K(x, dst, n / kQKK);
  case GGMLType::Q5_K:
    return dequantQ5_K(x, dst, n / kQKK);
  case GGMLType::Q6_K:
    return dequantQ6_K(x, dst, n / kQKK);
  case GGMLType::Q8_K:
    return dequantQ8_K(x, dst, n / kQKK);
  case GGMLType::IQ4_NL:
    return dequantIQ4_NL(x, dst, n / kQK);
  case GGMLType::IQ4_XS:
    return dequantIQ4_XS(x, dst, n / kQKK);
  case GGMLType::MXFP4:
    return dequantMXFP4(x, dst, n / kQK);
  default:
    if (detail::dequantizeIQuantRow(type, row, x, dst, n) ||
        detail::dequantizeIKRow(type, row, x, dst, n) ||
        detail::dequantizeTrellisRow(type, row, x, dst, n) ||
        detail::dequantizeTernaryRow(type, row, x, dst, n))
      return;
    return;
  }
}

void dequantizeRowUnchecked(GGMLType type, const void *src, float *dst,
                            int64_t n) {
  const uint8_t *row = static_cast<const uint8_t *>(src);
  const GGMLTypeInfo *info = getTypeInfo(type);
  if (!info)
    return;
  decodeRow(type, row, row + info->rowMetaBytes, dst, n);
}

void dequantizeRowSpanUnchecked(GGMLType type, const void *row, int64_t k0,
                                int64_t n, float *dst) {
  const uint8_t *start = static_cast<const uint8_t *>(row);
  const GGMLTypeInfo *info = getTypeInfo(type);
  if (!info)
    return;
  decodeRow(type, start,
            start + info->rowMetaBytes +
                (k0 / info->blockSize) * info->blockBytes,
            dst, n);
}

void dequantizeGroupUnchecked(GGMLType type, const void *group, float *dst,
                              int64_t cols) {
  detail::dequantizeRepackedGroup(type, static_cast<const uint8_t *>(group),
                                  dst, cols);
}

static llvm::Error checkDecodable(GGMLType type, int64_t n) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  if (!info)
    return llvm::createStringError(
        llvm::formatv("dequantize: unknown ggml type id {0}",
                      static_cast<uint32_t>(type))
            .str());
  if (!canDequantize(type))
    return llvm::createStringError(
        llvm::formatv("dequantize: type {0} is not supported", info->name)
            .str());
  if (n < 0 || n % info->blockSize != 0)
    return llvm::createStringError(
        llvm::formatv("dequantize: {0} elements is not a whole number of {1} "
                      "blocks of {2}",
                      n, info->name, info->blockSize)
            .str());
  return llvm::Error::success();
}

llvm::Error dequantize(GGMLType type, const void *src, float *dst, int64_t n) {
  if (llvm::Error err = checkDecodable(type, n))
    return err;
  if (rowsPerGroup(type) > 1)
    return llvm::createStringError(
        llvm::formatv("dequantize: {0} interleaves {1} rows; decode it with "
                      "dequantizeRows",
                      getTypeName(type), rowsPerGroup(type))
            .str());
  if (n > 0 && (!src || !dst))
    return llvm::createStringError("dequantize: null buffer");
  dequantizeRowUnchecked(type, src, dst, n);
  return llvm::Error::success();
}

llvm::Error dequantizeRows(GGMLType type, const void *src, float *dst,
                           int64_t rows, int64_t cols) {
  if (llvm::Error err = checkDecodable(type, cols))
    return err;
  const int64_t group = rowsPerGroup(type);
  if (rows < 0 || rows % group != 0)
    return llvm::createStringError(
        llvm::formatv("dequantize: {0} rows of {1}, which stores rows in "
                      "groups of {2}",
                      rows, getTypeName(type), group)
            .str());
  if (rows > 0 && cols > 0 && (!src || !dst))
    return llvm::createStringError("dequantize: null buffer");
  const uint8_t *x = static_cast<const uint8_t *>(src);
  const uint64_t rowSize = rowBytes(type, cols);
  for (int64_t r = 0; r < rows; r += group) {
    const uint8_t *at = x + static_cast<uint64_t>(r) * rowSize;
    if (group > 1)
      dequantizeGroupUnchecked(type, at, dst + r * cols, cols);
    else
      dequantizeRowUnchecked(type, at, dst + r * cols, cols);
  }
  return llvm::Error::success();
}

} // namespace qn::gguf

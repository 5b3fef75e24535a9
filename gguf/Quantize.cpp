//===- Quantize.cpp - float to ggml block formats -------------------------===//
//
// Mirrors ggml's quantize_row_*_ref (ggml-quants.c) operation for operation:
// the same scale, the same reciprocal, the same rounding (roundf, truncation
// after +0.5/+8.5, or the 1.5*2^23 trick). Built with -ffp-contract=off like
// the dequantizers so no FMA changes a rounding.
//
//===----------------------------------------------------------------------===//

#include "gguf/Quantize.h"

#include "gguf/Dequantize.h"
#include "gguf/QuantizeK.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace qn::gguf {

namespace {

constexpr int kQK = 32;
constexpr int kQKK = 256;

void storeHalf(uint8_t *p, float f) {
  uint16_t h = floatToFp16(f);
  std::memcpy(p, &h, 2);
}

// ggml's nearest_int: round half to even through the float adder.
int nearestInt(float fval) {
  float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

// The value with the largest magnitude (first one on ties), as q4_0/q5_0 do.
float signedAbsMax(const float *x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  return max;
}

void quantQ8_0(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 34) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
      amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    for (int j = 0; j < kQK; ++j)
      y[2 + j] =
          static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * id)));
  }
}

void quantQ8_1(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 36) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
      amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      int8_t q = static_cast<int8_t>(std::round(x[j] * id));
      y[4 + j] = static_cast<uint8_t>(q);
      sum += q;
    }
    storeHalf(y + 2, sum * d);
  }
}

void quantQ4_0(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 18) {
    const float d = signedAbsMax(x, kQK) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK / 2 + j] * id;
      const uint8_t xi0 = std::min<int8_t>(15, static_cast<int8_t>(x0 + 8.5f));
      const uint8_t xi1 = std::min<int8_t>(15, static_cast<int8_t>(x1 + 8.5f));
      y[2 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantQ4_1(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 20) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    storeHalf(y + 2, min);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[kQK / 2 + j] - min) * id;
      const uint8_t xi0 = std::min<int8_t>(15, static_cast<int8_t>(x0 + 0.5f));
      const uint8_t xi1 = std::min<int8_t>(15, static_cast<int8_t>(x1 + 0.5f));
      y[4 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantQ5_0(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 22) {
    const float d = signedAbsMax(x, kQK) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK / 2 + j] * id;
      const uint8_t xi0 = std::min<int8_t>(31, static_cast<int8_t>(x0 + 16.5f));
      const uint8_t xi1 = std::min<int8_t>(31, static_cast<int8_t>(x1 + 16.5f));
      y[6 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y + 2, &qh, 4);
  }
}

void quantQ5_1(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 24) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    storeHalf(y, d);
    storeHalf(y + 2, min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[kQK / 2 + j] - min) * id;
      const uint8_t xi0 = static_cast<uint8_t>(x0 + 0.5f);
      const uint8_t xi1 = static_cast<uint8_t>(x1 + 0.5f);
      y[8 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y + 4, &qh, 4);
  }
}

void quantQ8_K(const float *x, uint8_t *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 292) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQKK; ++j) {
      float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    std::memset(y, 0, 292);
    if (!amax)
      continue; // d = 0, codes and sums 0
    // -127 (not -128) keeps every code in [-127, 127], as ggml does.
    const float iscale = -127.f / max;
    int8_t qs[kQKK];
    for (int j = 0; j < kQKK; ++j)
      qs[j] = static_cast<int8_t>(std::min(127, nearestInt(iscale * x[j])));
    int16_t bsums[kQKK / 16];
    for (int j = 0; j < kQKK / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii)
        sum += qs[j * 16 + ii];
      bsums[j] = static_cast<int16_t>(sum);
    }
    const float d = 1 / iscale;
    std::memcpy(y, &d, 4);
    std::memcpy(y + 4, qs, kQKK);
    std::memcpy(y + 4 + kQKK, bsums, sizeof(bsums));
  }
}

} // namespace

bool canQuantize(GGMLType type) {
  switch (type) {
  case GGMLType::F32:
  case GGMLType::F16:
  case GGMLType::BF16:
  case GGMLType::Q4_0:
  case GGMLType::Q4_1:
  case GGMLType::Q5_0:
  case GGMLType::Q5_1:
  case GGMLType::Q8_0:
  case GGMLType::Q8_1:
  case GGMLType::Q8_K:
  case GGMLType::Q4_K:
  case GGMLType::Q5_K:
  case GGMLType::Q6_K:
    return true;
  default:
    return false;
  }
}

void quantizeRowUnchecked(GGMLType type, const float *src, void *dst,
                          int64_t n) {
  uint8_t *y = static_cast<uint8_t *>(dst);
  switch (type) {
  case GGMLType::F32:
    std::memcpy(y, src, static_cast<size_t>(n) * sizeof(float));
    return;
  case GGMLType::F16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = floatToFp16(src[i]);
      std::memcpy(y + 2 * i, &h, 2);
    }
    return;
  case GGMLType::BF16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t b = floatToBf16(src[i]);
      std::memcpy(y + 2 * i, &b, 2);
    }
    return;
  case GGMLType::Q4_0:
    return quantQ4_0(src, y, n / kQK);
  case GGMLType::Q4_1:
    return quantQ4_1(src, y, n / kQK);
  case GGMLType::Q5_0:
    return quantQ5_0(src, y, n / kQK);
  case GGMLType::Q5_1:
    return quantQ5_1(src, y, n / kQK);
  case GGMLType::Q8_0:
    return quantQ8_0(src, y, n / kQK);
  case GGMLType::Q8_1:
    return quantQ8_1(src, y, n / kQK);
  case GGMLType::Q8_K:
    return quantQ8_K(src, y, n / kQKK);
  case GGMLType::Q4_K:
    return quantizeQ4_K(src, y, n / kQKK);
  case GGMLType::Q5_K:
    return quantizeQ5_K(src, y, n / kQKK);
  case GGMLType::Q6_K:
    return quantizeQ6_K(src, y, n / kQKK);
  default:
    return;
  }
}

llvm::Error quantize(GGMLType type, const float *src, void *dst, int64_t n) {
  const GGMLTypeInfo *info = getTypeInfo(type);
  if (!info)
    return llvm::createStringError(
        llvm::formatv("quantize: unknown ggml type id {0}",
                      static_cast<uint32_t>(type))
            .str());
  if (!canQuantize(type))
    return llvm::createStringError(
        llvm::formatv("quantize: type {0} is not supported", info->name).str());
  if (n < 0 || n % info->blockSize != 0)
    return llvm::createStringError(
        llvm::formatv("quantize: {0} elements is not a whole number of {1} "
                      "blocks of {2}",
                      n, info->name, info->blockSize)
            .str());
  if (n > 0 && (!src || !dst))
    return llvm::createStringError("quantize: null buffer");
  quantizeRowUnchecked(type, src, dst, n);
  return llvm::Error::success();
}

} // namespace qn::gguf

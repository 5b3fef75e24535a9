//===- DequantizeTernary.cpp - the 1-bit class to float -------------------===//
//
// Q1_0 (the peer's q1_0_g128, mainline's Q1_0: the same block): 128 weights
// of +-d, one sign bit each. TQ1_0 and TQ2_0 (mainline only, BitNet b1.58 /
// TriLM): 256 weights in {-1, 0, +1} times an fp16 scale, at 1.6875 and
// 2.0625 bits per weight.
//
//===----------------------------------------------------------------------===//

#include "gguf/DequantizeFormats.h"

namespace qn::gguf::detail {
namespace {

// Q1_0 (18 bytes): fp16 d, 16 bytes of bits, lowest bit first; a set bit is
// +d, a clear one -d.
void dequantQ1_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 18) {
    const float d = loadHalfValue(x);
    for (int b = 0; b < 16; ++b)
      for (int j = 0; j < 8; ++j)
        *y++ = ((x[2 + b] >> j) & 1) ? d : -d;
  }
}

// TQ2_0 (66 bytes): 64 bytes of 2-bit codes 0, 1, 2 (for -1, 0, +1), fp16 d
// last. Each 32-byte half covers 128 weights: bits 2l of byte m are weight
// 32l + m of the half.
void dequantTQ2_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 66) {
    const float d = loadHalfValue(x + 64);
    for (int half = 0; half < 2; ++half)
      for (int l = 0; l < 4; ++l)
        for (int m = 0; m < 32; ++m) {
          const int code = (x[32 * half + m] >> (2 * l)) & 3;
          *y++ = static_cast<float>(code - 1) * d;
        }
  }
}

// TQ1_0 packs five trits per byte as a base-3 fraction: the byte is
// ceil(v * 256 / 243) for the 5-digit base-3 number v (first trit most
// significant). Multiplying by 3^n (mod 256) shifts trit n to the top, and
// (q * 3) >> 8 reads it.
inline int tritAt(uint8_t packed, int n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const uint8_t q = static_cast<uint8_t>(packed * kPow3[n]);
  return (q * 3) >> 8;
}

// TQ1_0 (54 bytes): 48 bytes of five trits (the first 32 bytes cover weights
// 0-159 as trit n of byte m = weight 32n + m, the next 16 weights 160-239 as
// 160 + 16n + m), 4 bytes of four trits (weight 240 + 4n + m), fp16 d.
void dequantTQ1_0(const uint8_t *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 54) {
    const float d = loadHalfValue(x + 52);
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 32; ++m)
        *y++ = static_cast<float>(tritAt(x[m], n) - 1) * d;
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 16; ++m)
        *y++ = static_cast<float>(tritAt(x[32 + m], n) - 1) * d;
    for (int n = 0; n < 4; ++n)
      for (int m = 0; m < 4; ++m)
        *y++ = static_cast<float>(tritAt(x[48 + m], n) - 1) * d;
  }
}

} // namespace

bool dequantizeTernaryRow(GGMLType type, const uint8_t * /*meta*/,
                          const uint8_t *x, float *y, int64_t n) {
  switch (type) {
  case GGMLType::Q1_0_G128:
    return dequantQ1_0(x, y, n / 128), true;
  case GGMLType::TQ1_0:
    return dequantTQ1_0(x, y, n / 256), true;
  case GGMLType::TQ2_0:
    return dequantTQ2_0(x, y, n / 256), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

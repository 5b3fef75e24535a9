//===- DequantizeTernary.cpp - the 1-bit class to float -------------------===//
//
// Q1_0 (the peer's q1_0_g128, mainline's Q1_0: the same block): 128 weights
// of +-d, one sign bit each.
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

} // namespace

bool dequantizeTernaryRow(GGMLType type, const uint8_t * /*meta*/,
                          const uint8_t *x, float *y, int64_t n) {
  switch (type) {
  case GGMLType::Q1_0_G128:
    return dequantQ1_0(x, y, n / 128), true;
  default:
    return false;
  }
}

} // namespace qn::gguf::detail

//===- QuantGrids.h - lookup tables of ggml block formats -------*- C++ -*-===//
//
// The lattice grids and non-linear code books that define the i-quant and
// ik block formats (format data, see QuantGrids.cpp). Internal to gguf/.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_QUANTGRIDS_H
#define QN_GGUF_QUANTGRIDS_H

#include <cstdint>

namespace qn::gguf::grids {
/// IQ2_XXS: 256 points of 8 magnitudes (bytes, low byte first) from {8, 25,
/// 43}.
extern const uint64_t kGridIQ2XXS[256];
/// IQ2_XS: 512 points of 8 magnitudes from {8, 25, 43}.
extern const uint64_t kGridIQ2XS[512];
/// IQ2_S: 1024 points of 8 magnitudes from {8, 25, 43}.
extern const uint64_t kGridIQ2S[1024];
/// IQ3_XXS: 256 points of 4 magnitudes (bytes) from {4, 12, ..., 52, 62}.
extern const uint32_t kGridIQ3XXS[256];
/// IQ3_S: 512 points of 4 magnitudes from {1, 3, ..., 15}.
extern const uint32_t kGridIQ3S[512];
/// IQ1_S / IQ1_M: 2048 points of 8 signed bytes in {-1, 0, +1}.
extern const uint64_t kGridIQ1S[2048];

// The non-linear code books of the ik types: the levels a quant index
// selects, before the block scale. Each has two halves; a per-block bit
// (`extra`, or the scale's low bit) picks the second, shifted one.

/// IQ2_K, IQ2_KS: 2-bit levels.
constexpr int8_t kValuesIQ2NL[8] = {-31, -13, 1, 17, -26, -8, 6, 22};
/// IQ3_K, IQ3_KS: 3-bit levels.
constexpr int8_t kValuesIQ3NL[16] = {-63, -40, -23, -10, 1, 13, 28, 47,
                                     -59, -36, -19, -6,  5, 17, 32, 51};
/// IQ4_K, IQ4_KS, IQ4_KSS (and the trellis block scales): 4-bit levels; the
/// first half is IQ4_NL's code book.
constexpr int8_t kValuesIQ4K[32] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
    -123, -100, -79, -61, -45, -31, -18, -6,  5, 17, 29, 42, 57, 73, 93, 117};
/// IQ5_K, IQ5_KS: 5-bit levels.
constexpr int8_t kValuesIQ5NL[64] = {
    -126, -114, -103, -92, -83, -74, -65,  -57,  -50,  -43, -36, -30, -24,
    -18,  -12,  -6,   -1,  5,   11,  17,   23,   29,   36,  43,  51,  59,
    68,   77,   87,   97,  109, 121, -124, -112, -101, -90, -81, -72, -63,
    -55,  -48,  -41,  -34, -28, -22, -16,  -10,  -4,   1,   7,   13,  19,
    25,   31,   38,   45,  53,  61,  70,   79,   89,   99,  111, 123};
/// IQ2_KL: 32 pairs of levels, a 5-bit index selecting two weights at once
/// (low byte first, as signed bytes).
constexpr uint16_t kPairsIQ2KL[32] = {
    0xe9c1, 0x0dc1, 0xc1d8, 0xf6d8, 0x0dd8, 0x2fd8, 0xd8e9, 0xe9e9,
    0x01e9, 0x0de9, 0x1ce9, 0xc1f6, 0x01f6, 0x0df6, 0x2ff6, 0xe901,
    0xf601, 0x0101, 0x0d01, 0x1c01, 0xd80d, 0xe90d, 0xf60d, 0x010d,
    0x0d0d, 0xc11c, 0xe91c, 0x011c, 0x1c1c, 0x2f1c, 0xe92f, 0x0d2f};

} // namespace qn::gguf::grids

#endif // QN_GGUF_QUANTGRIDS_H

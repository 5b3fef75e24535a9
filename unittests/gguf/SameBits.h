//===- SameBits.h - a decode vs a reference file, bit for bit -*- C++ -*-===//
//
// The dequantization tests of ../shared/fixtures/quant and quant2 compare
// qn's floats with the peer's deq/<type>.f32 by their bits (-0.0 and +0.0
// differ), reporting the first few mismatches with row and column.
//
//===----------------------------------------------------------------------===//

#ifndef QN_UNITTESTS_GGUF_SAMEBITS_H
#define QN_UNITTESTS_GGUF_SAMEBITS_H

#include "unittests/FixturePaths.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace qn::test {

inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Expects `ours` (rows of `cols` floats) to have the bits of the raw
/// little-endian float32 file at fixturePath(`relative`).
inline void expectSameBitsAsFile(const std::string &relative,
                                 llvm::ArrayRef<float> ours, int64_t cols) {
  auto ref = llvm::MemoryBuffer::getFile(fixturePath(relative));
  ASSERT_TRUE(bool(ref)) << relative;
  ASSERT_EQ((*ref)->getBufferSize(), ours.size() * sizeof(float)) << relative;
  const char *bytes = (*ref)->getBufferStart();
  int64_t mismatches = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    float expected;
    std::memcpy(&expected, bytes + 4 * i, 4);
    if (bitsOf(expected) != bitsOf(ours[i]) && mismatches++ < 5)
      ADD_FAILURE() << relative << ": element " << i << " (row " << i / cols
                    << ", col " << i % cols << "): peer " << expected << " (0x"
                    << std::hex << bitsOf(expected) << "), ours " << ours[i]
                    << " (0x" << bitsOf(ours[i]) << std::dec << ")";
  }
  EXPECT_EQ(mismatches, 0) << relative << ": of " << ours.size();
}

} // namespace qn::test

#endif // QN_UNITTESTS_GGUF_SAMEBITS_H

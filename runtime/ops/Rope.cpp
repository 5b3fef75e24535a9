//===- Rope.cpp - partial NEOX rotary position embedding -----------------===//

#include "runtime/ops/Rope.h"

#include "gguf/Qwen3Next.h"

#include <cmath>

namespace qn::runtime {

void ropeNeox(float *x, int64_t nHeads, int64_t headDim, int64_t nRot,
              int64_t pos, float base, const std::array<int64_t, 4> *sections) {
  const int64_t half = nRot / 2;
  const float thetaScale = std::pow(base, -2.0f / static_cast<float>(nRot));
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < half; ++i, theta *= thetaScale) {
    if (sections && !gguf::imropePairRotates(*sections, i))
      continue;
    const float c = std::cos(theta), s = std::sin(theta);
    for (int64_t h = 0; h < nHeads; ++h) {
      float *v = x + h * headDim;
      const float x0 = v[i], x1 = v[i + half];
      v[i] = x0 * c - x1 * s;
      v[i + half] = x0 * s + x1 * c;
    }
  }
}

} // namespace qn::runtime

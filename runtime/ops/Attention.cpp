//===- Attention.cpp - causal GQA attention over a KV cache --------------===//

#include "runtime/ops/Attention.h"

#include "gguf/Dequantize.h"

#include <cmath>
#include <cstring>

namespace qn::runtime {

void storeKV(const float *src, int64_t n, KVType type, void *dst) {
  if (type == KVType::F32) {
    std::memcpy(dst, src, sizeof(float) * n);
    return;
  }
  auto *h = static_cast<uint16_t *>(dst);
  for (int64_t i = 0; i < n; ++i)
    h[i] = gguf::floatToFp16(src[i]);
}

void loadKV(const void *src, int64_t n, KVType type, float *dst) {
  if (type == KVType::F32) {
    std::memcpy(dst, src, sizeof(float) * n);
    return;
  }
  const auto *h = static_cast<const uint16_t *>(src);
  for (int64_t i = 0; i < n; ++i)
    dst[i] = gguf::fp16ToFloat(h[i]);
}

void attendCached(const float *q, const void *K, const void *V, KVType type,
                  int64_t nKeys, int64_t Hq, int64_t Hkv, int64_t Dh,
                  float *scratch, float *out) {
  const int64_t group = Hq / Hkv;
  const size_t rowBytes = kvElementBytes(type) * Hkv * Dh;
  const size_t headBytes = kvElementBytes(type) * Dh;
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
  float *scores = scratch;
  float *row = scratch + nKeys;
  const auto *kBase = static_cast<const uint8_t *>(K);
  const auto *vBase = static_cast<const uint8_t *>(V);
  for (int64_t h = 0; h < Hq; ++h) {
    const int64_t kvHead = h / group;
    const float *qh = q + h * Dh;
    float maxS = -INFINITY;
    for (int64_t j = 0; j < nKeys; ++j) {
      loadKV(kBase + j * rowBytes + kvHead * headBytes, Dh, type, row);
      float dot = 0.0f;
      for (int64_t d = 0; d < Dh; ++d)
        dot += qh[d] * row[d];
      scores[j] = dot * scale;
      maxS = scores[j] > maxS ? scores[j] : maxS;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < nKeys; ++j) {
      scores[j] = std::exp(scores[j] - maxS);
      sum += scores[j];
    }
    const float inv = static_cast<float>(1.0 / sum);
    float *oh = out + h * Dh;
    for (int64_t d = 0; d < Dh; ++d)
      oh[d] = 0.0f;
    for (int64_t j = 0; j < nKeys; ++j) {
      loadKV(vBase + j * rowBytes + kvHead * headBytes, Dh, type, row);
      const float p = scores[j] * inv;
      for (int64_t d = 0; d < Dh; ++d)
        oh[d] += p * row[d];
    }
  }
}

} // namespace qn::runtime

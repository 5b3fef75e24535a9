//===- Attention.cpp - causal GQA attention over a KV cache --------------===//

#include "runtime/ops/Attention.h"

#include "runtime/ops/HotLoops.h"

#include "gguf/Dequantize.h"

#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx,f16c"))) static void
convertF16C(const uint16_t *src, float *dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i *>(src + i))));
  for (; i < n; ++i)
    dst[i] = gguf::fp16ToFloat(src[i]);
}
static const bool hasF16C = __builtin_cpu_supports("f16c");
#endif

void convertF16ToF32(const uint16_t *src, float *dst, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (hasF16C) {
    convertF16C(src, dst, n);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i)
    dst[i] = gguf::fp16ToFloat(src[i]);
}

void attendGroup(const float *q, int64_t G, const float *K, const float *V,
                 int64_t rowStride, int64_t nKeys, int64_t Dh, float *scores,
                 float *out) {
  if (useAvx2HotLoops())
    hot_avx2::attendGroup(q, G, K, V, rowStride, nKeys, Dh, scores, out);
  else
    hot_generic::attendGroup(q, G, K, V, rowStride, nKeys, Dh, scores, out);
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

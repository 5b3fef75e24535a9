//===- Attention.h - causal GQA attention over a KV cache -------*- C++ -*-===//
//
// Spec §3.3 step 6: softmax(q k^T / sqrt(Dh)) v per query head, query head h
// reading KV head h / (Hq/Hkv). Keys and values are rows of a cache stored
// as F16 (the peer's default, values rounded when stored) or F32.
//
//===----------------------------------------------------------------------===//

#ifndef QN_RUNTIME_OPS_ATTENTION_H
#define QN_RUNTIME_OPS_ATTENTION_H

#include <cstddef>
#include <cstdint>

namespace qn::runtime {

enum class KVType { F16, F32 };

/// Bytes of one element of a cache of `type`.
inline size_t kvElementBytes(KVType type) {
  return type == KVType::F16 ? 2 : 4;
}

/// Writes n floats into cache memory `dst` of `type` (rounding to F16).
void storeKV(const float *src, int64_t n, KVType type, void *dst);

/// Reads n cache elements of `type` back as floats.
void loadKV(const void *src, int64_t n, KVType type, float *dst);

/// F16 -> F32 for n values (F16C when the CPU has it, else
/// gguf::fp16ToFloat; both exact).
void convertF16ToF32(const uint16_t *src, float *dst, int64_t n);

/// The fast path: the G query heads (q: G x Dh contiguous) that share one
/// KV head, keys and values already F32, key row j of that KV head at
/// K + j*rowStride (same for V). scores: G*nKeys floats; out: G x Dh.
/// Same result as attendCached for those heads up to summation order.
void attendGroup(const float *q, int64_t G, const float *K, const float *V,
                 int64_t rowStride, int64_t nKeys, int64_t Dh, float *scores,
                 float *out);

/// The reference: one query token attending to cache rows 0..nKeys-1 (the
/// caller passes only the rows at positions <= the query's: that is the causal
/// mask). q: [Hq x Dh]; K, V: nKeys rows of Hkv*Dh elements; out: [Hq x Dh];
/// scratch: nKeys + 2*Dh floats.
void attendCached(const float *q, const void *K, const void *V, KVType type,
                  int64_t nKeys, int64_t Hq, int64_t Hkv, int64_t Dh,
                  float *scratch, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ATTENTION_H

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

/// One query token attending to cache rows 0..nKeys-1 (the caller passes
/// only the rows at positions <= the query's: that is the causal mask).
/// q: [Hq x Dh]; K, V: nKeys rows of Hkv*Dh elements; out: [Hq x Dh];
/// scratch: nKeys + 2*Dh floats.
void attendCached(const float *q, const void *K, const void *V, KVType type,
                  int64_t nKeys, int64_t Hq, int64_t Hkv, int64_t Dh,
                  float *scratch, float *out);

} // namespace qn::runtime

#endif // QN_RUNTIME_OPS_ATTENTION_H

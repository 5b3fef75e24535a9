//===- DeltaNetFused.cpp - single-pass gated delta rule for prefill ------===//
//
// The value columns of a head's state are independent (column i of M only
// meets column i of v, p, r, delta and out; the scalars k.q, alpha, beta are
// shared), so the kernel walks the state in column blocks of kBlock and
// runs all T tokens over one block before the next: the block (dk x 16
// floats, 8 KiB at dk = 128) stays in L1 for the whole ubatch and the
// per-column vectors stay in registers, while q, k, v stream by. Per token
// one sweep over the block both writes M_t and accumulates M_t^T k_{t+1},
// M_t^T q_{t+1} for the next token; the recurrent reference sweeps twice.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetFused.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qn::runtime {
namespace {

constexpr int64_t kBlock = 16;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QN_DELTA_CLONES                                                        \
  __attribute__((target_clones("arch=haswell", "default")))
#else
#define QN_DELTA_CLONES
#endif

float dotf(const float *a, const float *b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l)
      acc[l] += a[i + l] * b[i + l];
  float s = 0.0f;
  for (int l = 0; l < 8; ++l)
    s += acc[l];
  for (; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/// All T tokens over state columns [i0, i0 + w) (w <= kBlock). `Mb` is the
/// block copied out of M: dk rows of kBlock floats, columns >= w zero (they
/// stay zero: their v is taken as 0, so delta is 0 there). `kq[t]` = k_t.q_t.
QN_DELTA_CLONES
void fusedBlock(const DeltaHeadArgs &a, const float *kq, int64_t i0, int64_t w,
                float *__restrict Mb) {
  const int64_t dk = a.dk;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dk));
  float p[kBlock] = {}, r[kBlock] = {}, delta[kBlock], vb[kBlock] = {};
  // p = M_0^T k_0 and r = M_0^T q_0 from the incoming state.
  for (int64_t j = 0; j < dk; ++j) {
    const float kj = a.k[j], qj = a.q[j];
    const float *row = Mb + j * kBlock;
    for (int64_t i = 0; i < kBlock; ++i) {
      p[i] += row[i] * kj;
      r[i] += row[i] * qj;
    }
  }
  for (int64_t t = 0; t < a.T; ++t) {
    const float *k = a.k + t * a.qkStride;
    const float *v = a.v + t * a.vStride;
    const float alpha = std::exp(a.g[t * a.gStride]);
    const float beta = a.beta[t * a.gStride];
    std::memcpy(vb, v + i0, sizeof(float) * w);
    float *out = a.out + t * a.outStride + i0;
    for (int64_t i = 0; i < kBlock; ++i) {
      delta[i] = beta * (vb[i] - alpha * p[i]);
      r[i] = scale * (alpha * r[i] + kq[t] * delta[i]);
    }
    std::memcpy(out, r, sizeof(float) * w);
    if (t + 1 == a.T) {
      for (int64_t j = 0; j < dk; ++j) {
        float *row = Mb + j * kBlock;
        const float kj = k[j];
        for (int64_t i = 0; i < kBlock; ++i)
          row[i] = alpha * row[i] + kj * delta[i];
      }
      break;
    }
    // The one sweep: write M_t and read it against the next k and q.
    const float *kn = k + a.qkStride, *qn = a.q + (t + 1) * a.qkStride;
    for (int64_t i = 0; i < kBlock; ++i)
      p[i] = r[i] = 0.0f;
    for (int64_t j = 0; j < dk; ++j) {
      float *row = Mb + j * kBlock;
      const float kj = k[j], knj = kn[j], qnj = qn[j];
      for (int64_t i = 0; i < kBlock; ++i) {
        const float m = alpha * row[i] + kj * delta[i];
        row[i] = m;
        p[i] += m * knj;
        r[i] += m * qnj;
      }
    }
  }
}

} // namespace

void deltaHeadFused(const DeltaHeadArgs &a) {
  if (a.T <= 0)
    return;
  // Per-thread scratch, grown once: the state block and the k.q products.
  thread_local std::vector<float> block, kq;
  if (block.size() < static_cast<size_t>(a.dk * kBlock))
    block.resize(static_cast<size_t>(a.dk * kBlock));
  if (kq.size() < static_cast<size_t>(a.T))
    kq.resize(static_cast<size_t>(a.T));
  for (int64_t t = 0; t < a.T; ++t)
    kq[t] = dotf(a.k + t * a.qkStride, a.q + t * a.qkStride, a.dk);
  float *Mb = block.data();
  for (int64_t i0 = 0; i0 < a.dv; i0 += kBlock) {
    const int64_t w = std::min(kBlock, a.dv - i0);
    for (int64_t j = 0; j < a.dk; ++j) {
      std::memcpy(Mb + j * kBlock, a.M + j * a.dv + i0, sizeof(float) * w);
      std::memset(Mb + j * kBlock + w, 0, sizeof(float) * (kBlock - w));
    }
    fusedBlock(a, kq.data(), i0, w, Mb);
    for (int64_t j = 0; j < a.dk; ++j)
      std::memcpy(a.M + j * a.dv + i0, Mb + j * kBlock, sizeof(float) * w);
  }
}

} // namespace qn::runtime

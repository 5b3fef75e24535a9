//===- DeltaNetChunked.cpp - the chunked (parallel) gated delta rule -----===//
//
// Spec §4.1, one value head, chunk by chunk (C = 64, state M running across
// chunks). Within a chunk of n real rows (i, j < n; the zero rows that pad
// the last chunk to C contribute nothing, so the loops stop at n):
//
//   G_i = sum_{m<=i} g_m,  Gamma_ij = exp(G_i - G_j) for j <= i only (the
//   difference is never formed above the diagonal: masked before exp),
//   L_ij = beta_i (k_i.k_j) Gamma_ij (j < i),  A_ij = (s q_i.k_j) Gamma_ij
//   (j <= i);  U = (I+L)^-1 diag(beta) V and W = (I+L)^-1 diag(beta e^G) K
//   by forward substitution (the unit lower-triangular solve);
//   V~ = U - W M;  O = diag(e^G) (sQ) M + A V~;
//   M <- e^{G_last} M + (diag(e^{G_last - G}) K)^T V~.
//
//===----------------------------------------------------------------------===//

#include "runtime/ops/DeltaNetChunked.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qn::runtime {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QN_DELTA_CLONES                                                        \
  __attribute__((target_clones("arch=haswell", "default")))
#else
#define QN_DELTA_CLONES
#endif

constexpr int64_t C = kDeltaChunk;

inline float dotf(const float *a, const float *b, int64_t n) {
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

/// Y_i += sign * sum_j X[i][j] B_j for i < n, j < kdim: rows of X (stride
/// kdim) times the kdim x cols matrix B (row stride cols). Four rows of Y
/// share each pass over a row of B.
inline void rowsTimes(const float *X, int64_t n, int64_t kdim, const float *B,
                      int64_t cols, float *Y, float sign) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float *__restrict y0 = Y + i * cols, *__restrict y1 = y0 + cols;
    float *__restrict y2 = y1 + cols, *__restrict y3 = y2 + cols;
    const float *x = X + i * kdim;
    for (int64_t j = 0; j < kdim; ++j) {
      const float *__restrict b = B + j * cols;
      const float a0 = sign * x[j], a1 = sign * x[kdim + j];
      const float a2 = sign * x[2 * kdim + j], a3 = sign * x[3 * kdim + j];
      for (int64_t c = 0; c < cols; ++c) {
        y0[c] += a0 * b[c];
        y1[c] += a1 * b[c];
        y2[c] += a2 * b[c];
        y3[c] += a3 * b[c];
      }
    }
  }
  for (; i < n; ++i) {
    float *__restrict y = Y + i * cols;
    for (int64_t j = 0; j < kdim; ++j) {
      const float *__restrict b = B + j * cols;
      const float aj = sign * X[i * kdim + j];
      for (int64_t c = 0; c < cols; ++c)
        y[c] += aj * b[c];
    }
  }
}

struct ChunkScratch {
  float *Q, *K, *W, *U, *O, *L, *A, *G, *eG, *b;
};

/// One chunk of n <= C rows starting at token c0.
QN_DELTA_CLONES
void runChunk(const DeltaHeadArgs &a, int64_t c0, int64_t n,
              const ChunkScratch &s) {
  const int64_t dk = a.dk, dv = a.dv;
  float *__restrict M = a.M;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dk));

  // Load the chunk; G is the inclusive cumsum of g inside the chunk.
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = c0 + i;
    const float *q = a.q + t * a.qkStride, *k = a.k + t * a.qkStride;
    for (int64_t j = 0; j < dk; ++j) {
      s.Q[i * dk + j] = scale * q[j];
      s.K[i * dk + j] = k[j];
    }
    acc += a.g[t * a.gStride];
    s.G[i] = acc;
    s.eG[i] = std::exp(acc);
    s.b[i] = a.beta[t * a.gStride];
  }

  // Gamma, L (strictly lower) and A (lower with the diagonal). Only j <= i
  // is formed, so exp never sees the (large, positive) upper differences.
  for (int64_t i = 0; i < n; ++i) {
    const float *ki = s.K + i * dk, *qi = s.Q + i * dk;
    for (int64_t j = 0; j <= i; ++j) {
      const float gamma = std::exp(s.G[i] - s.G[j]);
      const float *kj = s.K + j * dk;
      s.A[i * C + j] = dotf(qi, kj, dk) * gamma;
      if (j < i)
        s.L[i * C + j] = s.b[i] * dotf(ki, kj, dk) * gamma;
    }
  }

  // (I + L) U = diag(beta) V and (I + L) W = diag(beta e^G) K, forward
  // substitution row by row (unit diagonal).
  for (int64_t i = 0; i < n; ++i) {
    float *__restrict u = s.U + i * dv;
    float *__restrict w = s.W + i * dk;
    const float *v = a.v + (c0 + i) * a.vStride;
    const float bi = s.b[i], bg = s.b[i] * s.eG[i];
    for (int64_t c = 0; c < dv; ++c)
      u[c] = bi * v[c];
    for (int64_t c = 0; c < dk; ++c)
      w[c] = bg * s.K[i * dk + c];
    for (int64_t j = 0; j < i; ++j) {
      const float l = s.L[i * C + j];
      const float *__restrict uj = s.U + j * dv;
      const float *__restrict wj = s.W + j * dk;
      for (int64_t c = 0; c < dv; ++c)
        u[c] -= l * uj[c];
      for (int64_t c = 0; c < dk; ++c)
        w[c] -= l * wj[c];
    }
  }

  // V~ = U - W M (in U) and O = diag(e^G) (sQ) M + A V~, both with the
  // state as it was before this chunk.
  rowsTimes(s.W, n, dk, M, dv, s.U, -1.0f);
  std::memset(s.O, 0, sizeof(float) * n * dv);
  rowsTimes(s.Q, n, dk, M, dv, s.O, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    float *__restrict o = s.O + i * dv;
    const float e = s.eG[i];
    for (int64_t c = 0; c < dv; ++c)
      o[c] *= e;
    for (int64_t j = 0; j <= i; ++j) {
      const float aij = s.A[i * C + j];
      const float *__restrict vj = s.U + j * dv;
      for (int64_t c = 0; c < dv; ++c)
        o[c] += aij * vj[c];
    }
    std::memcpy(a.out + (c0 + i) * a.outStride, o, sizeof(float) * dv);
  }

  // M <- e^{G_last} M + (diag(e^{G_last - G}) K)^T V~; the decayed keys
  // reuse W's buffer.
  const float gLast = s.G[n - 1], eLast = s.eG[n - 1];
  for (int64_t i = 0; i < n; ++i) {
    const float d = std::exp(gLast - s.G[i]);
    for (int64_t c = 0; c < dk; ++c)
      s.W[i * dk + c] = d * s.K[i * dk + c];
  }
  for (int64_t j = 0; j < dk; ++j) {
    float *__restrict m = M + j * dv;
    for (int64_t c = 0; c < dv; ++c)
      m[c] *= eLast;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float w0 = s.W[i * dk + j], w1 = s.W[(i + 1) * dk + j];
      const float w2 = s.W[(i + 2) * dk + j], w3 = s.W[(i + 3) * dk + j];
      const float *__restrict v0 = s.U + i * dv, *__restrict v1 = v0 + dv;
      const float *__restrict v2 = v1 + dv, *__restrict v3 = v2 + dv;
      for (int64_t c = 0; c < dv; ++c)
        m[c] += w0 * v0[c] + w1 * v1[c] + w2 * v2[c] + w3 * v3[c];
    }
    for (; i < n; ++i) {
      const float wi = s.W[i * dk + j];
      const float *__restrict vi = s.U + i * dv;
      for (int64_t c = 0; c < dv; ++c)
        m[c] += wi * vi[c];
    }
  }
}

} // namespace

void deltaHeadChunked(const DeltaHeadArgs &a) {
  if (a.T <= 0)
    return;
  const int64_t dk = a.dk, dv = a.dv;
  // Per-thread scratch, grown once per thread.
  thread_local std::vector<float> buf;
  const size_t need =
      static_cast<size_t>(C * (3 * dk + 2 * dv) + 2 * C * C + 3 * C);
  if (buf.size() < need)
    buf.resize(need);
  float *p = buf.data();
  ChunkScratch s;
  s.Q = p, p += C * dk;
  s.K = p, p += C * dk;
  s.W = p, p += C * dk;
  s.U = p, p += C * dv;
  s.O = p, p += C * dv;
  s.L = p, p += C * C;
  s.A = p, p += C * C;
  s.G = p, p += C;
  s.eG = p, p += C;
  s.b = p;
  for (int64_t c0 = 0; c0 < a.T; c0 += C)
    runChunk(a, c0, std::min(C, a.T - c0), s);
}

} // namespace qn::runtime

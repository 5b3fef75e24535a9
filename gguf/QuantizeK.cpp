//===- QuantizeK.cpp - reference k-quant quantizers -----------------------===//
//
// Mirrors ggml-quants.c (make_qkx2_quants, make_qx_quants and the q4_K, q5_K,
// q6_K row quantizers without imatrix): the same expressions in the same
// order, so the bytes equal the peer's (checked against
// ../shared/fixtures/quant). Built with -ffp-contract=off.
//
// Block layouts (256 values):
//   q4_K: d, dmin (f16), scales[12] (6-bit scale and min per 32), qs[128]
//   q5_K: d, dmin, scales[12], qh[32] (fifth bits), qs[128]
//   q6_K: ql[128], qh[64], scales[16] (int8 per 16), d (f16)
//
//===----------------------------------------------------------------------===//

#include "gguf/QuantizeK.h"

#include "gguf/Dequantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qn::gguf {
namespace {

constexpr int kQKK = 256;
constexpr float kGroupMaxEps = 1e-15f;

int nearestInt(float fval) {
  float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

void storeHalf(uint8_t *p, float f) {
  uint16_t h = floatToFp16(f);
  std::memcpy(p, &h, 2);
}

float loadHalf(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16ToFloat(h);
}

/// Asymmetric quantization of n values to [0, nmax] with a weighted search
/// over scales; returns the scale and the (negated) minimum.
float makeQKX2Quants(int n, int nmax, const float *x, const float *weights,
                     uint8_t *L, float *theMin, uint8_t *Laux, float rmin,
                     float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sumW = weights[0];
  float sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min)
      min = x[i];
    if (x[i] > max)
      max = x[i];
    float w = weights[i];
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0)
    min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i)
      L[i] = 0;
    *theMin = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float bestError = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = diff * diff;
    float w = weights[i];
    bestError += w * diff;
  }
  if (nstep < 1) {
    *theMin = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      float w = weights[i];
      sumL += w * l;
      sumL2 += w * l * l;
      sumXL += w * l * x[i];
    }
    float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float curError = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * Laux[i] + thisMin - x[i];
        diff = diff * diff;
        float w = weights[i];
        curError += w * diff;
      }
      if (curError < bestError) {
        for (int i = 0; i < n; ++i)
          L[i] = Laux[i];
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

/// Symmetric quantization of n values to [-nmax, nmax-1] (stored + nmax),
/// rmse_type 1 (weights x^2), as q6_K uses it.
float makeQXQuants(int n, int nmax, const float *x, int8_t *L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i)
      L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0)
      continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearestInt(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        int l = nearestInt(iscale * x[i]);
        L[i] =
            static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void getScaleMinK4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

/// The shared part of q4_K and q5_K: per-32 scales and mins packed to 6 bits
/// into `scales[12]`, d and dmin into `dd`, and the levels in L.
void quantizeScalesMins(const float *x, int nmax, float rmin, int nstep,
                        uint8_t *dd, uint8_t *scalesOut, uint8_t *L) {
  float mins[kQKK / 32];
  float scales[kQKK / 32];
  float weights[32];
  uint8_t Laux[32];
  float maxScale = 0;
  float maxMin = 0;
  for (int j = 0; j < kQKK / 32; ++j) {
    float sumX2 = 0;
    for (int l = 0; l < 32; ++l)
      sumX2 += x[32 * j + l] * x[32 * j + l];
    float avX = std::sqrt(sumX2 / 32);
    for (int l = 0; l < 32; ++l)
      weights[l] = avX + std::fabs(x[32 * j + l]);
    scales[j] = makeQKX2Quants(32, nmax, x + 32 * j, weights, L + 32 * j,
                               &mins[j], Laux, rmin, 0.1f, nstep);
    float scale = scales[j];
    if (scale > maxScale)
      maxScale = scale;
    float min = mins[j];
    if (min > maxMin)
      maxMin = min;
  }
  float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
  float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
  for (int j = 0; j < kQKK / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearestInt(invScale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearestInt(invMin * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      scalesOut[j] = ls;
      scalesOut[j + 4] = lm;
    } else {
      scalesOut[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
      scalesOut[j - 4] |= ((ls >> 4) << 6);
      scalesOut[j - 0] |= ((lm >> 4) << 6);
    }
  }
  storeHalf(dd, maxScale / 63.f);
  storeHalf(dd + 2, maxMin / 63.f);
  for (int j = 0; j < kQKK / 32; ++j) {
    uint8_t sc, m;
    getScaleMinK4(j, scalesOut, &sc, &m);
    const float d = loadHalf(dd) * sc;
    if (!d)
      continue;
    const float dm = loadHalf(dd + 2) * m;
    for (int ii = 0; ii < 32; ++ii) {
      int l = nearestInt((x[32 * j + ii] + dm) / d);
      l = std::max(0, std::min(nmax, l));
      L[32 * j + ii] = static_cast<uint8_t>(l);
    }
  }
}

} // namespace

void quantizeQ4_K(const float *x, uint8_t *y, int64_t nb) {
  uint8_t L[kQKK];
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 144) {
    quantizeScalesMins(x, 15, -1.f, 20, y, y + 4, L);
    uint8_t *q = y + 16;
    for (int j = 0; j < kQKK; j += 64) {
      for (int l = 0; l < 32; ++l)
        q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
  }
}

void quantizeQ5_K(const float *x, uint8_t *y, int64_t nb) {
  uint8_t L[kQKK];
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 176) {
    quantizeScalesMins(x, 31, -0.5f, 15, y, y + 4, L);
    uint8_t *qh = y + 16;
    uint8_t *ql = y + 48;
    std::memset(qh, 0, kQKK / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQKK; n += 64) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        int l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 <<= 2;
      m2 <<= 2;
      ql += 32;
    }
  }
}

void quantizeQ6_K(const float *x, uint8_t *y, int64_t nb) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQKK, y += 210) {
    uint8_t *ql = y;
    uint8_t *qh = y + 128;
    int8_t *sc = reinterpret_cast<int8_t *>(y + 192);
    uint8_t *d = y + 208;
    float maxScale = 0;
    float maxAbsScale = 0;
    for (int ib = 0; ib < kQKK / 16; ++ib) {
      const float scale = makeQXQuants(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float absScale = std::fabs(scale);
      if (absScale > maxAbsScale) {
        maxAbsScale = absScale;
        maxScale = scale;
      }
    }
    if (maxAbsScale < kGroupMaxEps) {
      std::memset(y, 0, 210);
      storeHalf(d, 0.f);
      continue;
    }
    float iscale = -128.f / maxScale;
    storeHalf(d, 1 / iscale);
    for (int ib = 0; ib < kQKK / 16; ++ib)
      sc[ib] =
          static_cast<int8_t>(std::min(127, nearestInt(iscale * scales[ib])));
    for (int j = 0; j < kQKK / 16; ++j) {
      float dj = loadHalf(d) * sc[j];
      if (!dj)
        continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = nearestInt(x[16 * j + ii] / dj);
        l = std::max(-32, std::min(31, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    for (int j = 0; j < kQKK; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>(
            (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
            ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
  }
}

} // namespace qn::gguf

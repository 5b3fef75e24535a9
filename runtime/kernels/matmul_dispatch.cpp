//===- matmul_dispatch.cpp - pick the matmul variant for this CPU ---------===//

#include "runtime/kernels/Matmul.h"
#include "runtime/kernels/MatmulIsa.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <memory>

using namespace qn::runtime;

llvm::StringRef qn::runtime::getMatmulIsaName(MatmulIsa isa) {
  switch (isa) {
  case MatmulIsa::Generic:
    return "generic";
  case MatmulIsa::Avx2:
    return "avx2";
  case MatmulIsa::Avx512:
    return "avx512";
  }
  llvm_unreachable("unknown MatmulIsa");
}

bool qn::runtime::isMatmulIsaSupported(MatmulIsa isa) {
  switch (isa) {
  case MatmulIsa::Generic:
    return true;
#if defined(__x86_64__) && defined(__GNUC__)
  case MatmulIsa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  case MatmulIsa::Avx512:
    return isMatmulIsaSupported(MatmulIsa::Avx2) &&
           __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
#else
  case MatmulIsa::Avx2:
  case MatmulIsa::Avx512:
    return false;
#endif
  }
  return false;
}

static MatmulIsa pickDefaultIsa() {
  MatmulIsa best = MatmulIsa::Generic;
  for (MatmulIsa isa : {MatmulIsa::Avx2, MatmulIsa::Avx512})
    if (isMatmulIsaSupported(isa))
      best = isa;
  // QN_MATMUL_ISA may only narrow the choice: naming an unsupported variant
  // must not crash the process with an illegal instruction.
  if (const char *env = std::getenv("QN_MATMUL_ISA")) {
    for (MatmulIsa isa :
         {MatmulIsa::Generic, MatmulIsa::Avx2, MatmulIsa::Avx512})
      if (getMatmulIsaName(isa) == env && isMatmulIsaSupported(isa) &&
          static_cast<int>(isa) < static_cast<int>(best))
        best = isa;
  }
  return best;
}

MatmulIsa qn::runtime::getDefaultMatmulIsa() {
  static const MatmulIsa isa = pickDefaultIsa();
  return isa;
}

void *qn::runtime::detail::threadScratch(size_t bytes) {
  struct AlignedFree {
    void operator()(void *p) const { std::free(p); }
  };
  static thread_local std::unique_ptr<void, AlignedFree> buffer;
  static thread_local size_t capacity = 0;
  if (bytes > capacity) {
    size_t rounded = (bytes + 63) / 64 * 64;
    buffer.reset(std::aligned_alloc(64, rounded));
    if (!buffer)
      llvm::report_fatal_error("out of memory for matmul scratch");
    capacity = rounded;
  }
  return buffer.get();
}

static MatmulActivations &currentActivations() {
  // The default, as the peer: 8-bit activations (docs/kernels.md).
  static MatmulActivations act = MatmulActivations::Q8;
  return act;
}

bool qn::runtime::hasInt8Kernels(gguf::GGMLType type) {
  using gguf::GGMLType;
  switch (type) {
  case GGMLType::Q8_0:
  case GGMLType::Q4_0:
  case GGMLType::Q4_1:
  case GGMLType::Q5_0:
  case GGMLType::Q5_1:
  case GGMLType::Q4_K:
  case GGMLType::Q5_K:
  case GGMLType::Q6_K:
  case GGMLType::IQ4_NL:
  case GGMLType::MXFP4:
    return true;
  default:
    return false;
  }
}

void qn::runtime::setMatmulActivations(MatmulActivations act) {
  currentActivations() = act;
}

MatmulActivations qn::runtime::getMatmulActivations() {
  return currentActivations();
}

static bool hasAvx512Vnni() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

bool qn::runtime::matmulQ8Gemm(MatmulIsa isa, const WeightView &w,
                               const float *x, int64_t nTokens, float *y,
                               ThreadPool *pool, bool accumulate) {
  switch (isa) {
  case MatmulIsa::Generic:
    return false;
  case MatmulIsa::Avx2:
    return detail::gemmQ8Avx2(w, x, nTokens, y, pool, accumulate);
  case MatmulIsa::Avx512: {
    static const bool vnni = hasAvx512Vnni();
    return vnni ? detail::gemmQ8Avx512Vnni(w, x, nTokens, y, pool, accumulate)
                : detail::gemmQ8Avx2(w, x, nTokens, y, pool, accumulate);
  }
  }
  return false;
}

void qn::runtime::matmulWithIsa(MatmulIsa isa, const WeightView &w,
                                const float *x, int64_t nTokens, float *y,
                                ThreadPool *pool, MatmulActivations act,
                                bool accumulate) {
  switch (isa) {
  case MatmulIsa::Generic:
    return detail::matmulGeneric(w, x, nTokens, y, pool, act, accumulate);
  case MatmulIsa::Avx2:
    return detail::matmulAvx2(w, x, nTokens, y, pool, act, accumulate);
  case MatmulIsa::Avx512:
    return detail::matmulAvx512(w, x, nTokens, y, pool, act, accumulate);
  }
}

void qn::runtime::matmul(const WeightView &w, const float *x, int64_t nTokens,
                         float *y, ThreadPool *pool, bool accumulate) {
  matmul(w, x, nTokens, y, pool, getMatmulActivations(), accumulate);
}

void qn::runtime::matmul(const WeightView &w, const float *x, int64_t nTokens,
                         float *y, ThreadPool *pool, MatmulActivations act,
                         bool accumulate) {
  // The loader validates shapes once; this guards the kernels (which index
  // blocks blindly) against a view that slipped through, at the cost of two
  // table lookups per call.
  if (!gguf::canDequantize(w.type) || gguf::rowsPerGroup(w.type) > 1 ||
      !gguf::isValidRowLength(w.type, w.cols) ||
      w.rowBytes < gguf::rowBytes(w.type, w.cols))
    llvm::report_fatal_error(llvm::Twine(llvm::formatv(
        "matmul: unsupported weight view (type {0} = '{1}', {2} columns, "
        "{3} bytes per row)",
        static_cast<uint32_t>(w.type), gguf::getTypeName(w.type), w.cols,
        w.rowBytes)));
  matmulWithIsa(getDefaultMatmulIsa(), w, x, nTokens, y, pool, act, accumulate);
}

//===- CudaElementwiseTest.cpp - generated CUDA C++ of elementwise chains -===//
//
// Without a GPU the generated source is checked two ways: NVRTC compiles
// it to PTX for compute_90 (skipped, saying so, where NVRTC is not
// installed), and the same source, built for the host with a small shim
// for the CUDA built-ins (one thread, one block: the grid-stride loop
// visits every element), computes the chains' formulas on fresh random
// inputs with broadcast operands and an odd token count. That checks the
// scalar formulas and the broadcast indexing; the GPU run checks the rest.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaElementwise.h"
#include "codegen/ElementwiseKernel.h"
#include "runtime/cuda/Nvrtc.h"
#include "unittests/codegen/ElementwiseCases.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

using namespace mlir;
using namespace qn::codegentest;
namespace cuda = qn::codegen::cuda;

namespace {

/// The CUDA C++ of function @`name` of `source`, or "" after a failure.
std::string cudaOf(MLIRContext &ctx, const char *source, llvm::StringRef name,
                   std::string *error = nullptr) {
  qn::codegen::loadKernelDialects(ctx);
  OwningOpRef<ModuleOp> src = parseSourceString<ModuleOp>(source, &ctx);
  EXPECT_TRUE(!!src);
  if (!src)
    return "";
  auto text = cuda::emitCudaElementwiseKernel(
      src->lookupSymbol<func::FuncOp>(name), name);
  if (!text) {
    std::string message = llvm::toString(text.takeError());
    if (error)
      *error = message;
    else
      ADD_FAILURE() << message;
    return "";
  }
  return *text;
}

/// What the generated source needs from CUDA, on the host.
constexpr const char *kHostShim = R"cpp(
#include <cmath>
#include <cstring>
#define __device__
#define __global__
#define __forceinline__ inline
#define __restrict__
static inline float __int_as_float(unsigned x) {
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}
static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
struct QnDim { unsigned x; };
static const QnDim blockIdx{0}, threadIdx{0}, blockDim{1}, gridDim{1};
static inline float qn_maximumf(float a, float b) {
  return (a != a || b != b) ? __int_as_float(0x7fc00000) : std::fmax(a, b);
}
static inline float qn_minimumf(float a, float b) {
  return (a != a || b != b) ? __int_as_float(0x7fc00000) : std::fmin(a, b);
}
)cpp";

/// `source` built for the host as a shared library, loaded.
class HostBuild {
public:
  explicit HostBuild(const std::string &source) {
    llvm::SmallString<128> dir;
    if (llvm::sys::fs::createUniqueDirectory("qn-cuda-host", dir)) {
      ADD_FAILURE() << "no temporary directory";
      return;
    }
    this->dir = dir.str().str();
    const std::string cu = this->dir + "/k.cpp", so = this->dir + "/k.so";
    {
      std::error_code ec;
      llvm::raw_fd_ostream os(cu, ec);
      os << kHostShim << source;
    }
    llvm::ErrorOr<std::string> cxx = llvm::sys::findProgramByName(QN_HOST_CXX);
    if (!cxx) {
      ADD_FAILURE() << "no host compiler " << QN_HOST_CXX;
      return;
    }
    std::string err;
    const std::string args[] = {*cxx, "-std=c++17", "-O1", "-shared", "-fPIC",
                                "-w", cu,           "-o",  so};
    llvm::SmallVector<llvm::StringRef> argv(std::begin(args), std::end(args));
    if (llvm::sys::ExecuteAndWait(*cxx, argv, std::nullopt, {}, 0, 0, &err)) {
      ADD_FAILURE() << "host build failed: " << err;
      return;
    }
    handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    EXPECT_NE(handle, nullptr) << dlerror();
  }
  ~HostBuild() {
    if (handle)
      dlclose(handle);
    if (!dir.empty())
      llvm::sys::fs::remove_directories(dir);
  }
  void *symbol(const std::string &name) const {
    return handle ? dlsym(handle, name.c_str()) : nullptr;
  }

private:
  std::string dir;
  void *handle = nullptr;
};

void expectClose(const std::vector<float> &got, const std::vector<double> &want,
                 double relTol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], relTol * std::max(1.0, std::fabs(want[i])))
        << "element " << i;
}

TEST(CudaElementwiseTest, BroadcastChainOnTheHostMatchesFormula) {
  MLIRContext ctx;
  const std::string source = cudaOf(ctx, kGate, "gate");
  ASSERT_FALSE(source.empty());
  // n [T,3,5] dense; w [5] the last index; z dense; g [1,3,1] the middle.
  EXPECT_NE(source.find("gate_scalar(in0[i2 + i1 * 5LL + i0 * 15LL], in1[i2], "
                        "in2[i2 + i1 * 5LL + i0 * 15LL], in3[i1])"),
            std::string::npos)
      << source;
  HostBuild build(source);
  using Kernel = void (*)(long long, const float *, const float *,
                          const float *, const float *, float *);
  auto kernel = reinterpret_cast<Kernel>(build.symbol("gate"));
  ASSERT_NE(kernel, nullptr);
  std::mt19937 rng(99);
  const int64_t t = 11;
  std::vector<float> n = randomFloats(t * 15, -4.0f, 4.0f, rng);
  std::vector<float> w = randomFloats(5, 0.5f, 1.5f, rng);
  std::vector<float> z = randomFloats(t * 15, -8.0f, 8.0f, rng);
  std::vector<float> g = randomFloats(3, -3.0f, 3.0f, rng);
  std::vector<float> out(t * 15, NAN);
  kernel(t, n.data(), w.data(), z.data(), g.data(), out.data());
  expectClose(out, gateFormula(t, n, w, z, g), 2e-6);
}

TEST(CudaElementwiseTest, SoftplusBothSidesOnTheHostMatchFormula) {
  MLIRContext ctx;
  const std::string source = cudaOf(ctx, kDecay, "decay");
  ASSERT_FALSE(source.empty());
  HostBuild build(source);
  using Kernel =
      void (*)(long long, const float *, const float *, const float *, float *);
  auto kernel = reinterpret_cast<Kernel>(build.symbol("decay"));
  ASSERT_NE(kernel, nullptr);
  std::mt19937 rng(1234);
  for (int64_t t : {1, 13, 64}) {
    std::vector<float> a = randomFloats(t * 7, -30.0f, 30.0f, rng);
    std::vector<float> dt = randomFloats(7, -2.0f, 2.0f, rng);
    std::vector<float> ssmA = randomFloats(7, -3.0f, -0.1f, rng);
    std::vector<float> out(t * 7, NAN);
    kernel(t, a.data(), dt.data(), ssmA.data(), out.data());
    expectClose(out, decayFormula(t, a, dt, ssmA), 2e-6);
  }
}

TEST(CudaElementwiseTest, EveryFormulaOnTheHostMatchesLibm) {
  MLIRContext ctx;
  const std::string source = cudaOf(ctx, kMore, "more");
  ASSERT_FALSE(source.empty());
  HostBuild build(source);
  using Kernel = void (*)(long long, const float *, const float *, float *);
  auto kernel = reinterpret_cast<Kernel>(build.symbol("more"));
  ASSERT_NE(kernel, nullptr);
  std::mt19937 rng(5);
  const int64_t t = 9;
  std::vector<float> x = randomFloats(t * 6, -12.0f, 12.0f, rng);
  std::vector<float> y = randomFloats(t * 6, -5.0f, 5.0f, rng);
  std::vector<float> out(t * 6, NAN);
  kernel(t, x.data(), y.data(), out.data());
  expectClose(out, moreFormula(x, y), 2e-6);
}

TEST(CudaElementwiseTest, NvrtcCompilesTheKernels) {
  auto nvrtc = qn::runtime::cuda::Nvrtc::load();
  if (!nvrtc)
    GTEST_SKIP() << "NVRTC not installed: "
                 << llvm::toString(nvrtc.takeError());
  MLIRContext ctx;
  const std::string source = cudaOf(ctx, kGate, "gate") +
                             cudaOf(ctx, kMore, "more") +
                             cudaOf(ctx, kDecay, "decay");
  // The helpers the kernels share, as emitCudaKernels puts them first.
  const std::string unit = R"cuda(
static __device__ __forceinline__ float qn_maximumf(float a, float b) {
  return (a != a || b != b) ? __int_as_float(0x7fc00000) : fmaxf(a, b);
}
static __device__ __forceinline__ float qn_minimumf(float a, float b) {
  return (a != a || b != b) ? __int_as_float(0x7fc00000) : fminf(a, b);
}
)cuda" + source;
  auto ptx =
      (*nvrtc)->compileToPtx(unit, "test.cu", "compute_90", {"--fmad=false"});
  ASSERT_TRUE(!!ptx) << llvm::toString(ptx.takeError());
  EXPECT_NE(ptx->find(".visible .entry gate("), std::string::npos);
  EXPECT_NE(ptx->find(".visible .entry more("), std::string::npos);
  EXPECT_NE(ptx->find(".visible .entry decay("), std::string::npos);
  // A syntax error comes back with NVRTC's log.
  auto bad =
      (*nvrtc)->compileToPtx("__global__ void k( {", "bad.cu", "compute_90");
  ASSERT_FALSE(!!bad);
  const std::string message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("bad.cu: NVRTC failed"), std::string::npos) << message;
  EXPECT_NE(message.find("error"), std::string::npos) << message;
}

TEST(CudaElementwiseTest, KernelNamesAreDistinctIdentifiers) {
  EXPECT_EQ(cuda::cudaKernelName("prefill.g_in-0"), "prefill_2eg__in_2d0");
  EXPECT_NE(cuda::cudaKernelName("a.b"), cuda::cudaKernelName("a_2eb"));
  EXPECT_EQ(cuda::cudaKernelName("gate"), "gate");
}

TEST(CudaElementwiseTest, UnsupportedShapesAndOpsAreNamed) {
  MLIRContext ctx;
  std::string error;
  cudaOf(ctx, R"mlir(
func.func @inner(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  %e = qn.exp %x : tensor<4x?xf32>
  return %e : tensor<4x?xf32>
}
)mlir",
         "inner", &error);
  EXPECT_EQ(error, "cannot generate the CUDA kernel inner: only the outermost "
                   "dimension may be dynamic");
  cudaOf(ctx, R"mlir(
func.func @f(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = qn.softmax %x along 1 : tensor<4x8xf32>
  %e = qn.exp %s : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}
)mlir",
         "f", &error);
  EXPECT_EQ(error,
            "cannot generate the CUDA kernel f: unsupported 'qn.softmax'");
}

} // namespace

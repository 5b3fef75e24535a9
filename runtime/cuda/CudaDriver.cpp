//===- CudaDriver.cpp - the CUDA driver, loaded at run time --------------===//

#include "runtime/cuda/CudaDriver.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <optional>
#include <type_traits>

namespace qn::runtime::cuda {

namespace {
using Result = int; // CUresult; 0 is CUDA_SUCCESS
using Device = int; // CUdevice
// CUdevice_attribute values (cuda.h).
constexpr int kAttrMultiprocessors = 16;
constexpr int kAttrComputeMajor = 75;
constexpr int kAttrComputeMinor = 76;
} // namespace

struct CudaDriver::Api {
  Result (*init)(unsigned);
  Result (*driverGetVersion)(int *);
  Result (*deviceGetCount)(int *);
  Result (*deviceGet)(Device *, int);
  Result (*deviceGetName)(char *, int, Device);
  Result (*deviceGetAttribute)(int *, int, Device);
  Result (*deviceTotalMem)(size_t *, Device);
  Result (*getErrorString)(Result, const char **);
  Result (*primaryCtxRetain)(void **, Device);
  Result (*ctxSetCurrent)(void *);
  Result (*moduleLoadData)(void **, const void *);
  Result (*moduleGetFunction)(void **, void *, const char *);
  Result (*memAlloc)(CudaDriver::DevicePtr *, size_t);
  Result (*memFree)(CudaDriver::DevicePtr);
  Result (*memcpyHtoD)(CudaDriver::DevicePtr, const void *, size_t);
  Result (*memcpyDtoH)(void *, CudaDriver::DevicePtr, size_t);
  Result (*launchKernel)(void *, unsigned, unsigned, unsigned, unsigned,
                         unsigned, unsigned, unsigned, void *, void **,
                         void **);
  Result (*ctxSynchronize)();
};

namespace {

std::string errorName(const CudaDriver::Api &api, Result r) {
  const char *s = nullptr;
  if (api.getErrorString && api.getErrorString(r, &s) == 0 && s)
    return s;
  return "CUDA error " + std::to_string(r);
}

llvm::Expected<CudaDriver> open() {
  const char *name = "libcuda.so.1";
  void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    return llvm::createStringError(llvm::Twine("no CUDA driver: cannot load ") +
                                   name + " (" + (why ? why : "not found") +
                                   ")");
  }
  static CudaDriver::Api api;
  auto sym = [&](const char *s, auto &fn) -> bool {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, s));
    return fn != nullptr;
  };
  const bool ok = sym("cuInit", api.init) &&
                  sym("cuDriverGetVersion", api.driverGetVersion) &&
                  sym("cuDeviceGetCount", api.deviceGetCount) &&
                  sym("cuDeviceGet", api.deviceGet) &&
                  sym("cuDeviceGetName", api.deviceGetName) &&
                  sym("cuDeviceGetAttribute", api.deviceGetAttribute) &&
                  sym("cuDeviceTotalMem_v2", api.deviceTotalMem) &&
                  sym("cuGetErrorString", api.getErrorString) &&
                  sym("cuDevicePrimaryCtxRetain", api.primaryCtxRetain) &&
                  sym("cuCtxSetCurrent", api.ctxSetCurrent) &&
                  sym("cuModuleLoadData", api.moduleLoadData) &&
                  sym("cuModuleGetFunction", api.moduleGetFunction) &&
                  sym("cuMemAlloc_v2", api.memAlloc) &&
                  sym("cuMemFree_v2", api.memFree) &&
                  sym("cuMemcpyHtoD_v2", api.memcpyHtoD) &&
                  sym("cuMemcpyDtoH_v2", api.memcpyDtoH) &&
                  sym("cuLaunchKernel", api.launchKernel) &&
                  sym("cuCtxSynchronize", api.ctxSynchronize);
  if (!ok)
    return llvm::createStringError(llvm::Twine(name) +
                                   " lacks an entry point qn needs");
  CudaDriver d;
  d.api = &api;
  if (Result r = api.init(0))
    return llvm::createStringError("no usable CUDA driver: cuInit: " +
                                   errorName(api, r));
  if (Result r = api.driverGetVersion(&d.version))
    return llvm::createStringError("cuDriverGetVersion: " + errorName(api, r));
  return d;
}

} // namespace

llvm::Expected<const CudaDriver *> CudaDriver::load() {
  // Opened once; a failure is remembered and reported to every caller.
  static std::once_flag once;
  static std::optional<CudaDriver> loaded;
  static std::string failure;
  std::call_once(once, [] {
    llvm::Expected<CudaDriver> d = open();
    if (d)
      loaded = *d;
    else
      failure = llvm::toString(d.takeError());
  });
  if (!loaded)
    return llvm::createStringError(failure);
  return &*loaded;
}

llvm::Expected<std::vector<CudaDevice>> CudaDriver::devices() const {
  int count = 0;
  if (Result r = api->deviceGetCount(&count))
    return llvm::createStringError("cuDeviceGetCount: " + errorName(*api, r));
  std::vector<CudaDevice> out;
  for (int i = 0; i < count; ++i) {
    Device dev = 0;
    CudaDevice d;
    d.ordinal = i;
    char name[256] = {};
    Result r = api->deviceGet(&dev, i);
    if (!r)
      r = api->deviceGetName(name, sizeof name - 1, dev);
    if (!r)
      r = api->deviceGetAttribute(&d.major, kAttrComputeMajor, dev);
    if (!r)
      r = api->deviceGetAttribute(&d.minor, kAttrComputeMinor, dev);
    if (!r)
      r = api->deviceGetAttribute(&d.multiprocessors, kAttrMultiprocessors,
                                  dev);
    if (!r)
      r = api->deviceTotalMem(&d.memoryBytes, dev);
    if (r)
      return llvm::createStringError(
          llvm::formatv("device {0}: {1}", i, errorName(*api, r)));
    d.name = name;
    out.push_back(std::move(d));
  }
  return out;
}

namespace {
llvm::Error check(const CudaDriver::Api &api, Result r, const char *what) {
  if (r == 0)
    return llvm::Error::success();
  return llvm::createStringError(llvm::Twine(what) + ": " + errorName(api, r));
}
} // namespace

llvm::Error CudaDriver::useDevice(int ordinal) const {
  Device dev = 0;
  if (llvm::Error err =
          check(*api, api->deviceGet(&dev, ordinal), "cuDeviceGet"))
    return err;
  void *ctx = nullptr;
  if (llvm::Error err = check(*api, api->primaryCtxRetain(&ctx, dev),
                              "cuDevicePrimaryCtxRetain"))
    return err;
  return check(*api, api->ctxSetCurrent(ctx), "cuCtxSetCurrent");
}

llvm::Expected<void *> CudaDriver::loadModule(llvm::StringRef ptx) const {
  const std::string text = ptx.str(); // NUL-terminated, as the driver reads
  void *module = nullptr;
  if (llvm::Error err = check(*api, api->moduleLoadData(&module, text.c_str()),
                              "cuModuleLoadData"))
    return std::move(err);
  return module;
}

llvm::Expected<void *> CudaDriver::function(void *module,
                                            llvm::StringRef name) const {
  void *fn = nullptr;
  const std::string n = name.str();
  if (llvm::Error err =
          check(*api, api->moduleGetFunction(&fn, module, n.c_str()),
                ("cuModuleGetFunction " + n).c_str()))
    return std::move(err);
  return fn;
}

llvm::Expected<CudaDriver::DevicePtr> CudaDriver::allocate(size_t bytes) const {
  DevicePtr p = 0;
  if (llvm::Error err = check(*api, api->memAlloc(&p, bytes), "cuMemAlloc"))
    return std::move(err);
  return p;
}

void CudaDriver::release(DevicePtr p) const {
  if (p)
    api->memFree(p);
}

llvm::Error CudaDriver::copyToDevice(DevicePtr dst, const void *src,
                                     size_t bytes) const {
  return check(*api, api->memcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
}

llvm::Error CudaDriver::copyToHost(void *dst, DevicePtr src,
                                   size_t bytes) const {
  return check(*api, api->memcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
}

llvm::Error CudaDriver::launch(void *fn, unsigned blocks, unsigned threads,
                               void **params) const {
  return check(*api,
               api->launchKernel(fn, blocks, 1, 1, threads, 1, 1, 0, nullptr,
                                 params, nullptr),
               "cuLaunchKernel");
}

llvm::Error CudaDriver::synchronize() const {
  return check(*api, api->ctxSynchronize(), "cuCtxSynchronize");
}

} // namespace qn::runtime::cuda

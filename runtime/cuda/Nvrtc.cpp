//===- Nvrtc.cpp - NVRTC, loaded at run time -----------------------------===//
//
// The few entry points qn uses, declared here with NVRTC's C signatures
// (nvrtc.h is not needed to build).
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/Nvrtc.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

namespace qn::runtime::cuda {

namespace {
using Program = struct NvrtcProgram *;
using Result = int; // nvrtcResult; 0 is NVRTC_SUCCESS
} // namespace

struct Nvrtc::Api {
  Result (*version)(int *, int *);
  Result (*createProgram)(Program *, const char *, const char *, int,
                          const char *const *, const char *const *);
  Result (*compileProgram)(Program, int, const char *const *);
  Result (*getPTXSize)(Program, size_t *);
  Result (*getPTX)(Program, char *);
  Result (*getProgramLogSize)(Program, size_t *);
  Result (*getProgramLog)(Program, char *);
  Result (*destroyProgram)(Program *);
  const char *(*getErrorString)(Result);
};

namespace {

llvm::Expected<Nvrtc> open() {
  std::vector<std::string> names;
  if (const char *env = std::getenv("QN_NVRTC"); env && *env)
    names.push_back(env);
  for (const char *n : {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
                        "/usr/local/cuda/lib64/libnvrtc.so"})
    names.push_back(n);
  void *lib = nullptr;
  std::string tried;
  for (const std::string &n : names) {
    lib = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib)
      break;
    const char *why = dlerror();
    tried += "\n  " + n + ": " + (why ? why : "not found");
  }
  if (!lib)
    return llvm::createStringError("NVRTC is not installed (CUDA toolkit); "
                                   "tried:" +
                                   tried);
  static Nvrtc::Api api;
  auto sym = [&](const char *name, auto &fn) -> bool {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(lib, name));
    return fn != nullptr;
  };
  const bool ok = sym("nvrtcVersion", api.version) &&
                  sym("nvrtcCreateProgram", api.createProgram) &&
                  sym("nvrtcCompileProgram", api.compileProgram) &&
                  sym("nvrtcGetPTXSize", api.getPTXSize) &&
                  sym("nvrtcGetPTX", api.getPTX) &&
                  sym("nvrtcGetProgramLogSize", api.getProgramLogSize) &&
                  sym("nvrtcGetProgramLog", api.getProgramLog) &&
                  sym("nvrtcDestroyProgram", api.destroyProgram) &&
                  sym("nvrtcGetErrorString", api.getErrorString);
  if (!ok)
    return llvm::createStringError("the NVRTC library found lacks an entry "
                                   "point qn needs (too old?)");
  Nvrtc n;
  n.api = &api;
  if (api.version(&n.major, &n.minor) != 0)
    return llvm::createStringError("nvrtcVersion failed");
  return n;
}

} // namespace

llvm::Expected<const Nvrtc *> Nvrtc::load() {
  // Opened once; a failure is remembered and reported to every caller.
  static std::once_flag once;
  static std::optional<Nvrtc> loaded;
  static std::string failure;
  std::call_once(once, [] {
    llvm::Expected<Nvrtc> n = open();
    if (n)
      loaded = *n;
    else
      failure = llvm::toString(n.takeError());
  });
  if (!loaded)
    return llvm::createStringError(failure);
  return &*loaded;
}

llvm::Expected<std::string>
Nvrtc::compileToPtx(llvm::StringRef source, llvm::StringRef programName,
                    llvm::StringRef arch,
                    llvm::ArrayRef<std::string> options) const {
  const std::string src = source.str(), name = programName.str();
  Program prog = nullptr;
  if (Result r = api->createProgram(&prog, src.c_str(), name.c_str(), 0,
                                    nullptr, nullptr))
    return llvm::createStringError(llvm::formatv("{0}: nvrtcCreateProgram: {1}",
                                                 name, api->getErrorString(r)));
  std::vector<std::string> all = {"--gpu-architecture=" + arch.str()};
  all.insert(all.end(), options.begin(), options.end());
  std::vector<const char *> argv;
  for (const std::string &o : all)
    argv.push_back(o.c_str());
  const Result compiled =
      api->compileProgram(prog, static_cast<int>(argv.size()), argv.data());
  std::string log;
  size_t logSize = 0;
  if (api->getProgramLogSize(prog, &logSize) == 0 && logSize > 1) {
    log.resize(logSize);
    api->getProgramLog(prog, log.data());
    log.resize(logSize - 1);
  }
  std::string ptx;
  size_t ptxSize = 0;
  if (compiled == 0 && api->getPTXSize(prog, &ptxSize) == 0 && ptxSize > 0) {
    ptx.resize(ptxSize);
    api->getPTX(prog, ptx.data());
    ptx.resize(ptxSize - 1);
  }
  api->destroyProgram(&prog);
  if (compiled != 0)
    return llvm::createStringError(
        llvm::formatv("{0}: NVRTC failed ({1}):\n{2}", name,
                      api->getErrorString(compiled), log));
  return ptx;
}

} // namespace qn::runtime::cuda

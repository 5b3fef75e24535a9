//===- qn-exec.cpp - the runtime-only executable --------------------------===//
//
//   qn-exec devices [--json]
//   qn-exec nvrtc FILE.cu [--arch compute_90] [-o FILE.ptx]
//   qn-exec cuda-check DIR [--tolerance 1e-5] [--json]
//
// What runs where MLIR and LLVM are not installed (a GPU server): it links
// LLVM Support statically, and opens the CUDA driver and NVRTC with dlopen,
// so the same binary starts, and says what is missing, on a machine
// without them. `devices` lists the CUDA devices; `nvrtc` compiles CUDA
// C++ (e.g. `qn-run ir --emit cuda`) for the first device's architecture,
// or --arch, and reports the kernels. `cuda-check` runs the kernels of a
// check bundle (`qn-run ir --emit cuda --check-bundle DIR`, written where
// the compiler is) on the first GPU and compares each with the CPU
// kernel's answer. Running a compiled model artifact is the next step
// (issue 12).
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/Nvrtc.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

using namespace llvm;
namespace qc = qn::runtime::cuda;

namespace {

cl::OptionCategory execCat("qn-exec options");
cl::SubCommand devicesCmd("devices", "list the CUDA devices");
cl::SubCommand nvrtcCmd("nvrtc", "compile CUDA C++ with NVRTC");
cl::opt<bool> asJson("json", cl::desc("print JSON on stdout"),
                     cl::sub(devicesCmd), cl::cat(execCat));
cl::opt<std::string> source(cl::Positional, cl::desc("<file.cu>"), cl::Required,
                            cl::sub(nvrtcCmd), cl::cat(execCat));
cl::opt<std::string> arch("arch",
                          cl::desc("virtual architecture (default: the "
                                   "first device's, else compute_90)"),
                          cl::sub(nvrtcCmd), cl::cat(execCat));
cl::opt<std::string> ptxOut("o", cl::desc("write the PTX here"),
                            cl::value_desc("file"), cl::sub(nvrtcCmd),
                            cl::cat(execCat));

cl::SubCommand checkCmd("cuda-check",
                        "run a check bundle's kernels on the GPU and compare "
                        "them with the CPU kernels");
cl::opt<std::string> bundleDir(cl::Positional, cl::desc("<bundle dir>"),
                               cl::Required, cl::sub(checkCmd),
                               cl::cat(execCat));
cl::opt<double> tolerance("tolerance",
                          cl::desc("largest |gpu - cpu| / max(1, |cpu|)"),
                          cl::init(1e-5), cl::sub(checkCmd), cl::cat(execCat));
cl::opt<bool> checkJson("json", cl::desc("print JSON on stdout"),
                        cl::sub(checkCmd), cl::cat(execCat));

int fail(const Twine &message) {
  errs() << "qn-exec: " << message << "\n";
  return 1;
}

int listDevices() {
  auto driver = qc::CudaDriver::load();
  if (!driver) {
    const std::string why = toString(driver.takeError());
    if (asJson)
      outs() << formatv("{0:2}\n",
                        json::Value(json::Object{{"driver", nullptr},
                                                 {"error", why},
                                                 {"devices", json::Array()}}));
    return fail(why);
  }
  auto devices = (*driver)->devices();
  if (!devices)
    return fail(toString(devices.takeError()));
  if (asJson) {
    json::Array list;
    for (const qc::CudaDevice &d : *devices)
      list.push_back(json::Object{
          {"ordinal", d.ordinal},
          {"name", d.name},
          {"compute_capability", formatv("{0}.{1}", d.major, d.minor).str()},
          {"memory_bytes", static_cast<int64_t>(d.memoryBytes)},
          {"multiprocessors", d.multiprocessors}});
    outs() << formatv("{0:2}\n",
                      json::Value(json::Object{{"driver", (*driver)->version},
                                               {"devices", std::move(list)}}));
    return 0;
  }
  outs() << formatv("CUDA driver {0}: {1} device(s)\n", (*driver)->version,
                    devices->size());
  for (const qc::CudaDevice &d : *devices)
    outs() << formatv("  {0}: {1}, compute {2}.{3}, {4} SMs, {5:f1} GiB\n",
                      d.ordinal, d.name, d.major, d.minor, d.multiprocessors,
                      d.memoryBytes / double(1ull << 30));
  return 0;
}

int compileSource() {
  auto buffer = MemoryBuffer::getFile(source, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read '" + source + "': " + buffer.getError().message());
  std::string target = arch;
  if (target.empty()) {
    target = "compute_90";
    if (auto driver = qc::CudaDriver::load()) {
      if (auto devices = (*driver)->devices(); devices && !devices->empty())
        target = devices->front().virtualArch();
      else if (!devices)
        consumeError(devices.takeError());
    } else {
      consumeError(driver.takeError());
    }
  }
  auto nvrtc = qc::Nvrtc::load();
  if (!nvrtc)
    return fail(toString(nvrtc.takeError()));
  auto start = std::chrono::steady_clock::now();
  auto ptx = (*nvrtc)->compileToPtx((*buffer)->getBuffer(), source, target,
                                    {"--fmad=false"});
  if (!ptx)
    return fail(toString(ptx.takeError()));
  size_t entries = 0;
  for (size_t at = ptx->find(".entry"); at != std::string::npos;
       at = ptx->find(".entry", at + 1))
    ++entries;
  errs() << formatv(
      "qn-exec: NVRTC {0}.{1} compiled {2} kernels for {3} in "
      "{4:f3} s\n",
      (*nvrtc)->major, (*nvrtc)->minor, entries, target,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  if (!ptxOut.empty()) {
    std::error_code ec;
    raw_fd_ostream os(ptxOut, ec);
    if (ec)
      return fail("cannot write '" + ptxOut + "': " + ec.message());
    os << *ptx;
    os.close();
    if (os.has_error()) {
      std::string why = os.error().message();
      os.clear_error();
      return fail("cannot write '" + ptxOut + "': " + why);
    }
  }
  return 0;
}

/// A bundle file of `elements` floats.
Expected<std::vector<float>> readFloats(StringRef file, int64_t elements) {
  SmallString<256> path(bundleDir);
  sys::path::append(path, file);
  auto buf = MemoryBuffer::getFile(path);
  if (!buf)
    return createStringError(buf.getError(), "cannot read '%s': %s",
                             path.c_str(), buf.getError().message().c_str());
  if (elements < 0 ||
      (*buf)->getBufferSize() != static_cast<size_t>(elements) * 4)
    return createStringError(inconvertibleErrorCode(),
                             "'%s' holds %zu bytes, expected %lld floats",
                             path.c_str(), (*buf)->getBufferSize(),
                             static_cast<long long>(elements));
  std::vector<float> v(static_cast<size_t>(elements));
  std::memcpy(v.data(), (*buf)->getBufferStart(), v.size() * 4);
  return v;
}

/// One case on the device: its largest relative error.
Expected<double> runCase(const qc::CudaDriver &cu, void *module,
                         const json::Object &c) {
  auto text = [&](const json::Object &o, StringRef key) -> Expected<StringRef> {
    if (auto s = o.getString(key))
      return *s;
    return createStringError(inconvertibleErrorCode(),
                             "cases.json: a case has no string '%s'",
                             key.str().c_str());
  };
  auto number = [&](const json::Object &o, StringRef key) -> Expected<int64_t> {
    if (auto n = o.getInteger(key))
      return *n;
    return createStringError(inconvertibleErrorCode(),
                             "cases.json: a case has no integer '%s'",
                             key.str().c_str());
  };
  auto kernel = text(c, "kernel");
  if (!kernel)
    return kernel.takeError();
  auto n0 = number(c, "n0");
  if (!n0)
    return n0.takeError();
  const json::Array *inputs = c.getArray("inputs");
  const json::Object *expected = c.getObject("expected");
  if (!inputs || !expected)
    return createStringError(inconvertibleErrorCode(),
                             "cases.json: case '%s' lacks inputs or expected",
                             kernel->str().c_str());
  auto fn = cu.function(module, *kernel);
  if (!fn)
    return fn.takeError();

  // Every argument's device memory, released on every path.
  std::vector<qc::CudaDriver::DevicePtr> device;
  auto freeAll = [&] {
    for (auto p : device)
      cu.release(p);
  };
  llvm::scope_exit<decltype(freeAll)> releaseAll(freeAll);
  for (const json::Value &v : *inputs) {
    const json::Object *in = v.getAsObject();
    if (!in)
      return createStringError(inconvertibleErrorCode(),
                               "cases.json: an input is not an object");
    auto file = text(*in, "file");
    auto count = number(*in, "elements");
    if (!file || !count)
      return file ? count.takeError() : file.takeError();
    auto host = readFloats(*file, *count);
    if (!host)
      return host.takeError();
    auto p = cu.allocate(host->size() * 4);
    if (!p)
      return p.takeError();
    device.push_back(*p);
    if (Error err = cu.copyToDevice(*p, host->data(), host->size() * 4))
      return std::move(err);
  }
  auto wantFile = text(*expected, "file");
  auto wantCount = number(*expected, "elements");
  if (!wantFile || !wantCount)
    return wantFile ? wantCount.takeError() : wantFile.takeError();
  auto want = readFloats(*wantFile, *wantCount);
  if (!want)
    return want.takeError();
  auto out = cu.allocate(want->size() * 4);
  if (!out)
    return out.takeError();
  device.push_back(*out);

  long long rows = *n0;
  std::vector<void *> params{&rows};
  for (auto &p : device)
    params.push_back(&p);
  const unsigned threads = 256;
  const unsigned blocks = static_cast<unsigned>(
      std::min<size_t>((want->size() + threads - 1) / threads, 65535));
  if (Error err = cu.launch(*fn, std::max(blocks, 1u), threads, params.data()))
    return std::move(err);
  if (Error err = cu.synchronize())
    return std::move(err);
  std::vector<float> got(want->size());
  if (Error err = cu.copyToHost(got.data(), *out, got.size() * 4))
    return std::move(err);
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = (*want)[i], g = got[i];
    const double e = std::fabs(g - w) / std::max(1.0, std::fabs(w));
    worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  }
  return worst;
}

int checkBundleOnDevice() {
  SmallString<256> manifestPath(bundleDir);
  sys::path::append(manifestPath, "cases.json");
  auto manifestBuf = MemoryBuffer::getFile(manifestPath, /*IsText=*/true);
  if (!manifestBuf)
    return fail("cannot read '" + manifestPath +
                "': " + manifestBuf.getError().message());
  auto manifest = json::parse((*manifestBuf)->getBuffer());
  if (!manifest)
    return fail(manifestPath +
                " is not valid JSON: " + toString(manifest.takeError()));
  const json::Object *root = manifest->getAsObject();
  const json::Array *cases = root ? root->getArray("cases") : nullptr;
  auto sourceName = root ? root->getString("source") : std::nullopt;
  if (!cases || !sourceName)
    return fail(manifestPath +
                ": expected {\"source\": ..., \"cases\": [...]}");
  SmallString<256> sourcePath(bundleDir);
  sys::path::append(sourcePath, *sourceName);
  auto source = MemoryBuffer::getFile(sourcePath, /*IsText=*/true);
  if (!source)
    return fail("cannot read '" + sourcePath +
                "': " + source.getError().message());

  auto driver = qc::CudaDriver::load();
  if (!driver)
    return fail(toString(driver.takeError()));
  auto devices = (*driver)->devices();
  if (!devices)
    return fail(toString(devices.takeError()));
  if (devices->empty())
    return fail("the CUDA driver sees no device");
  const qc::CudaDevice &device = devices->front();
  auto nvrtc = qc::Nvrtc::load();
  if (!nvrtc)
    return fail(toString(nvrtc.takeError()));
  auto ptx = (*nvrtc)->compileToPtx((*source)->getBuffer(), sourcePath,
                                    device.virtualArch(), {"--fmad=false"});
  if (!ptx)
    return fail(toString(ptx.takeError()));
  if (Error err = (*driver)->useDevice(device.ordinal))
    return fail(toString(std::move(err)));
  auto module = (*driver)->loadModule(*ptx);
  if (!module)
    return fail(toString(module.takeError()));

  json::Array results;
  size_t failed = 0;
  for (const json::Value &v : *cases) {
    const json::Object *c = v.getAsObject();
    if (!c)
      return fail(manifestPath + ": a case is not an object");
    std::string kernel = c->getString("kernel").value_or("?").str();
    auto worst = runCase(**driver, *module, *c);
    if (!worst)
      return fail(kernel + ": " + toString(worst.takeError()));
    const bool ok = *worst <= tolerance;
    failed += !ok;
    results.push_back(json::Object{
        {"kernel", kernel}, {"max_rel_error", *worst}, {"pass", ok}});
    if (!checkJson)
      outs() << formatv("{0} {1}: max rel error {2:e}\n", ok ? "PASS" : "FAIL",
                        kernel, *worst);
  }
  if (checkJson)
    outs() << formatv(
        "{0:2}\n", json::Value(json::Object{
                       {"device", device.name},
                       {"arch", device.virtualArch()},
                       {"tolerance", tolerance.getValue()},
                       {"cases", std::move(results)},
                       {"passed", static_cast<int64_t>(cases->size() - failed)},
                       {"failed", static_cast<int64_t>(failed)}}));
  else
    outs() << formatv("{0} passed, {1} failed on {2} ({3})\n",
                      cases->size() - failed, failed, device.name,
                      device.virtualArch());
  return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(execCat);
  cl::ParseCommandLineOptions(argc, argv,
                              "qn-exec: the runtime-only qn executable\n");
  if (devicesCmd)
    return listDevices();
  if (nvrtcCmd)
    return compileSource();
  if (checkCmd)
    return checkBundleOnDevice();
  errs() << "qn-exec: a command is needed: devices, nvrtc or cuda-check "
            "(see --help)\n";
  return 2;
}

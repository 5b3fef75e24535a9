//===- qn-exec.cpp - the runtime-only executable --------------------------===//
//
//   qn-exec devices [--json]
//   qn-exec nvrtc FILE.cu [--arch compute_90] [-o FILE.ptx]
//
// What runs where MLIR and LLVM are not installed (a GPU server): it links
// LLVM Support statically, and opens the CUDA driver and NVRTC with dlopen,
// so the same binary starts, and says what is missing, on a machine
// without them. `devices` lists the CUDA devices; `nvrtc` compiles CUDA
// C++ (e.g. `qn-run ir --emit cuda`) for the first device's architecture,
// or --arch, and reports the kernels. Running a compiled model artifact is
// the next step (issue 12).
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/Nvrtc.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

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

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(execCat);
  cl::ParseCommandLineOptions(argc, argv,
                              "qn-exec: the runtime-only qn executable\n");
  if (devicesCmd)
    return listDevices();
  if (nvrtcCmd)
    return compileSource();
  errs() << "qn-exec: a command is needed: devices or nvrtc (see "
            "--help)\n";
  return 2;
}

//===- CudaCheckBundle.cpp - CPU answers for the CUDA kernels ------------===//

#include "codegen/cuda/CudaCheckBundle.h"

#include "codegen/CpuJit.h"
#include "codegen/ElementwiseChains.h"
#include "codegen/ElementwiseKernel.h"
#include "codegen/cuda/CudaElementwise.h"
#include "dialect/QNOps.h"
#include "runtime/cpu/KernelCall.h"
#include "support/OutputFile.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <random>

using namespace mlir;

namespace qn::codegen::cuda {

namespace {

/// `type`'s shape with a dynamic dimension as `rows`.
std::vector<int64_t> concreteShape(Type type, int64_t rows) {
  std::vector<int64_t> shape;
  for (int64_t d : llvm::cast<RankedTensorType>(type).getShape())
    shape.push_back(ShapedType::isDynamic(d) ? rows : d);
  return shape;
}

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

llvm::Error writeFloats(llvm::StringRef path, const std::vector<float> &v) {
  return support::writeFileAtomically(path, {}, [&](llvm::raw_ostream &os) {
    os.write(reinterpret_cast<const char *>(v.data()),
             sizeof(float) * v.size());
    return llvm::Error::success();
  });
}

} // namespace

llvm::Error writeCudaCheckBundle(ModuleOp model, llvm::StringRef dir,
                                 int64_t rows, unsigned seed) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError("cannot create '" + dir +
                                   "': " + ec.message());
  auto in = [&](const llvm::Twine &name) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  };

  llvm::Expected<std::string> source = emitCudaKernels(model);
  if (!source)
    return source.takeError();
  if (llvm::Error err = support::writeFileAtomically(
          in("kernels.cu"), {}, [&](llvm::raw_ostream &os) {
            os << *source;
            return llvm::Error::success();
          }))
    return err;

  // The CPU kernels of the same dispatches, JIT-compiled.
  MLIRContext *ctx = model.getContext();
  loadKernelDialects(*ctx);
  OwningOpRef<ModuleOp> kernels(ModuleOp::create(UnknownLoc::get(ctx)));
  if (auto names = emitDispatchKernels(model, *kernels); !names)
    return names.takeError();
  auto jit = CpuJit::compile(*kernels);
  if (!jit)
    return jit.takeError();

  llvm::json::Array cases;
  llvm::StringSet<> done;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-3.0f, 3.0f);
  llvm::Error err = llvm::Error::success();
  model.walk([&](DispatchElementwiseOp d) {
    if (err || !done.insert(d.getKernel()).second)
      return;
    const std::string kernel = d.getKernel().str();
    const std::string name = cudaKernelName(kernel);
    auto cpu = (*jit)->lookupKernel(kernel);
    if (!cpu) {
      err = cpu.takeError();
      return;
    }
    std::vector<std::vector<float>> data;
    std::vector<runtime::cpu::KernelArray> arrays;
    llvm::json::Array inputs;
    for (auto [i, v] : llvm::enumerate(d->getOperands())) {
      std::vector<int64_t> shape = concreteShape(v.getType(), rows);
      std::vector<float> &x = data.emplace_back(elements(shape));
      for (float &f : x) {
        f = dist(rng);
        if (f == 0.0f)
          f = 0.5f; // no zeros
      }
      const std::string file = llvm::formatv("{0}.in{1}.f32", name, i).str();
      if ((err = writeFloats(in(file), x)))
        return;
      inputs.push_back(llvm::json::Object{
          {"file", file}, {"elements", static_cast<int64_t>(x.size())}});
      arrays.push_back({nullptr, std::move(shape)});
    }
    std::vector<int64_t> outShape =
        concreteShape(d->getResult(0).getType(), rows);
    std::vector<float> &out = data.emplace_back(elements(outShape), 0.0f);
    arrays.push_back({nullptr, outShape});
    for (size_t i = 0; i < arrays.size(); ++i)
      arrays[i].data = data[i].data();
    runtime::cpu::callGeneratedKernel(*cpu, arrays);
    const std::string expected = name + ".expected.f32";
    if ((err = writeFloats(in(expected), out)))
      return;
    cases.push_back(llvm::json::Object{
        {"kernel", name},
        {"n0", outShape.empty() ? int64_t{1} : outShape[0]},
        {"inputs", std::move(inputs)},
        {"expected",
         llvm::json::Object{{"file", expected},
                            {"elements", static_cast<int64_t>(out.size())}}}});
  });
  if (err)
    return err;
  llvm::json::Value manifest =
      llvm::json::Object{{"source", "kernels.cu"}, {"cases", std::move(cases)}};
  return support::writeFileAtomically(
      in("cases.json"), {}, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}\n", manifest);
        return llvm::Error::success();
      });
}

} // namespace qn::codegen::cuda

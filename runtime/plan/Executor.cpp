//===- Executor.cpp - runs a compiled Program on its backends ------------===//

#include "runtime/plan/Executor.h"

#include "runtime/cpu/CpuBackend.h"
#include "runtime/plan/Bindings.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cstring>

namespace qn::runtime::plan {

size_t elementBytes(ElementType type) {
  return type == ElementType::F16 ? 2 : 4;
}

std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    const llvm::StringRef symbol = symbolicSizeName(shape[i]);
    s += symbol.empty() ? std::to_string(shape[i]) : symbol.str();
  }
  return s + "]";
}

llvm::Error Bindings::valueError(int32_t id, const llvm::Twine &what) const {
  return llvm::createStringError(
      llvm::formatv("plan '{0}': value #{1} '{2}': ", program.entry, id,
                    program.values[id].name) +
      what);
}

llvm::Error Bindings::dispatchError(size_t index,
                                    const llvm::Twine &what) const {
  const Dispatch &d = program.dispatches[index];
  return llvm::createStringError(
      llvm::formatv("plan '{0}': dispatch #{1} '{2}' ({3}): ", program.entry,
                    index, d.name, dispatchKindName(d.kind)) +
      what);
}

namespace {

/// The logits value: F32 [R or T x n_vocab] scratch.
llvm::Error checkLogits(const Bindings &b) {
  const Program &p = b.program;
  const int32_t n = static_cast<int32_t>(p.values.size());
  if (p.logits < 0 || p.logits >= n)
    return llvm::createStringError(llvm::formatv(
        "plan '{0}': logits value #{1} does not exist", p.entry, p.logits));
  const Value &v = b.value(p.logits);
  const int64_t V = b.model.hparams().nVocab;
  const bool rows =
      !v.shape.empty() && (v.shape[0] == kOutputRows || v.shape[0] == kTokens ||
                           (p.singleToken && v.shape[0] == 1));
  if (v.type != ElementType::F32 || v.shape.size() != 2 || !rows ||
      v.shape[1] != V)
    return b.valueError(p.logits,
                        llvm::formatv("logits {0} {1}, expected f32 [R, {2}] "
                                      "or [T, {2}]",
                                      elementTypeName(v.type),
                                      shapeString(v.shape), V));
  const Bound &bound = b.values[p.logits];
  if (b.value(bound.root).kind != ValueKind::Scratch || !bound.contiguous)
    return b.valueError(p.logits, "logits are not contiguous scratch");
  if (bound.home != Backend::Cpu)
    return b.valueError(p.logits, "logits in " + backendName(bound.home) +
                                      " memory (a transfer must bring them "
                                      "to the cpu)");
  if (v.shape[0] == kOutputRows && llvm::none_of(p.values, [](const Value &x) {
        return x.kind == ValueKind::OutputRows;
      }))
    return b.valueError(p.logits, "logits over the output rows, but the plan "
                                  "has no output_rows input");
  return llvm::Error::success();
}

void dumpResult(const Bindings &b, const Dispatch &d, const Dumper &dump) {
  const int32_t r = d.results[0];
  if (b.value(r).type != ElementType::F32 || b.elements(r) == 0)
    return;
  // A piece of a larger value (a concat's part): the whole value, under its
  // name; after the last piece it is complete.
  if (b.value(r).kind == ValueKind::View) {
    const int32_t root = b.values[r].root;
    dump(b.value(root).name, b.f32(root), b.elements(root));
    return;
  }
  dump(d.name, b.f32(r), b.elements(r));
}

} // namespace

void runTransfer(Bindings &b, size_t index) {
  const Dispatch &d = b.program.dispatches[index];
  const Backend from = d.get<TransferParams>().from;
  const int32_t src = d.operands[0], dst = d.results[0];
  // The device side knows how to reach host memory, not the other way.
  DispatchBackend &side = from == Backend::Cpu
                              ? b.backendOf(d)
                              : *b.backends[static_cast<size_t>(from)];
  side.transfer(b.values[dst].data, d.backend, b.values[src].data, from,
                static_cast<size_t>(b.elements(src)) *
                    elementBytes(b.value(src).type));
}

Executor::Executor(Backends backends, std::unique_ptr<Bindings> b)
    : backends(std::move(backends)), b(std::move(b)) {}

Executor::~Executor() = default;

const Program &Executor::program() const { return b->program; }

int64_t Executor::maxTokens() const { return b->maxTokens; }

llvm::Expected<std::unique_ptr<Executor>>
Executor::create(const Model &model, const Program &program, int64_t maxTokens,
                 KVType kvType, int64_t nCtx, unsigned nThreads) {
  Backends backends;
  backends.push_back(std::make_unique<cpu::CpuBackend>());
  return create(model, program, maxTokens, kvType, nCtx, nThreads,
                std::move(backends));
}

llvm::Expected<std::unique_ptr<Executor>>
Executor::create(const Model &model, const Program &program, int64_t maxTokens,
                 KVType kvType, int64_t nCtx, unsigned nThreads,
                 Backends backends) {
  if (maxTokens < 1 || nCtx < 1)
    return llvm::createStringError(
        llvm::formatv("plan '{0}': ubatch of {1} tokens, context of {2} "
                      "(both must be > 0)",
                      program.entry, maxTokens, nCtx));
  auto b = std::make_unique<Bindings>(model, program);
  b->maxTokens = program.singleToken ? 1 : maxTokens;
  b->nCtx = nCtx;
  b->kvType = kvType;
  b->nThreads = std::max(nThreads, 1u);
  for (const std::unique_ptr<DispatchBackend> &backend : backends) {
    DispatchBackend *&slot = b->backends[static_cast<size_t>(backend->kind())];
    if (slot)
      return llvm::createStringError(
          llvm::formatv("plan '{0}': two {1} backends", program.entry,
                        backendName(backend->kind())));
    slot = backend.get();
  }
  if (!b->backends[static_cast<size_t>(Backend::Cpu)])
    return llvm::createStringError(
        llvm::formatv("plan '{0}': no cpu backend (inputs, states and logits "
                      "live in host memory)",
                      program.entry));
  if (llvm::Error err = assignResidence(*b))
    return std::move(err);
  if (llvm::Error err = bindValues(*b))
    return std::move(err);
  if (llvm::Error err = checkDispatches(*b))
    return std::move(err);
  if (llvm::Error err = checkLogits(*b))
    return std::move(err);
  return std::unique_ptr<Executor>(
      new Executor(std::move(backends), std::move(b)));
}

void Executor::run(llvm::ArrayRef<int32_t> tokens,
                   llvm::ArrayRef<int32_t> positions,
                   llvm::ArrayRef<SeqGroup> groups,
                   llvm::ArrayRef<int32_t> outputRows, float *logits,
                   ThreadPool *pool, const Dumper &dump) {
  Bindings &b = *this->b;
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t R = static_cast<int64_t>(outputRows.size());
  if (T < 1 || T > b.maxTokens || positions.size() != tokens.size() || R > T ||
      groups.empty())
    llvm::reportFatalUsageError(llvm::Twine(
        llvm::formatv("plan '{0}': a ubatch of {1} tokens, {2} positions, "
                      "{3} output rows, {4} groups (at most {5} tokens)",
                      b.program.entry, T, positions.size(), R, groups.size(),
                      b.maxTokens)
            .str()));
  std::copy(tokens.begin(), tokens.end(), b.tokens.begin());
  std::copy(positions.begin(), positions.end(), b.positions.begin());
  std::copy(outputRows.begin(), outputRows.end(), b.outputRows.begin());
  b.T = T;
  b.R = R;

  for (size_t i = 0; i < b.program.dispatches.size(); ++i) {
    const Dispatch &d = b.program.dispatches[i];
    if (!d.runsFor(T))
      continue; // the other branch of a choice on the token count
    if (b.elements(d.results[0]) != 0) { // e.g. no row wants logits
      if (d.kind == DispatchKind::Transfer)
        runTransfer(b, i);
      else
        b.backendOf(d).run(b, i, groups, pool, dump);
    }
    if (dump.enabled())
      dumpResult(b, d, dump);
  }

  // The rows that want logits: all rows of an [R x V] result, or picked
  // from a [T x V] one.
  const Value &lv = b.value(b.program.logits);
  const int64_t V = lv.shape[1];
  const float *src = b.f32(b.program.logits);
  if (lv.shape[0] == kOutputRows) {
    std::memcpy(logits, src, sizeof(float) * R * V);
    return;
  }
  for (int64_t i = 0; i < R; ++i)
    std::memcpy(logits + i * V, src + static_cast<int64_t>(outputRows[i]) * V,
                sizeof(float) * V);
}

} // namespace qn::runtime::plan

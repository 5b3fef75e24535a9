//===- Residence.cpp - which backend's memory each value lives in --------===//
//
// A scratch value lives where the dispatch that writes it runs; the run's
// inputs and the sequence states live in host (CPU) memory; weights are
// bound by each backend that reads them. Every other dispatch reads and
// writes only its own backend's memory: what crosses backends goes through
// a Transfer, so the copies that run are the ones the compiler planned.
// A scratch slot holds values of one backend only (the compiler's buffer
// assignment never mixes them).
//
//===----------------------------------------------------------------------===//

#include "runtime/plan/Bindings.h"

#include "llvm/Support/FormatVariadic.h"

#include <optional>

namespace qn::runtime::plan {

namespace {

/// The value owning `id`'s memory (following views), or nullopt when an id
/// is out of range or the views loop (bindValues and Check report those).
std::optional<int32_t> storageOf(const Program &p, int32_t id) {
  const int32_t n = static_cast<int32_t>(p.values.size());
  for (int32_t steps = 0; steps <= n; ++steps) {
    if (id < 0 || id >= n)
      return std::nullopt;
    if (p.values[id].kind != ValueKind::View)
      return id;
    id = p.values[id].base;
  }
  return std::nullopt;
}

} // namespace

llvm::Error assignResidence(Bindings &b) {
  const Program &p = b.program;
  const int32_t n = static_cast<int32_t>(p.values.size());
  b.values.assign(static_cast<size_t>(n), Bound());
  // Where each value's memory is, once known; -1: not yet.
  std::vector<int> home(static_cast<size_t>(n), -1);
  std::vector<int32_t> writer(static_cast<size_t>(n), -1);
  for (int32_t id = 0; id < n; ++id) {
    const ValueKind k = p.values[id].kind;
    if (k == ValueKind::Tokens || k == ValueKind::Positions ||
        k == ValueKind::OutputRows || k == ValueKind::State)
      home[id] = static_cast<int>(Backend::Cpu);
  }
  auto where = [&](int h) {
    return backendName(static_cast<Backend>(h)).str() + " memory";
  };

  for (size_t i = 0; i < p.dispatches.size(); ++i) {
    const Dispatch &d = p.dispatches[i];
    if (static_cast<size_t>(d.backend) >= kNumBackends)
      return b.dispatchError(
          i, llvm::formatv("unknown backend {0}", static_cast<int>(d.backend)));
    if (!b.backends[static_cast<size_t>(d.backend)])
      return b.dispatchError(i, "runs on " + backendName(d.backend) +
                                    ", and this executor has " + "no " +
                                    backendName(d.backend) + " backend");
    const int mine = static_cast<int>(d.backend);
    int source = mine;
    if (d.kind == DispatchKind::Transfer &&
        std::holds_alternative<TransferParams>(d.params)) {
      const Backend from = d.get<TransferParams>().from;
      if (static_cast<size_t>(from) >= kNumBackends || from == d.backend)
        return b.dispatchError(
            i, llvm::formatv("a transfer from backend {0} to {1}; they must "
                             "differ",
                             static_cast<int>(from), backendName(d.backend)));
      if (!b.backends[static_cast<size_t>(from)])
        return b.dispatchError(i, "transfers from " + backendName(from) +
                                      ", and this executor has no " +
                                      backendName(from) + " backend");
      source = static_cast<int>(from);
    }
    // Results first: a dispatch may update a value it reads (in place).
    for (int32_t r : d.results) {
      std::optional<int32_t> s = storageOf(p, r);
      if (!s || p.values[*s].kind == ValueKind::Weight)
        continue; // Check reports it
      if (home[*s] < 0) {
        home[*s] = mine;
        writer[*s] = static_cast<int32_t>(i);
      } else if (home[*s] != mine) {
        std::string by =
            writer[*s] >= 0
                ? llvm::formatv(" (written by dispatch #{0})", writer[*s]).str()
                : std::string();
        return b.dispatchError(i, "writes '" + p.values[r].name +
                                      "', which lives in " + where(home[*s]) +
                                      by);
      }
    }
    for (int32_t o : d.operands) {
      std::optional<int32_t> s = storageOf(p, o);
      if (!s || p.values[*s].kind == ValueKind::Weight || home[*s] < 0)
        continue; // weights are bound per use; unwritten scratch: Check
      const int want = d.kind == DispatchKind::Transfer ? source : mine;
      if (home[*s] != want)
        return b.dispatchError(
            i, "on " + backendName(d.backend) + " reads '" + p.values[o].name +
                   "', which lives in " + where(home[*s]) +
                   (d.kind == DispatchKind::Transfer
                        ? std::string(" (not where the transfer is from)")
                        : std::string("; a transfer must bring it over")));
    }
  }

  b.slotHome.assign(static_cast<size_t>(std::max(p.numSlots, 0)), Backend::Cpu);
  std::vector<int32_t> slotValue(b.slotHome.size(), -1);
  for (int32_t id = 0; id < n; ++id) {
    Bound &bound = b.values[id];
    if (std::optional<int32_t> s = storageOf(p, id); s && home[*s] >= 0)
      bound.home = static_cast<Backend>(home[*s]);
    const Value &v = p.values[id];
    if (v.kind != ValueKind::Scratch || v.slot < 0 ||
        v.slot >= static_cast<int32_t>(b.slotHome.size()))
      continue; // bindValues reports a bad slot
    int32_t &first = slotValue[v.slot];
    if (first < 0) {
      first = id;
      b.slotHome[v.slot] = bound.home;
    } else if (b.slotHome[v.slot] != bound.home) {
      return b.valueError(
          id, llvm::formatv("in {0}, shares scratch slot {1} with '{2}' in "
                            "{3}",
                            where(static_cast<int>(bound.home)), v.slot,
                            p.values[first].name,
                            where(static_cast<int>(b.slotHome[v.slot]))));
    }
  }
  return llvm::Error::success();
}

} // namespace qn::runtime::plan

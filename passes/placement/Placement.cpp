//===- Placement.cpp - where weights live and what backends support -------===//
#include "passes/placement/Placement.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>

using namespace llvm;

namespace qn::placement {

Error SupportTable::parseUnsupported(StringRef spec) {
  auto [backend, kind] = spec.split(':');
  std::optional<Backend> b = parseBackend(backend);
  if (!b || kind.empty())
    return createStringError(
        inconvertibleErrorCode(),
        formatv("bad support-table entry '{0}': expected BACKEND:KIND with "
                "BACKEND cpu or cuda",
                spec));
  markUnsupported(*b, kind);
  return Error::success();
}

Error SupportTable::addJSON(StringRef text, StringRef source) {
  auto fail = [&](const Twine &what) {
    return createStringError(inconvertibleErrorCode(),
                             "support table " + source + ": " + what);
  };
  Expected<json::Value> v = json::parse(text);
  if (!v)
    return fail(toString(v.takeError()));
  const json::Object *top = v->getAsObject();
  if (!top)
    return fail("expected an object keyed by backend");
  for (const auto &[key, entry] : *top) {
    std::optional<Backend> b = parseBackend(key);
    if (!b)
      return fail("unknown backend '" + key.str() + "' (cpu or cuda)");
    const json::Object *lists = entry.getAsObject();
    if (!lists)
      return fail("'" + key.str() + "' must be an object");
    for (const auto &[field, list] : *lists) {
      if (field != "supported" && field != "unsupported")
        return fail("unknown field '" + field.str() + "' under '" + key.str() +
                    "' (supported or unsupported)");
      const json::Array *kinds = list.getAsArray();
      if (!kinds)
        return fail("'" + key.str() + "." + field.str() +
                    "' must be an array of op kinds");
      if (field == "supported" && !only[unsigned(*b)])
        only[unsigned(*b)].emplace();
      for (const json::Value &k : *kinds) {
        std::optional<StringRef> kind = k.getAsString();
        if (!kind || kind->empty())
          return fail("'" + key.str() + "." + field.str() +
                      "' holds a non-string or empty entry");
        if (field == "supported")
          only[unsigned(*b)]->insert(*kind);
        else
          markUnsupported(*b, *kind);
      }
    }
  }
  return Error::success();
}

Expected<OverrideRule> parseOverrideRule(StringRef spec) {
  size_t eq = spec.rfind('=');
  if (eq == StringRef::npos || eq == 0)
    return createStringError(
        inconvertibleErrorCode(),
        formatv("bad override '{0}': expected REGEX=cpu|cuda", spec));
  std::optional<Backend> b = parseBackend(spec.substr(eq + 1));
  if (!b)
    return createStringError(
        inconvertibleErrorCode(),
        formatv("bad override '{0}': backend '{1}' is not cpu or cuda", spec,
                spec.substr(eq + 1)));
  std::string pattern = spec.substr(0, eq).str();
  std::string why;
  if (!Regex(pattern).isValid(why))
    return createStringError(
        inconvertibleErrorCode(),
        formatv("bad override '{0}': invalid regex: {1}", spec, why));
  return OverrideRule{pattern, *b};
}

Expected<WeightPlacement>
WeightPlacement::create(const PlacementOptions &opts) {
  WeightPlacement wp;
  wp.device = opts.device;
  for (const OverrideRule &r : opts.overrides) {
    Regex re(r.pattern);
    std::string why;
    if (!re.isValid(why))
      return createStringError(
          inconvertibleErrorCode(),
          formatv("invalid override regex '{0}': {1}", r.pattern, why));
    wp.rules.emplace_back(std::move(re), r.backend);
  }
  // llama.cpp's --n-cpu-moe appends one rule per layer (common/arg.cpp,
  // llm_ffn_exps_block_regex).
  for (unsigned l = 0; l < opts.nCpuMoe; ++l)
    wp.rules.emplace_back(
        Regex(formatv("^blk\\.{0}\\.ffn_(up|down|gate|gate_up)_exps", l).str()),
        Backend::CPU);
  return wp;
}

Backend WeightPlacement::weightBackend(StringRef name) const {
  for (const auto &[re, backend] : rules)
    if (re.match(name))
      return backend;
  // llama.cpp keeps the token embedding on the host: get_rows of a few rows
  // is cheap there and the table is large.
  if (name == "token_embd.weight")
    return Backend::CPU;
  return device;
}

Expected<Constraints> resolveConstraints(const Graph &g,
                                         const PlacementOptions &opts) {
  Expected<WeightPlacement> wp = WeightPlacement::create(opts);
  if (!wp)
    return wp.takeError();
  Constraints c;
  c.allowed.assign(g.size(), kAllBackends);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    // A result of a multi-result op is not an op of its own: it goes where
    // its op goes (its kind is not looked up in the support table).
    if (n.sameAs) {
      c.allowed[id] = c.allowed[*n.sameAs];
      continue;
    }
    BackendMask supported = 0;
    for (unsigned b = 0; b < kNumBackends; ++b)
      if (opts.support.supports(Backend(b), n.kind))
        supported |= maskOf(Backend(b));
    if (supported == 0)
      return createStringError(
          inconvertibleErrorCode(),
          formatv("cannot place op '{0}': no backend supports '{1}'", n.name,
                  n.kind));
    if (n.pin) {
      if (!(supported & maskOf(*n.pin)))
        return createStringError(
            inconvertibleErrorCode(),
            formatv("cannot place op '{0}': it is pinned to {1}, which does "
                    "not support '{2}'",
                    n.name, backendName(*n.pin), n.kind));
      c.allowed[id] = maskOf(*n.pin);
      continue;
    }
    if (n.weights.empty() && n.state.empty()) {
      c.allowed[id] = supported;
      continue;
    }
    // Resident bytes per backend decide where the node runs.
    struct Placed {
      const Resident *r;
      Backend at;
      unsigned count;
    };
    std::vector<Placed> residents;
    uint64_t bytesOn[kNumBackends] = {0, 0};
    for (const Resident &w : n.weights)
      residents.push_back({&w, wp->weightBackend(w.name), 1});
    for (const Resident &st : n.state)
      residents.push_back({&st, wp->stateBackend(), 2});
    for (const Placed &p : residents)
      bytesOn[unsigned(p.at)] += p.r->bytes;
    Backend other = opts.device == Backend::CPU ? Backend::CUDA : Backend::CPU;
    Backend at = bytesOn[unsigned(other)] > bytesOn[unsigned(opts.device)]
                     ? other
                     : opts.device;
    // With sizes unknown (0), the first resident decides.
    if (bytesOn[0] == 0 && bytesOn[1] == 0)
      at = residents.front().at;
    if (!(supported & maskOf(at)))
      at = at == Backend::CPU ? Backend::CUDA : Backend::CPU;
    c.allowed[id] = maskOf(at);
    for (const Placed &p : residents)
      if (p.at != at)
        c.copies.push_back({id, p.r->name, p.r->bytes, p.at, p.count});
  }
  return c;
}

Expected<std::vector<BackendMask>>
resolveAllowed(const Graph &g, const PlacementOptions &opts) {
  Expected<Constraints> c = resolveConstraints(g, opts);
  if (!c)
    return c.takeError();
  return std::move(c->allowed);
}

Cost evaluate(const Graph &g, const Assignment &a) {
  Cost c;
  std::vector<std::vector<NodeId>> users = g.consumers();
  for (NodeId v = 0; v < g.size(); ++v) {
    BackendMask foreign = 0;
    for (NodeId u : users[v])
      if (a[u] != a[v])
        foreign |= maskOf(a[u]);
    for (unsigned b = 0; b < kNumBackends; ++b)
      if (foreign & maskOf(Backend(b))) {
        ++c.transfers;
        c.bytes += g[v].outBytes;
      }
  }
  return c;
}

unsigned countRunsInOrder(const Assignment &a) {
  unsigned runs = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (i == 0 || a[i] != a[i - 1])
      ++runs;
  return runs;
}

unsigned countRunsScheduled(const Graph &g, const Assignment &a) {
  std::vector<std::vector<NodeId>> users = g.consumers();
  std::vector<unsigned> pending(g.size(), 0);
  for (NodeId id = 0; id < g.size(); ++id) {
    std::vector<NodeId> ins = g[id].inputs;
    std::sort(ins.begin(), ins.end());
    pending[id] = unsigned(std::unique(ins.begin(), ins.end()) - ins.begin());
  }
  // One ready list per backend; lowest id first keeps graph order otherwise.
  std::array<std::vector<NodeId>, kNumBackends> ready;
  for (NodeId id = g.size(); id-- > 0;)
    if (pending[id] == 0)
      ready[unsigned(a[id])].push_back(id);
  auto popMin = [](std::vector<NodeId> &r) {
    auto it = std::min_element(r.begin(), r.end());
    NodeId id = *it;
    r.erase(it);
    return id;
  };
  unsigned runs = 0;
  std::optional<unsigned> cur;
  for (size_t done = 0; done < g.size(); ++done) {
    if (!cur || ready[*cur].empty()) {
      // Switch to the backend holding the oldest ready node.
      std::optional<unsigned> best;
      for (unsigned b = 0; b < kNumBackends; ++b)
        if (!ready[b].empty() &&
            (!best ||
             *std::min_element(ready[b].begin(), ready[b].end()) <
                 *std::min_element(ready[*best].begin(), ready[*best].end())))
          best = b;
      cur = best;
      ++runs;
    }
    NodeId id = popMin(ready[*cur]);
    for (NodeId u : users[id])
      if (--pending[u] == 0)
        ready[unsigned(a[u])].push_back(u);
  }
  return runs;
}

bool isFeasible(const Graph &g, const Assignment &a,
                const std::vector<BackendMask> &allowed) {
  if (a.size() != allowed.size() || a.size() != g.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(allowed[i] & maskOf(a[i])))
      return false;
    if (g[i].sameAs && a[*g[i].sameAs] != a[i])
      return false;
  }
  return true;
}

} // namespace qn::placement

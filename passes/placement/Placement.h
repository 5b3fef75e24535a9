//===- Placement.h - where weights live and what backends support -*- C++
//-*-===//
//
// The input of backend assignment (device, --n-cpu-moe, --override-tensor,
// per-backend support table), the constraints it puts on each node, and the
// cost of an assignment.
//
// Definition (docs/placement.md): a *transfer* is one copy of one produced
// value to one backend other than its producer's that has at least one
// consumer of it. A value read by three CUDA ops from a CPU producer is one
// transfer, not three. The number of splits of an assignment is its number
// of transfers; its bytes are the sum of the copied values' sizes.
//
//===----------------------------------------------------------------------===//
#ifndef QN_PASSES_PLACEMENT_PLACEMENT_H
#define QN_PASSES_PLACEMENT_PLACEMENT_H

#include "passes/placement/Graph.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Regex.h"

#include <array>
#include <optional>

namespace qn::placement {

/// Which op kinds each backend can run. Data, not code: a backend runs a
/// kind unless the kind is in its `unsupported` set or the backend has an
/// `only` list without it. Both empty: it runs everything.
struct SupportTable {
  std::array<llvm::StringSet<>, kNumBackends> unsupported;
  std::array<std::optional<llvm::StringSet<>>, kNumBackends> only;

  bool supports(Backend b, llvm::StringRef kind) const {
    const auto &o = only[unsigned(b)];
    return !unsupported[unsigned(b)].contains(kind) &&
           (!o || o->contains(kind));
  }
  void markUnsupported(Backend b, llvm::StringRef kind) {
    unsupported[unsigned(b)].insert(kind);
  }
  /// Parses "cuda:delta_net" (a backend, a colon, an op kind).
  llvm::Error parseUnsupported(llvm::StringRef spec);
  /// Adds the entries of a JSON table:
  ///   {"cuda": {"supported": ["mul_mat", ...], "unsupported": ["..."]},
  ///    "cpu": {...}}
  /// "supported" makes the list exhaustive for that backend. Errors name
  /// `source` and the offending part.
  llvm::Error addJSON(llvm::StringRef json, llvm::StringRef source);
};

/// One `--override-tensor REGEX=BACKEND` rule (like llama.cpp's `-ot`): a
/// weight whose name contains a match of the POSIX extended regex lives on
/// BACKEND. The first matching rule wins.
struct OverrideRule {
  std::string pattern;
  Backend backend = Backend::CPU;
};

llvm::Expected<OverrideRule> parseOverrideRule(llvm::StringRef spec);

struct PlacementOptions {
  /// Where weights and resident state live unless a rule says otherwise.
  Backend device = Backend::CPU;
  /// Expert weights (blk.N.ffn_{gate,up,down,gate_up}_exps) of layers
  /// N < nCpuMoe stay on the CPU (llama.cpp --n-cpu-moe). Applied after the
  /// explicit override rules, as llama.cpp appends them.
  unsigned nCpuMoe = 0;
  std::vector<OverrideRule> overrides;
  SupportTable support;
};

/// Resolves where each weight lives.
class WeightPlacement {
public:
  static llvm::Expected<WeightPlacement> create(const PlacementOptions &opts);
  Backend weightBackend(llvm::StringRef weightName) const;
  Backend stateBackend() const { return device; }

private:
  Backend device = Backend::CPU;
  /// Explicit rules first, then the --n-cpu-moe ones; first match wins.
  std::vector<std::pair<llvm::Regex, Backend>> rules;
};

/// A resident tensor a node reads from the other backend's memory: a fixed
/// cost of the placement (the node's backend does not depend on the
/// assignment), reported beside the splits. State a node updates in place is
/// copied there and back (count 2).
struct ResidentCopy {
  NodeId node;
  std::string name;
  uint64_t bytes = 0;
  Backend from = Backend::CPU;
  unsigned count = 1;
};

struct Constraints {
  /// The backends each node may run on.
  std::vector<BackendMask> allowed;
  std::vector<ResidentCopy> copies;
};

/// The backends each node may run on. A node must run on a backend that
/// supports its kind. A node with a pin runs there. A node with resident
/// tensors (weights, state) runs on the supporting backend holding most of
/// their bytes (ties: the device); the residents it reads from elsewhere are
/// copies (weights never decide against the support table: that is what
/// ggml does too, copying the weight). Other nodes are free. No supporting
/// backend, or a pin on an unsupporting one, is an error naming the node.
llvm::Expected<Constraints> resolveConstraints(const Graph &g,
                                               const PlacementOptions &opts);

/// Just the allowed sets of resolveConstraints().
llvm::Expected<std::vector<BackendMask>>
resolveAllowed(const Graph &g, const PlacementOptions &opts);

using Assignment = std::vector<Backend>;

struct Cost {
  uint64_t transfers = 0;
  uint64_t bytes = 0;
  bool operator==(const Cost &o) const {
    return transfers == o.transfers && bytes == o.bytes;
  }
  /// Fewer transfers first, then fewer bytes.
  bool operator<(const Cost &o) const {
    return transfers != o.transfers ? transfers < o.transfers : bytes < o.bytes;
  }
  bool operator<=(const Cost &o) const { return !(o < *this); }
};

/// Transfers and bytes of an assignment (see the definition above).
Cost evaluate(const Graph &g, const Assignment &a);

/// Number of ggml-style splits (maximal runs of consecutive nodes on one
/// backend) when the nodes run in graph order.
unsigned countRunsInOrder(const Assignment &a);

/// Number of runs of a topological order chosen to keep the current backend
/// as long as possible (Kahn's algorithm preferring the current backend).
unsigned countRunsScheduled(const Graph &g, const Assignment &a);

/// Whether `a` gives every node a backend in its allowed set and every tied
/// node (Node::sameAs) its op's backend.
bool isFeasible(const Graph &g, const Assignment &a,
                const std::vector<BackendMask> &allowed);

} // namespace qn::placement

#endif // QN_PASSES_PLACEMENT_PLACEMENT_H

//===- Graph.h - dataflow graph for backend placement -----------*- C++ -*-===//
//
// The placement problem works on a plain dataflow graph, independent of MLIR:
// the `qn-run plan` command builds one from hyper-parameters, the
// qn-assign-backends pass builds one from IR. Every node produces one value
// (its output, `outBytes` bytes) that its consumers read.
//
//===----------------------------------------------------------------------===//
#ifndef QN_PASSES_PLACEMENT_GRAPH_H
#define QN_PASSES_PLACEMENT_GRAPH_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qn::placement {

/// The backends placement chooses between. CPU is the host (graph inputs and
/// outputs live there); CUDA is the accelerator. Exactly two, because the
/// exact algorithm (s-t minimum cut) is exact for two.
enum class Backend : uint8_t { CPU = 0, CUDA = 1 };
constexpr unsigned kNumBackends = 2;

llvm::StringRef backendName(Backend b);
std::optional<Backend> parseBackend(llvm::StringRef name);

/// A set of backends as a bit mask (bit i = Backend i).
using BackendMask = uint8_t;
constexpr BackendMask kAllBackends = 0b11;
constexpr BackendMask maskOf(Backend b) {
  return BackendMask(1u << unsigned(b));
}

using NodeId = uint32_t;

/// A tensor that lives in a backend's memory for the whole run: a weight
/// (GGUF name) or resident state (KV cache, recurrent state).
struct Resident {
  Resident(std::string name, uint64_t bytes = 0)
      : name(std::move(name)), bytes(bytes) {}
  Resident(const char *name, uint64_t bytes = 0) : name(name), bytes(bytes) {}
  std::string name;
  /// Size in memory; decides where a node with several residents runs.
  uint64_t bytes = 0;
};

struct Node {
  /// Operation kind, looked up in the support table (e.g. "mul_mat").
  std::string kind;
  /// Unique, human-readable name used in diagnostics (e.g. "blk.3.attn_q").
  std::string name;
  /// Size of the node's output value: what a transfer of it copies.
  uint64_t outBytes = 0;
  /// Producers of the values this node reads.
  std::vector<NodeId> inputs;
  /// Weights (GGUF tensor names) this node reads. The node runs where most
  /// of its resident bytes live (see resolveConstraints).
  std::vector<Resident> weights;
  /// Resident state (KV cache, recurrent state) this node reads and writes
  /// in place. It lives on the placement's device.
  std::vector<Resident> state;
  /// A fixed backend regardless of weights (graph inputs and outputs: host).
  std::optional<Backend> pin;
  /// Must run where this node runs: one result of a multi-result op is a
  /// node of its own (its consumers and bytes are its own), tied to the op.
  std::optional<NodeId> sameAs;
};

/// A DAG in topological order: inputs of a node are always earlier nodes.
class Graph {
public:
  /// Appends a node; `inputs` must name existing nodes.
  NodeId add(llvm::StringRef kind, llvm::StringRef name, uint64_t outBytes,
             llvm::ArrayRef<NodeId> inputs,
             llvm::ArrayRef<Resident> weights = {},
             llvm::ArrayRef<Resident> state = {});
  /// Appends the node for result `name` of the multi-result op `op`: it
  /// reads `op` and always runs on the same backend.
  NodeId addResultOf(NodeId op, llvm::StringRef name, uint64_t outBytes);
  /// Appends a node pinned to `backend` (graph inputs, outputs).
  NodeId addPinned(llvm::StringRef kind, llvm::StringRef name,
                   uint64_t outBytes, llvm::ArrayRef<NodeId> inputs,
                   Backend backend);

  size_t size() const { return nodes.size(); }
  const Node &operator[](NodeId id) const { return nodes[id]; }
  Node &operator[](NodeId id) { return nodes[id]; }
  const std::vector<Node> &all() const { return nodes; }

  /// consumers()[v] lists every node reading v's output (each at most once).
  std::vector<std::vector<NodeId>> consumers() const;

private:
  std::vector<Node> nodes;
};

} // namespace qn::placement

#endif // QN_PASSES_PLACEMENT_GRAPH_H

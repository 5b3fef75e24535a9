//===- Graph.cpp - dataflow graph for backend placement -------------------===//
#include "passes/placement/Graph.h"

#include <algorithm>
#include <cassert>

using namespace llvm;

namespace qn::placement {

StringRef backendName(Backend b) { return b == Backend::CPU ? "cpu" : "cuda"; }

std::optional<Backend> parseBackend(StringRef name) {
  if (name.equals_insensitive("cpu"))
    return Backend::CPU;
  if (name.equals_insensitive("cuda"))
    return Backend::CUDA;
  return std::nullopt;
}

NodeId Graph::add(StringRef kind, StringRef name, uint64_t outBytes,
                  ArrayRef<NodeId> inputs, ArrayRef<Resident> weights,
                  ArrayRef<Resident> state) {
  NodeId id = NodeId(nodes.size());
  Node n;
  n.kind = kind.str();
  n.name = name.str();
  n.outBytes = outBytes;
  for (NodeId in : inputs) {
    assert(in < id && "graph must be built in topological order");
    n.inputs.push_back(in);
  }
  n.weights.assign(weights.begin(), weights.end());
  n.state.assign(state.begin(), state.end());
  nodes.push_back(std::move(n));
  return id;
}

NodeId Graph::addPinned(StringRef kind, StringRef name, uint64_t outBytes,
                        ArrayRef<NodeId> inputs, Backend backend) {
  NodeId id = add(kind, name, outBytes, inputs);
  nodes[id].pin = backend;
  return id;
}

NodeId Graph::addResultOf(NodeId op, StringRef name, uint64_t outBytes) {
  NodeId id = add("result", name, outBytes, {op});
  nodes[id].sameAs = op;
  return id;
}

std::vector<std::vector<NodeId>> Graph::consumers() const {
  std::vector<std::vector<NodeId>> users(nodes.size());
  for (NodeId id = 0; id < nodes.size(); ++id)
    for (NodeId in : nodes[id].inputs)
      if (users[in].empty() || users[in].back() != id)
        users[in].push_back(id);
  // A node listing the same input twice appears once.
  for (auto &u : users)
    u.erase(std::unique(u.begin(), u.end()), u.end());
  return users;
}

} // namespace qn::placement

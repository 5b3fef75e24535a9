//===- ProgramPrinter.cpp - readable listing of a runtime plan ------------===//

#include "codegen/ProgramPrinter.h"

#include "llvm/Support/Format.h"

namespace qn::codegen {

namespace plan = qn::runtime::plan;

namespace {

void printDim(llvm::raw_ostream &os, int64_t d) {
  const llvm::StringRef symbol = plan::symbolicSizeName(d);
  if (symbol.empty())
    os << d;
  else
    os << symbol;
}

void printShape(llvm::raw_ostream &os, const plan::Value &v) {
  os << plan::elementTypeName(v.type) << '[';
  for (size_t i = 0; i < v.shape.size(); ++i) {
    if (i)
      os << 'x';
    printDim(os, v.shape[i]);
  }
  os << ']';
}

void printIds(llvm::raw_ostream &os, const std::vector<int32_t> &ids) {
  os << '(';
  for (size_t i = 0; i < ids.size(); ++i)
    os << (i ? ", %" : "%") << ids[i];
  os << ')';
}

void printValue(llvm::raw_ostream &os, int32_t id, const plan::Value &v) {
  os << "  %" << id << ' ';
  switch (v.kind) {
  case plan::ValueKind::Tokens:
  case plan::ValueKind::Positions:
  case plan::ValueKind::OutputRows:
    os << "input";
    break;
  case plan::ValueKind::Weight:
    os << "weight";
    break;
  case plan::ValueKind::State:
    os << "state";
    break;
  case plan::ValueKind::Scratch:
    os << "scratch";
    break;
  case plan::ValueKind::View:
    os << "view";
    break;
  }
  os << ' ' << v.name << ' ';
  printShape(os, v);
  if (v.kind == plan::ValueKind::Weight)
    os << ' ' << gguf::getTypeName(v.format) << ':'
       << plan::weightLayoutName(v.layout);
  if (v.kind == plan::ValueKind::State)
    os << ' ' << plan::stateKindName(v.state) << " layer " << v.layer;
  if (v.kind == plan::ValueKind::Scratch)
    os << " slot " << v.slot;
  if (v.kind == plan::ValueKind::View) {
    os << " of %" << v.base << " offset " << v.offset << " strides [";
    for (size_t i = 0; i < v.strides.size(); ++i)
      os << (i ? ", " : "") << v.strides[i];
    os << ']';
  }
  os << '\n';
}

void printAttributes(llvm::raw_ostream &os, const plan::Dispatch &d) {
  switch (d.kind) {
  case plan::DispatchKind::Matmul:
    if (d.operands.size() == 3)
      os << " residual=%" << d.operands[2];
    os << " activations="
       << runtime::getMatmulActivationsName(
              d.get<plan::MatmulParams>().activations);
    break;
  case plan::DispatchKind::RmsNorm:
  case plan::DispatchKind::L2Norm:
    os << llvm::format(" eps=%g", d.get<plan::NormParams>().epsilon);
    break;
  case plan::DispatchKind::GatedDeltaNet: {
    const auto &p = d.get<plan::DeltaNetParams>();
    os << " impl=" << runtime::deltaImplName(p.impl);
    if (p.recurrentBelow > 0)
      os << " recurrent-below=" << p.recurrentBelow;
    if (p.stateClamp != 0)
      os << llvm::format(" clamp=%g", p.stateClamp);
    if (p.tiled)
      os << " heads=tile";
    break;
  }
  case plan::DispatchKind::GatedAttention: {
    const auto &p = d.get<plan::AttentionParams>();
    os << " impl=" << plan::attentionImplName(p.impl) << " heads=" << p.numHeads
       << " kv_heads=" << p.numKvHeads << " head_dim=" << p.headDim
       << " rope_dims=" << p.ropeDims
       << llvm::format(" rope_base=%g eps=%g", p.ropeBase, p.epsilon);
    if (const auto &s = p.ropeSections)
      os << " rope_sections=" << (*s)[0] << "," << (*s)[1] << "," << (*s)[2]
         << "," << (*s)[3];
    break;
  }
  case plan::DispatchKind::MoE: {
    const auto &p = d.get<plan::MoEParams>();
    os << " top_k=" << p.topK << (p.sharedExpert ? " shared" : "")
       << " activations=" << runtime::getMatmulActivationsName(p.activations);
    break;
  }

  case plan::DispatchKind::Transfer:
    os << " from=" << plan::backendName(d.get<plan::TransferParams>().from);
    break;
  case plan::DispatchKind::Elementwise:
  case plan::DispatchKind::Loop: {
    const auto &p = d.get<plan::KernelParams>();
    os << " kernel=" << p.kernelName << (p.kernel ? "" : " (not compiled)");
    break;
  }
  default:
    break;
  }
}

} // namespace

void printProgram(llvm::raw_ostream &os, const plan::Program &program) {
  os << "program @" << program.entry << ": " << program.values.size()
     << " values, " << program.dispatches.size() << " dispatches, "
     << program.numSlots << " scratch slots, "
     << (program.singleToken ? "single token" : "dynamic token count")
     << ", logits %" << program.logits;
  if (program.logits >= 0 &&
      program.logits < static_cast<int32_t>(program.values.size())) {
    os << ' ';
    printShape(os, program.values[program.logits]);
  }
  os << "\nvalues:\n";
  for (size_t i = 0; i < program.values.size(); ++i)
    printValue(os, static_cast<int32_t>(i), program.values[i]);
  os << "dispatches:\n";
  for (size_t i = 0; i < program.dispatches.size(); ++i) {
    const plan::Dispatch &d = program.dispatches[i];
    os << "  " << i << ' ' << plan::dispatchKindName(d.kind) << ' ' << d.name
       << ' ';
    if (d.backend != plan::Backend::Cpu)
      os << "on " << plan::backendName(d.backend) << ' ';
    printIds(os, d.operands);
    os << " -> ";
    printIds(os, d.results);
    printAttributes(os, d);
    if (d.tokensFrom > 0)
      os << " if T>=" << d.tokensFrom;
    if (d.tokensBelow > 0)
      os << " if T<" << d.tokensBelow;
    os << '\n';
  }
}

} // namespace qn::codegen

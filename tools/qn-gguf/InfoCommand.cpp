//===- InfoCommand.cpp - `qn-gguf info` -----------------------------------===//
//
//   qn-gguf info FILE [--json] [--max-array N] [--no-tensors] [--single-file]
//
// Prints the header, every metadata key with its type and value (arrays
// shortened to N elements) and the tensor table. With --json the same as one
// JSON object on stdout; arrays become {"type", "size", "values"}. A file
// that is a runnable model also gets its model line (`model` in JSON): the
// architecture, main and MTP block counts, the linear layers' v-head order
// and the rope (NEOX, or IMRoPE with its sections).
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/GGUFFile.h"
#include "gguf/Qwen3Next.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>
#include <vector>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand infoCmd("info", "print a GGUF file's metadata and tensors");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<file.gguf>"),
                               cl::Required, cl::sub(infoCmd));
cl::opt<bool> asJson("json", cl::desc("print JSON on stdout"),
                     cl::sub(infoCmd));
cl::opt<unsigned> maxArray("max-array",
                           cl::desc("array elements to show (default 8)"),
                           cl::init(8), cl::sub(infoCmd));
cl::opt<bool> noTensors("no-tensors", cl::desc("omit the tensor table"),
                        cl::sub(infoCmd));
cl::opt<bool> singleFile("single-file",
                         cl::desc("read only this file, even if it is one "
                                  "part of a split model"),
                         cl::sub(infoCmd));

json::Value toJson(const Value &v) {
  switch (v.type()) {
  case ValueType::String:
    // json::Value needs valid UTF-8; token strings nearly always are.
    if (json::isUTF8(*v.asString()))
      return v.asString()->str();
    return json::fixUTF8(*v.asString());
  case ValueType::Bool:
    return *v.asBool();
  case ValueType::Float32:
  case ValueType::Float64: {
    double f = *v.asFloat();
    if (std::isfinite(f))
      return f;
    return std::isnan(f) ? "nan" : (f > 0 ? "inf" : "-inf");
  }
  case ValueType::Array: {
    json::Array values;
    for (size_t i = 0; i < v.arraySize() && i < maxArray; ++i)
      values.push_back(toJson(v.array()[i]));
    return json::Object{{"type", getValueTypeName(v.arrayElementType()).str()},
                        {"size", static_cast<int64_t>(v.arraySize())},
                        {"values", std::move(values)}};
  }
  default:
    if (std::optional<int64_t> i = v.asInt())
      return *i;
    return static_cast<double>(*v.asUInt()); // above INT64_MAX
  }
}

/// What the model description makes of the file; nullopt when it is not
/// a model qn runs (a vocabulary-only file, another arch): info still
/// prints the raw contents of those.
std::optional<json::Object> modelSummary(const GGUFFile &file) {
  auto model = describeQwen3Next(file);
  if (!model) {
    consumeError(model.takeError());
    return std::nullopt;
  }
  const Qwen3NextHParams &hp = model->hp;
  json::Object o{{"arch", getArchName(hp.arch).str()},
                 {"main_blocks", hp.nLayer},
                 {"mtp_blocks", hp.nMtp},
                 {"v_head_order",
                  hp.vHeadOrder == VHeadOrder::Tiled ? "tiled" : "grouped"},
                 {"ffn", hp.denseFFN() ? "dense" : "moe"}};
  if (hp.hasRopeSections) {
    json::Array s;
    for (int64_t x : hp.ropeSections)
      s.push_back(x);
    o["rope"] = "imrope";
    o["rope_sections"] = std::move(s);
  } else {
    o["rope"] = "neox";
  }
  return o;
}

void printModelLine(raw_ostream &os, const json::Object &m) {
  os << "model: arch " << *m.getString("arch") << ", "
     << *m.getInteger("main_blocks") << " main blocks + "
     << *m.getInteger("mtp_blocks") << " MTP, v heads "
     << *m.getString("v_head_order")
     << (*m.getString("v_head_order") == "tiled" ? " (h mod Hk)"
                                                 : " (h / (Hv/Hk))")
     << ", ffn " << *m.getString("ffn") << ", rope " << *m.getString("rope");
  if (const json::Array *s = m.getArray("rope_sections")) {
    os << " sections";
    for (size_t i = 0; i < s->size(); ++i)
      os << (i ? "," : " ") << *(*s)[i].getAsInteger();
  }
  os << "\n";
}

/// How many tensors of each type a file holds, in type id order.
struct TypeCount {
  GGMLType type;
  int64_t tensors;
};

static std::vector<TypeCount> countTypes(const GGUFFile &file) {
  std::map<uint32_t, int64_t> counts;
  for (const TensorInfo &t : file.tensors())
    ++counts[static_cast<uint32_t>(t.type)];
  std::vector<TypeCount> out;
  for (const auto &c : counts)
    out.push_back({static_cast<GGMLType>(c.first), c.second});
  return out;
}

/// One line per type: name, id, family, bits per weight, tensor count (the
/// reader refuses unknown ids, so every type here has a table entry).
static void printTypes(raw_ostream &os, const GGUFFile &file) {
  std::vector<TypeCount> counts = countTypes(file);
  if (counts.empty())
    return;
  os << "types: " << counts.size() << "\n";
  for (const TypeCount &c : counts) {
    const GGMLTypeInfo &info = *getTypeInfo(c.type);
    os << "  " << left_justify(info.name, 10) << " id "
       << left_justify(std::to_string(static_cast<uint32_t>(c.type)), 4)
       << left_justify(getFamilyName(info.family), 16) << " "
       << formatv("{0:F4}", bitsPerWeight(c.type)) << " bpw, " << c.tensors
       << (c.tensors == 1 ? " tensor" : " tensors");
    if (info.rowMetaBytes > 0)
      os << ", " << info.rowMetaBytes << "-byte row scale";
    if (info.rowsPerGroup > 1)
      os << ", rows interleaved by " << info.rowsPerGroup;
    os << "\n";
  }
}

int runInfo() {
  auto fileOr = singleFile ? GGUFFile::openSingleFile(inputPath)
                           : GGUFFile::open(inputPath);
  if (!fileOr)
    return qn::gguftool::reportError("info", fileOr.takeError());
  const GGUFFile &file = **fileOr;

  if (asJson) {
    json::Object metadata;
    for (const auto &kv : file.metadata())
      metadata[kv.first] = toJson(kv.second);
    json::Array tensors;
    if (!noTensors)
      for (const TensorInfo &t : file.tensors()) {
        json::Array ne;
        for (int64_t d : t.ne)
          ne.push_back(d);
        tensors.push_back(json::Object{{"name", t.name},
                                       {"type", getTypeName(t.type).str()},
                                       {"type_id", int64_t(t.type)},
                                       {"ne", std::move(ne)},
                                       {"offset", int64_t(t.offset)},
                                       {"part", int64_t(t.shard)},
                                       {"nbytes", int64_t(t.nbytes)}});
      }
    json::Object root{{"file", inputPath.getValue()},
                      {"version", int64_t(file.version())},
                      {"alignment", int64_t(file.alignment())},
                      {"data_offset", int64_t(file.dataOffset())},
                      {"size", int64_t(file.fileSize())},
                      {"n_tensors", int64_t(file.tensors().size())},
                      {"metadata", std::move(metadata)}};
    if (!noTensors)
      root["tensors"] = std::move(tensors);
    json::Array types;
    for (const TypeCount &c : countTypes(file)) {
      const GGMLTypeInfo &info = *getTypeInfo(c.type);
      types.push_back(json::Object{{"type", info.name.str()},
                                   {"id", int64_t(c.type)},
                                   {"family", getFamilyName(info.family).str()},
                                   {"bits_per_weight", bitsPerWeight(c.type)},
                                   {"tensors", c.tensors}});
    }
    root["types"] = std::move(types);
    if (std::optional<json::Object> m = modelSummary(file))
      root["model"] = std::move(*m);
    outs() << formatv("{0:2}", json::Value(std::move(root))) << "\n";
    return 0;
  }

  raw_ostream &os = outs();
  os << "file: " << inputPath << "\n";
  os << "version: " << file.version() << ", alignment: " << file.alignment()
     << ", data offset: " << file.dataOffset() << ", size: " << file.fileSize()
     << " bytes\n";
  os << "metadata: " << file.metadata().size() << " keys\n";
  for (const auto &kv : file.metadata())
    os << "  " << kv.first << " (" << getValueTypeName(kv.second.type())
       << ") = " << kv.second.toString(maxArray) << "\n";
  os << "tensors: " << file.tensors().size();
  if (file.shardCount() > 1)
    os << " in " << file.shardCount() << " files";
  os << "\n";
  std::optional<json::Object> model = modelSummary(file);
  if (noTensors) {
    printTypes(os, file);
    if (model)
      printModelLine(os, *model);
    return 0;
  }
  for (const TensorInfo &t : file.tensors()) {
    os << "  " << left_justify(t.name, 34) << " "
       << left_justify(getTypeName(t.type), 7) << " "
       << left_justify(t.shapeString(), 20) << " offset " << t.offset << ", "
       << t.nbytes << " bytes";
    if (file.shardCount() > 1)
      os << ", part " << t.shard + 1;
    os << "\n";
  }
  printTypes(os, file);
  if (model)
    printModelLine(os, *model);
  return 0;
}

qn::gguftool::CommandRegistration reg(&infoCmd, runInfo);
} // namespace

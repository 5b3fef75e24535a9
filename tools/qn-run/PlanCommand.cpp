//===- PlanCommand.cpp - `qn-run plan`: backend assignment report ---------===//
//
//   qn-run plan (-m MODEL.gguf | --config 80b-a3b) [--layers N]
//               [--device cpu|cuda] [--n-cpu-moe N]
//               [--override-tensor REGEX=cpu|cuda]... [--unsupported B:KIND]...
//               [--support-table FILE.json]
//               [--max-splits K] [--ubatch T] [--n-past P] [--json]
//
// Builds the op graph of one ubatch from the model's hyper-parameters, gives
// every op a backend with the exact minimum number of transfers (then bytes)
// and compares with a ggml-like greedy assignment. See docs/placement.md for
// what a split (transfer) is.
//
//===----------------------------------------------------------------------===//
#include "Command.h"
#include "RunCommon.h"

#include "gguf/GGUFFile.h"
#include "gguf/InputFile.h"
#include "gguf/Qwen3Next.h"
#include "passes/placement/Assign.h"
#include "passes/placement/Qwen3NextGraph.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <limits>

using namespace llvm;
using namespace qn::placement;

namespace {
cl::SubCommand planCmd("plan", "assign backends to the model's ops with the "
                               "minimum number of splits; report them");
cl::OptionCategory planCat("plan options");
cl::opt<std::string> modelPath("m", cl::desc("model GGUF file (hparams only)"),
                               cl::value_desc("file"), cl::sub(planCmd),
                               cl::cat(planCat));
cl::opt<std::string>
    configName("config",
               cl::desc("built-in configuration instead of a file: 80b-a3b"),
               cl::value_desc("name"), cl::sub(planCmd), cl::cat(planCat));
cl::opt<int> layerCount("layers",
                        cl::desc("with --config: use this many layers"),
                        cl::init(0), cl::sub(planCmd), cl::cat(planCat));
cl::opt<std::string> deviceName("device",
                                cl::desc("where weights live: cpu or cuda"),
                                cl::init("cuda"), cl::sub(planCmd),
                                cl::cat(planCat));
cl::opt<int> nCpuMoe("n-cpu-moe",
                     cl::desc("keep the expert weights of the first N layers "
                              "on the CPU"),
                     cl::init(0), cl::sub(planCmd), cl::cat(planCat));
cl::list<std::string> overrides(
    "override-tensor",
    cl::desc("REGEX=cpu|cuda: weights whose name matches live there (first "
             "match wins; POSIX extended regex)"),
    cl::value_desc("rule"), cl::sub(planCmd), cl::cat(planCat));
cl::alias overridesShort("ot", cl::desc("alias for --override-tensor"),
                         cl::aliasopt(overrides));
cl::list<std::string> unsupported(
    "unsupported",
    cl::desc("BACKEND:KIND: the backend cannot run ops of that kind (support "
             "table entries; default: both run everything)"),
    cl::value_desc("entry"), cl::sub(planCmd), cl::cat(planCat));
cl::opt<std::string> supportTable(
    "support-table",
    cl::desc("JSON support table: {\"cuda\": {\"supported\": [...], "
             "\"unsupported\": [...]}, \"cpu\": {...}}"),
    cl::value_desc("file"), cl::sub(planCmd), cl::cat(planCat));
cl::opt<int> maxSplits("max-splits",
                       cl::desc("fail if the plan needs more than K splits "
                                "(-1: no limit)"),
                       cl::init(-1), cl::value_desc("K"), cl::sub(planCmd),
                       cl::cat(planCat));
cl::opt<int> ubatch("ubatch", cl::desc("tokens in the ubatch (default 512)"),
                    cl::init(512), cl::sub(planCmd), cl::cat(planCat));
cl::opt<int> nPast("n-past", cl::desc("tokens already in the KV cache"),
                   cl::init(0), cl::sub(planCmd), cl::cat(planCat));
cl::opt<bool> jsonOutput("json", cl::desc("print only JSON on stdout"),
                         cl::sub(planCmd), cl::cat(planCat));

// The integer flags' domains: --help shows them, runPlan checks them first.
const qn::run::FlagTable flagTable{
    {layerCount, 1, qn::gguf::kMaxLayers},
    {nCpuMoe, 0, std::numeric_limits<int>::max()},
    {maxSplits, -1, std::numeric_limits<int>::max()},
    {ubatch, 1, qn::run::kMaxPositions},
    {nPast, 0, qn::run::kMaxPositions},
};

int fail(const Twine &message) {
  errs() << "qn-run plan: " << message << "\n";
  return 1;
}

Expected<ModelShape> shapeFromFile(StringRef path) {
  auto file = qn::gguf::GGUFFile::open(path);
  if (!file)
    return file.takeError();
  auto hp = qn::gguf::readQwen3NextHParams(**file);
  if (!hp)
    return hp.takeError();
  ModelShape s;
  s.nLayer = hp->nLayer;
  s.nEmbd = hp->nEmbd;
  s.nVocab = hp->nVocab;
  s.nHead = hp->nHead;
  s.nHeadKV = hp->nHeadKV;
  s.headDim = hp->headDim;
  s.convKernel = hp->convKernel;
  s.ssmInner = hp->ssmInner;
  s.ssmState = hp->ssmState;
  s.ssmHeadsV = hp->ssmTimeStepRank;
  s.ssmGroups = hp->ssmGroupCount;
  s.nExpert = hp->nExpert;
  s.nExpertUsed = hp->nExpertUsed;
  s.expertFF = hp->expertFF;
  s.sharedExpertFF = hp->sharedExpertFF;
  s.isRecurrent = hp->isRecurrent;
  s.tiedOutput = !(*file)->findTensor("output.weight");
  bool anyShared = false;
  for (int64_t il = 0; il < s.nLayer; ++il) {
    std::string p = formatv("blk.{0}.", il).str();
    anyShared |= (*file)->findTensor(p + "ffn_gate_shexp.weight") != nullptr;
    if (s.recurrent(il) && (*file)->findTensor(p + "ssm_in.weight"))
      s.legacySsmIn = true;
  }
  if (!anyShared)
    s.sharedExpertFF = 0;
  for (const qn::gguf::TensorInfo &t : (*file)->tensors())
    s.weightBytes[t.name] = t.nbytes;
  return s;
}

int runPlan() {
  if (Error err = flagTable.check())
    return fail(toString(std::move(err)));
  if (modelPath.empty() == configName.empty())
    return fail("give exactly one of -m MODEL.gguf or --config 80b-a3b");
  ModelShape shape;
  std::string modelName;
  if (!configName.empty()) {
    if (configName != "80b-a3b")
      return fail("unknown --config '" + configName + "' (known: 80b-a3b)");
    shape = ModelShape::qwen3Next80BA3B();
    modelName = "qwen3next-80b-a3b";
    if (layerCount.getNumOccurrences())
      shape.nLayer = layerCount;
  } else {
    if (layerCount.getNumOccurrences())
      return fail("--layers only applies to --config");
    auto s = shapeFromFile(modelPath);
    if (!s)
      return fail(toString(s.takeError()));
    shape = *s;
    modelName = modelPath;
  }

  PlacementOptions opts;
  std::optional<Backend> device = parseBackend(deviceName);
  if (!device)
    return fail("--device must be cpu or cuda, got '" + deviceName + "'");
  opts.device = *device;
  opts.nCpuMoe = unsigned(nCpuMoe);
  for (const std::string &spec : overrides) {
    auto rule = parseOverrideRule(spec);
    if (!rule)
      return fail(toString(rule.takeError()));
    opts.overrides.push_back(*rule);
  }
  if (!supportTable.empty()) {
    auto buf = qn::getInputFile(supportTable);
    if (!buf)
      return fail("cannot read support table " + supportTable + ": " +
                  buf.getError().message());
    if (Error e = opts.support.addJSON((*buf)->getBuffer(), supportTable))
      return fail(toString(std::move(e)));
  }
  for (const std::string &spec : unsupported)
    if (Error e = opts.support.parseUnsupported(spec))
      return fail(toString(std::move(e)));

  auto t0 = std::chrono::steady_clock::now();
  auto graph = buildQwen3NextGraph(shape, ubatch, nPast);
  if (!graph)
    return fail(toString(graph.takeError()));
  auto constraints = resolveConstraints(*graph, opts);
  if (!constraints)
    return fail(toString(constraints.takeError()));
  const std::vector<BackendMask> *allowed = &constraints->allowed;
  uint64_t residentCopies = 0, residentCopyBytes = 0;
  for (const ResidentCopy &c : constraints->copies) {
    residentCopies += c.count;
    residentCopyBytes += c.count * c.bytes;
  }
  auto exact = assignMinCut(*graph, *allowed);
  if (!exact)
    return fail(toString(exact.takeError()));
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
  Assignment greedy = assignGreedy(*graph, *allowed);
  Cost ce = evaluate(*graph, *exact), cg = evaluate(*graph, greedy);
  unsigned onCuda = 0;
  for (Backend b : *exact)
    onCuda += b == Backend::CUDA;

  if (maxSplits >= 0 && ce.transfers > uint64_t(maxSplits.getValue()))
    return fail(formatv("the plan needs {0} splits, more than --max-splits "
                        "{1} allows",
                        ce.transfers, maxSplits.getValue()));

  if (jsonOutput) {
    json::Object o{
        {"model", modelName},
        {"layers", shape.nLayer},
        {"ubatch", int64_t(ubatch)},
        {"device", backendName(opts.device)},
        {"n_cpu_moe", int64_t(opts.nCpuMoe)},
        {"nodes", int64_t(graph->size())},
        {"splits", int64_t(ce.transfers)},
        {"transfer_bytes", int64_t(ce.bytes)},
        {"greedy_splits", int64_t(cg.transfers)},
        {"greedy_transfer_bytes", int64_t(cg.bytes)},
        {"runs", int64_t(countRunsScheduled(*graph, *exact))},
        {"greedy_runs", int64_t(countRunsInOrder(greedy))},
        {"resident_copies", int64_t(residentCopies)},
        {"resident_copy_bytes", int64_t(residentCopyBytes)},
        {"ops_on_cuda", int64_t(onCuda)},
        {"ops_on_cpu", int64_t(graph->size() - onCuda)},
        {"assign_ms", ms},
    };
    outs() << formatv("{0:2}", json::Value(std::move(o))) << "\n";
    return 0;
  }
  outs() << formatv("model {0}: {1} layers, ubatch {2}, {3} ops\n", modelName,
                    shape.nLayer, ubatch.getValue(), graph->size());
  outs() << formatv("placement: device {0}, n-cpu-moe {1}, {2} override "
                    "rule(s)\n",
                    backendName(opts.device), opts.nCpuMoe,
                    opts.overrides.size());
  outs() << formatv("exact:  {0} splits, {1} bytes ({2} ops on cuda, {3} on "
                    "cpu; {4:f2} ms)\n",
                    ce.transfers, ce.bytes, onCuda, graph->size() - onCuda, ms);
  outs() << formatv("greedy: {0} splits, {1} bytes\n", cg.transfers, cg.bytes);
  if (residentCopies)
    outs() << formatv("resident copies (fixed, both plans): {0}, {1} bytes\n",
                      residentCopies, residentCopyBytes);
  for (const ResidentCopy &c : constraints->copies)
    outs() << formatv("  {0} reads {1} from {2} (x{3}, {4} bytes)\n",
                      (*graph)[c.node].name, c.name, backendName(c.from),
                      c.count, c.bytes);
  outs() << "transfers:\n";
  std::vector<std::vector<NodeId>> users = graph->consumers();
  for (NodeId v = 0; v < graph->size(); ++v) {
    bool seen[kNumBackends] = {false, false};
    for (NodeId u : users[v]) {
      Backend to = (*exact)[u];
      if (to == (*exact)[v] || seen[unsigned(to)])
        continue;
      seen[unsigned(to)] = true;
      outs() << formatv("  {0} {1} -> {2} ({3} bytes)\n", (*graph)[v].name,
                        backendName((*exact)[v]), backendName(to),
                        (*graph)[v].outBytes);
    }
  }
  return 0;
}

qn::run::CommandRegistration registration(&planCmd, runPlan);
} // namespace

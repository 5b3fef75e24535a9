//===- CompareLogitsCommand.cpp - `qn-run compare-logits` ----------------===//
//
//   qn-run compare-logits --manifest M --case NAME --print-tokens
//   qn-run compare-logits --manifest M --case NAME RUN.f32
//   qn-run compare-logits --n-vocab V --max-abs X A.f32 B.f32
//
// The parity check of ../shared/fixtures/README.md. A run is correct on a
// case if it is close to the peer's logits (per weight format: F32 max abs
// 1e-2, F16 3e-2, with the same argmax where the peer's top-2 margin exceeds
// 1e-2; Q8_0 mean KL <= 1e-3 and >= 97% argmax where the margin exceeds
// 0.05; k-quant mixes mean KL <= 1e-2 and >= 90%), or at least as close to
// the float64 `exact` logits as the peer is (mean KL <= 1.5 x peer + 1e-4,
// argmax >= peer - 5 points, max abs <= max(1e-2, 1.5 x peer)). Prints both
// comparisons and PASS/FAIL; exits 1 on FAIL. The third form checks two runs
// against each other (max abs difference).
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "RunCommon.h"
#include "gguf/InputFile.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace {
cl::SubCommand compareCmd("compare-logits",
                          "check logits against a fixture case's tolerances");
cl::opt<std::string> manifestPath("manifest",
                                  cl::desc("fixtures manifest.json"),
                                  cl::sub(compareCmd));
cl::opt<std::string> caseName("case", cl::desc("logits case name"),
                              cl::sub(compareCmd));
cl::opt<bool> printTokens("print-tokens",
                          cl::desc("print the case's token ids and exit"),
                          cl::sub(compareCmd));
cl::opt<int64_t> nVocabOpt("n-vocab",
                           cl::desc("vocabulary size (two-run form)"),
                           cl::init(0), cl::sub(compareCmd));
cl::opt<double> maxAbsOpt("max-abs",
                          cl::desc("allowed max abs difference (two-run "
                                   "form)"),
                          cl::init(1e-5), cl::sub(compareCmd));
cl::list<std::string> inputs(cl::Positional, cl::desc("<run.f32>..."),
                             cl::sub(compareCmd));

// The numeric flags' domains: --help shows them, runCompare checks them.
// A NaN tolerance would fail every comparison.
const qn::run::FlagTable flagTable{
    {nVocabOpt, 1, qn::run::kMaxPositions},
    {maxAbsOpt, 0.0, qn::support::kNoUpperBound},
};

const char *kCmd = "compare-logits";

Expected<std::vector<float>> readF32(StringRef path) {
  auto buf = qn::getInputFile(path, /*IsText=*/false,
                              /*RequiresNullTerminator=*/false);
  if (!buf)
    return createStringError(buf.getError(), "cannot read '%s': %s",
                             path.str().c_str(),
                             buf.getError().message().c_str());
  StringRef data = (*buf)->getBuffer();
  if (data.size() % 4)
    return createStringError(inconvertibleErrorCode(),
                             "'%s' is not a float32 file (size %zu)",
                             path.str().c_str(), data.size());
  std::vector<float> v(data.size() / 4);
  std::memcpy(v.data(), data.data(), data.size());
  return v;
}

struct Stats {
  double maxAbs = 0, meanKL = 0, maxKL = 0;
  int64_t argmaxAgree = 0, argmaxCount = 0; // positions over the margin
  double argmaxRate() const {
    return argmaxCount ? double(argmaxAgree) / argmaxCount : 1.0;
  }
};

/// Compares `run` with `ref` ([n x V]); argmax agreement counts positions
/// whose reference top-2 margin exceeds `margin`.
Stats compare(const std::vector<float> &ref, const std::vector<float> &run,
              int64_t n, int64_t V, double margin) {
  Stats s;
  std::vector<double> p(V), q(V);
  for (int64_t i = 0; i < n; ++i) {
    const float *a = ref.data() + i * V, *b = run.data() + i * V;
    auto logSoftmax = [&](const float *x, std::vector<double> &out) {
      double m = -INFINITY;
      for (int64_t j = 0; j < V; ++j)
        m = std::max(m, double(x[j]));
      double sum = 0;
      for (int64_t j = 0; j < V; ++j)
        sum += std::exp(double(x[j]) - m);
      const double lse = m + std::log(sum);
      for (int64_t j = 0; j < V; ++j)
        out[j] = double(x[j]) - lse;
    };
    logSoftmax(a, p);
    logSoftmax(b, q);
    double kl = 0;
    int64_t best = 0, second = -1, bestRun = 0;
    for (int64_t j = 0; j < V; ++j) {
      s.maxAbs = std::max(s.maxAbs, std::fabs(double(a[j]) - b[j]));
      kl += std::exp(p[j]) * (p[j] - q[j]);
      if (b[j] > b[bestRun])
        bestRun = j;
      if (a[j] > a[best]) {
        second = best;
        best = j;
      } else if (j != best && (second < 0 || a[j] > a[second])) {
        second = j;
      }
    }
    s.meanKL += kl / n;
    s.maxKL = std::max(s.maxKL, kl);
    if (second >= 0 && double(a[best]) - a[second] > margin) {
      ++s.argmaxCount;
      s.argmaxAgree += best == bestRun;
    }
  }
  return s;
}

void print(StringRef what, const Stats &s) {
  outs() << formatv("{0}: max abs {1:e3}, mean KL {2:e3}, max KL {3:e3}, "
                    "argmax {4}/{5}\n",
                    what, s.maxAbs, s.meanKL, s.maxKL, s.argmaxAgree,
                    s.argmaxCount);
}

int compareTwoRuns() {
  if (inputs.size() != 2 || nVocabOpt <= 0)
    return qn::run::fail(kCmd, "the two-run form needs --n-vocab and two "
                               "files");
  auto a = readF32(inputs[0]);
  if (!a)
    return qn::run::fail(kCmd, a.takeError());
  auto b = readF32(inputs[1]);
  if (!b)
    return qn::run::fail(kCmd, b.takeError());
  if (a->size() != b->size() || a->size() % nVocabOpt)
    return qn::run::fail(kCmd, "the files differ in size or are not rows of "
                               "--n-vocab floats");
  Stats s = compare(*a, *b, a->size() / nVocabOpt, nVocabOpt, 0.0);
  print("run vs run", s);
  const bool ok = s.maxAbs <= maxAbsOpt;
  outs() << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? 0 : 1;
}

int runCompare() {
  if (Error err = flagTable.check())
    return qn::run::fail(kCmd, std::move(err));
  if (manifestPath.empty())
    return compareTwoRuns();
  if (caseName.empty())
    return qn::run::fail(kCmd, "--case is required with --manifest");
  auto buf = qn::getInputFile(manifestPath, /*IsText=*/true);
  if (!buf)
    return qn::run::fail(kCmd, "cannot read '" + manifestPath +
                                   "': " + buf.getError().message());
  auto json = json::parse((*buf)->getBuffer());
  if (!json)
    return qn::run::fail(
        kCmd, "manifest '" + manifestPath +
                  "' is not valid JSON: " + toString(json.takeError()));
  const json::Object *root = json->getAsObject();
  const json::Array *cases = root ? root->getArray("cases") : nullptr;
  const json::Array *models = root ? root->getArray("models") : nullptr;
  if (!cases || !models)
    return qn::run::fail(kCmd, "'" + manifestPath + "' has no cases/models");
  const json::Object *c = nullptr;
  for (const json::Value &v : *cases)
    if (const json::Object *o = v.getAsObject())
      if (o->getString("name") == StringRef(caseName))
        c = o;
  if (!c || c->getString("kind") != StringRef("logits"))
    return qn::run::fail(kCmd, "no logits case named '" + caseName + "'");
  const json::Array *tokens = c->getArray("tokens");
  if (!tokens)
    return qn::run::fail(kCmd, "case '" + caseName + "' has no tokens");
  if (printTokens) {
    for (size_t i = 0; i < tokens->size(); ++i)
      outs() << (i ? "," : "") << (*tokens)[i].getAsInteger().value_or(-1);
    outs() << "\n";
    return 0;
  }
  if (inputs.size() != 1)
    return qn::run::fail(kCmd, "give exactly one run file to check");

  std::string weights;
  for (const json::Value &v : *models)
    if (const json::Object *o = v.getAsObject())
      if (o->getString("file") == c->getString("model"))
        weights = o->getString("weights").value_or("").lower();
  const int64_t V = c->getInteger("n_vocab").value_or(0);
  const int64_t n = static_cast<int64_t>(tokens->size());
  const json::Object *peer = c->getObject("peer_vs_exact");
  if (V <= 0 || !peer || weights.empty())
    return qn::run::fail(kCmd, "case '" + caseName + "' is incomplete");
  SmallString<256> dir(sys::path::parent_path(manifestPath));
  auto fixture = [&](StringRef key) {
    SmallString<256> p(dir);
    sys::path::append(p, c->getString(key).value_or(""));
    return readF32(p);
  };
  auto ref = fixture("logits");
  if (!ref)
    return qn::run::fail(kCmd, ref.takeError());
  auto exact = fixture("exact");
  if (!exact)
    return qn::run::fail(kCmd, exact.takeError());
  auto run = readF32(inputs[0]);
  if (!run)
    return qn::run::fail(kCmd, run.takeError());
  const size_t want = static_cast<size_t>(n * V);
  if (ref->size() != want || exact->size() != want || run->size() != want)
    return qn::run::fail(kCmd,
                         formatv("expected {0} x {1} floats; run has "
                                 "{2}, reference {3}, exact {4}",
                                 n, V, run->size(), ref->size(), exact->size())
                             .str());

  // Close to the peer, by weight format.
  bool peerOk;
  if (weights == "f32" || weights == "f16") {
    const double tol = weights == "f32" ? 1e-2 : 3e-2;
    Stats s = compare(*ref, *run, n, V, 1e-2);
    print("vs peer", s);
    peerOk = s.maxAbs <= tol && s.argmaxAgree == s.argmaxCount;
  } else {
    const bool q8 = weights == "q8_0";
    Stats s = compare(*ref, *run, n, V, 0.05);
    print("vs peer", s);
    peerOk =
        s.meanKL <= (q8 ? 1e-3 : 1e-2) && s.argmaxRate() >= (q8 ? 0.97 : 0.90);
  }
  // At least as close to exact as the peer.
  Stats e = compare(*exact, *run, n, V, 0.05);
  print("vs exact", e);
  const double peerKL = peer->getNumber("mean_kl").value_or(0);
  const double peerArgmax = peer->getNumber("argmax").value_or(1);
  const double peerMaxAbs = peer->getNumber("max_abs").value_or(0);
  const bool exactOk = e.meanKL <= 1.5 * peerKL + 1e-4 &&
                       e.argmaxRate() >= peerArgmax - 0.05 &&
                       e.maxAbs <= std::max(1e-2, 1.5 * peerMaxAbs);
  outs() << formatv("peer rule: {0}, exact rule: {1}\n",
                    peerOk ? "pass" : "fail", exactOk ? "pass" : "fail");
  outs() << (peerOk || exactOk ? "PASS" : "FAIL") << "\n";
  return peerOk || exactOk ? 0 : 1;
}

qn::run::CommandRegistration reg(&compareCmd, runCompare);
} // namespace

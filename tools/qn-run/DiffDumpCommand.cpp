//===- DiffDumpCommand.cpp - `qn-run diff-dump` --------------------------===//
//
//   qn-run diff-dump --dir DUMP --ref-dir ../shared/fixtures/intermediates/X
//
// Compares the intermediates a `logits --dump-dir` run wrote with the peer's
// (listed in the reference's index.jsonl), in the peer's graph order, so the
// first line over tolerance is where the two computations part.
//
//===----------------------------------------------------------------------===//

#include "Command.h"
#include "RunCommon.h"
#include "gguf/InputFile.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace llvm;

namespace {
cl::SubCommand diffCmd("diff-dump",
                       "compare dumped intermediates with the peer's");
cl::opt<std::string> dumpDir("dir", cl::desc("directory of a --dump-dir run"),
                             cl::sub(diffCmd));
cl::opt<std::string> refDir("ref-dir",
                            cl::desc("peer intermediates (with index.jsonl)"),
                            cl::sub(diffCmd));
cl::opt<double> relTol("rel-tol",
                       cl::desc("flag entries whose max abs difference "
                                "exceeds this times the reference's max abs"),
                       cl::init(1e-3), cl::sub(diffCmd));

// --rel-tol's domain: --help shows it, runDiff checks it. NaN would flag
// every entry, a negative tolerance every nonzero difference.
const qn::run::FlagTable flagTable{
    {relTol, 0.0, qn::support::kNoUpperBound},
};

const char *kCmd = "diff-dump";

std::unique_ptr<MemoryBuffer> readFile(const Twine &path) {
  auto buf = qn::getInputFile(path, /*IsText=*/false,
                              /*RequiresNullTerminator=*/false);
  return buf ? std::move(*buf) : nullptr;
}

int runDiff() {
  if (Error err = flagTable.check())
    return qn::run::fail(kCmd, std::move(err));
  if (dumpDir.empty() || refDir.empty())
    return qn::run::fail(kCmd, "--dir and --ref-dir are required");
  SmallString<256> indexPath(refDir);
  sys::path::append(indexPath, "index.jsonl");
  auto index = readFile(indexPath);
  if (!index)
    return qn::run::fail(kCmd, "cannot read '" + indexPath + "'");
  SmallVector<StringRef, 256> lines;
  index->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/true);
  StringSet<> seen;
  int compared = 0, flagged = 0;
  for (size_t lineNo = 1; lineNo <= lines.size(); ++lineNo) {
    StringRef line = lines[lineNo - 1].trim().rtrim(',');
    if (line.empty())
      continue;
    // A line that is not an entry means the index is not what it claims
    // to be: fail naming it rather than compare nothing and succeed.
    auto badLine = [&](const Twine &why) {
      return qn::run::fail(kCmd, indexPath + ":" + Twine(lineNo) + ": " + why);
    };
    auto entry = json::parse(line);
    if (!entry)
      return badLine("not JSON: " + toString(entry.takeError()));
    const json::Object *o = entry->getAsObject();
    StringRef name, file;
    if (o) {
      name = o->getString("name").value_or("");
      file = o->getString("file").value_or("");
    }
    if (name.empty() || file.empty())
      return badLine("expected an object with \"name\" and \"file\"");
    if (!seen.insert(name).second)
      continue;
    SmallString<256> mine(dumpDir), ref(refDir);
    sys::path::append(mine, name + ".f32");
    sys::path::append(ref, file);
    auto a = readFile(mine);
    if (!a)
      continue;
    auto b = readFile(ref);
    if (!b)
      return qn::run::fail(kCmd, "cannot read '" + ref + "', listed in '" +
                                     indexPath + "'");
    const size_t n = b->getBufferSize() / 4;
    if (a->getBufferSize() != b->getBufferSize()) {
      // Reported, not counted: some peer tensors carry more (the conv
      // input includes its window), so a size mismatch is not a failure.
      outs() << formatv("{0,-36} size differs: mine {1} floats, peer {2}\n",
                        name, a->getBufferSize() / 4, n);
      continue;
    }
    double maxDiff = 0, maxRef = 0;
    for (size_t i = 0; i < n; ++i) {
      float x, y;
      std::memcpy(&x, a->getBufferStart() + 4 * i, 4);
      std::memcpy(&y, b->getBufferStart() + 4 * i, 4);
      maxDiff = std::max(maxDiff, std::fabs(double(x) - y));
      maxRef = std::max(maxRef, std::fabs(double(y)));
    }
    const bool bad = !(maxDiff <= relTol * std::max(maxRef, 1e-6));
    flagged += bad;
    ++compared;
    outs() << formatv("{0,-36} {1,-16} max|diff| {2:e2}  max|ref| {3:e2}{4}\n",
                      name, o->getString("op").value_or(""), maxDiff, maxRef,
                      bad ? "  <-- differs" : "");
  }
  outs() << formatv("compared {0} tensors, {1} differ\n", compared, flagged);
  if (compared == 0)
    return qn::run::fail(kCmd, "no tensor listed in '" + indexPath +
                                   "' was found in '" + dumpDir + "'");
  return flagged ? 1 : 0;
}

qn::run::CommandRegistration reg(&diffCmd, runDiff);
} // namespace

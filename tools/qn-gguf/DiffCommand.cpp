//===- DiffCommand.cpp - `qn-gguf diff` -----------------------------------===//
//
//   qn-gguf diff A.gguf B.gguf [--strict-metadata]
//
// Compares two files tensor by tensor (by name: type, shape, bytes) and key by
// key. Prints every difference and a summary line; exits 1 when any tensor
// differs or exists in one file only (or, with --strict-metadata, when any
// metadata differs).
//
//===----------------------------------------------------------------------===//

#include "Command.h"

#include "gguf/GGUFFile.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;
using namespace qn::gguf;

namespace {
cl::SubCommand diffCmd("diff", "compare two GGUF files");
cl::opt<std::string> pathA(cl::Positional, cl::desc("<a.gguf>"), cl::Required,
                           cl::sub(diffCmd));
cl::opt<std::string> pathB(cl::Positional, cl::desc("<b.gguf>"), cl::Required,
                           cl::sub(diffCmd));
cl::opt<bool> strictMetadata("strict-metadata",
                             cl::desc("fail on metadata differences too"),
                             cl::sub(diffCmd));

bool sameValue(const Value &a, const Value &b) {
  if (a.type() != b.type())
    return false;
  if (a.isArray()) {
    if (a.arrayElementType() != b.arrayElementType() ||
        a.arraySize() != b.arraySize())
      return false;
    for (size_t i = 0; i < a.arraySize(); ++i)
      if (!sameValue(a.array()[i], b.array()[i]))
        return false;
    return true;
  }
  if (a.isString())
    return *a.asString() == *b.asString();
  if (a.isFloat()) {
    double x = *a.asFloat(), y = *b.asFloat();
    return std::memcmp(&x, &y, sizeof(double)) == 0;
  }
  if (a.type() == ValueType::Bool)
    return *a.asBool() == *b.asBool();
  return a.asInt() == b.asInt() && a.asUInt() == b.asUInt();
}

int runDiff() {
  auto a = GGUFFile::open(pathA);
  if (!a)
    return qn::gguftool::reportError("diff", a.takeError());
  auto b = GGUFFile::open(pathB);
  if (!b)
    return qn::gguftool::reportError("diff", b.takeError());
  raw_ostream &os = outs();

  int64_t keysDiffer = 0, keysOnly = 0;
  for (const auto &kv : (*a)->metadata()) {
    const Value *other = (*b)->find(kv.first);
    if (!other) {
      os << "metadata only in A: " << kv.first << "\n";
      ++keysOnly;
    } else if (!sameValue(kv.second, *other)) {
      os << "metadata differs: " << kv.first << ": " << kv.second.toString(4)
         << " vs " << other->toString(4) << "\n";
      ++keysDiffer;
    }
  }
  for (const auto &kv : (*b)->metadata())
    if (!(*a)->find(kv.first)) {
      os << "metadata only in B: " << kv.first << "\n";
      ++keysOnly;
    }

  int64_t same = 0, differ = 0, onlyA = 0, onlyB = 0;
  for (const TensorInfo &ta : (*a)->tensors()) {
    const TensorInfo *tb = (*b)->findTensor(ta.name);
    if (!tb) {
      os << "tensor only in A: " << ta.name << "\n";
      ++onlyA;
      continue;
    }
    if (ta.type != tb->type || ta.ne != tb->ne) {
      os << "tensor differs: " << ta.name << ": " << getTypeName(ta.type) << " "
         << ta.shapeString() << " vs " << getTypeName(tb->type) << " "
         << tb->shapeString() << "\n";
      ++differ;
      continue;
    }
    if (std::memcmp(ta.data, tb->data, ta.nbytes) != 0) {
      uint64_t at = 0;
      while (ta.data[at] == tb->data[at])
        ++at;
      os << "tensor differs: " << ta.name << ": bytes differ from offset " << at
         << "\n";
      ++differ;
      continue;
    }
    ++same;
  }
  for (const TensorInfo &tb : (*b)->tensors())
    if (!(*a)->findTensor(tb.name)) {
      os << "tensor only in B: " << tb.name << "\n";
      ++onlyB;
    }

  os << formatv("tensors: {0} identical, {1} differ, {2} only in A, {3} only "
                "in B; metadata: {4} differ, {5} in one file only\n",
                same, differ, onlyA, onlyB, keysDiffer, keysOnly);
  bool fail =
      differ || onlyA || onlyB || (strictMetadata && (keysDiffer || keysOnly));
  return fail ? 1 : 0;
}

qn::gguftool::CommandRegistration reg(&diffCmd, runDiff);
} // namespace

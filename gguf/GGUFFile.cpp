//===- GGUFFile.cpp - read-only view of a GGUF file -----------------------===//
//
// A bounds-checked reader over the whole file: every read states what it is
// reading, so an error says e.g. "tensor 12 ('blk.0.ssm_a') dims: needs 8
// bytes at offset 4242 but the file has 4240".
//
//===----------------------------------------------------------------------===//

#include "gguf/GGUFFile.h"
#include "gguf/InputFile.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace qn::gguf {

namespace {
constexpr uint32_t kMagic = 0x46554747; // "GGUF" read little-endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;
// Arrays of arrays are legal but never used by real files; a small limit keeps
// a hostile file from recursing deeply.
constexpr int kMaxArrayDepth = 8;
} // namespace

class GGUFParser {
public:
  GGUFParser(GGUFFile &file)
      : file(file),
        data(reinterpret_cast<const uint8_t *>(file.buffer->getBufferStart())),
        size(file.buffer->getBufferSize()) {}

  llvm::Error parse();

private:
  llvm::Error fail(const llvm::Twine &msg) const {
    return llvm::createStringError(
        (file.buffer->getBufferIdentifier() + ": " + msg).str());
  }
  llvm::Error need(uint64_t bytes, const llvm::Twine &what) const {
    if (bytes <= size - pos)
      return llvm::Error::success();
    return fail(llvm::formatv("{0}: needs {1} bytes at offset {2} but the "
                              "file has {3}",
                              what.str(), bytes, pos, size)
                    .str());
  }
  template <typename T> llvm::Error read(T &out, const llvm::Twine &what) {
    if (llvm::Error err = need(sizeof(T), what))
      return err;
    std::memcpy(&out, data + pos, sizeof(T));
    pos += sizeof(T);
    return llvm::Error::success();
  }
  llvm::Error readString(std::string &out, const llvm::Twine &what);
  llvm::Error readValue(ValueType type, Value &out, const llvm::Twine &what,
                        int depth);
  llvm::Error readTensorInfo(uint64_t index, TensorInfo &info);

  GGUFFile &file;
  const uint8_t *data;
  uint64_t size;
  uint64_t pos = 0;
};

llvm::Error GGUFParser::readString(std::string &out, const llvm::Twine &what) {
  uint64_t len;
  if (llvm::Error err = read(len, what + " length"))
    return err;
  if (llvm::Error err = need(len, what))
    return err;
  out.assign(reinterpret_cast<const char *>(data + pos), len);
  pos += len;
  return llvm::Error::success();
}

static bool isKnownValueType(uint32_t t) {
  return t <= static_cast<uint32_t>(ValueType::Float64);
}

llvm::Error GGUFParser::readValue(ValueType type, Value &out,
                                  const llvm::Twine &what, int depth) {
  switch (type) {
  case ValueType::UInt8: {
    uint8_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeUInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::Int8: {
    int8_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::UInt16: {
    uint16_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeUInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::Int16: {
    int16_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::UInt32: {
    uint32_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeUInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::Int32: {
    int32_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::UInt64: {
    uint64_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeUInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::Int64: {
    int64_t v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeInt(type, v);
    return llvm::Error::success();
  }
  case ValueType::Float32: {
    float v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeFloat(type, v);
    return llvm::Error::success();
  }
  case ValueType::Float64: {
    double v;
    if (llvm::Error err = read(v, what))
      return err;
    out = Value::makeFloat(type, v);
    return llvm::Error::success();
  }
  case ValueType::Bool: {
    uint8_t v;
    if (llvm::Error err = read(v, what))
      return err;
    if (v > 1)
      return fail(llvm::formatv("{0}: bool byte {1} at offset {2} is not 0 "
                                "or 1",
                                what.str(), v, pos - 1)
                      .str());
    out = Value::makeBool(v != 0);
    return llvm::Error::success();
  }
  case ValueType::String: {
    std::string s;
    if (llvm::Error err = readString(s, what))
      return err;
    out = Value::makeString(std::move(s));
    return llvm::Error::success();
  }
  case ValueType::Array: {
    if (depth >= kMaxArrayDepth)
      return fail(what + ": arrays nested deeper than " +
                  llvm::Twine(kMaxArrayDepth));
    uint32_t rawElem;
    if (llvm::Error err = read(rawElem, what + " element type"))
      return err;
    if (!isKnownValueType(rawElem))
      return fail(llvm::formatv("{0}: unknown array element type {1}",
                                what.str(), rawElem)
                      .str());
    uint64_t count;
    if (llvm::Error err = read(count, what + " element count"))
      return err;
    // Every element takes at least one byte (strings and arrays eight), so
    // a count larger than the rest of the file is corrupt; checking before
    // reserving keeps a bad count from allocating gigabytes.
    auto elem = static_cast<ValueType>(rawElem);
    uint64_t minBytes = 1;
    if (elem == ValueType::String || elem == ValueType::Array)
      minBytes = 8;
    else if (elem == ValueType::UInt16 || elem == ValueType::Int16)
      minBytes = 2;
    else if (elem == ValueType::UInt32 || elem == ValueType::Int32 ||
             elem == ValueType::Float32)
      minBytes = 4;
    else if (elem == ValueType::UInt64 || elem == ValueType::Int64 ||
             elem == ValueType::Float64)
      minBytes = 8;
    if (count > (size - pos) / minBytes)
      return fail(llvm::formatv("{0}: {1} elements of {2} cannot fit in the "
                                "{3} bytes left at offset {4}",
                                what.str(), count, getValueTypeName(elem),
                                size - pos, pos)
                      .str());
    std::vector<Value> elems(count);
    for (uint64_t i = 0; i < count; ++i)
      if (llvm::Error err = readValue(
              elem, elems[i], what + "[" + llvm::Twine(i) + "]", depth + 1))
        return err;
    out = Value::makeArray(elem, std::move(elems));
    return llvm::Error::success();
  }
  }
  return fail(what + ": unknown value type");
}

llvm::Error GGUFParser::readTensorInfo(uint64_t index, TensorInfo &info) {
  std::string what = llvm::formatv("tensor {0}", index).str();
  if (llvm::Error err = readString(info.name, what + " name"))
    return err;
  what += " ('" + info.name + "')";
  uint32_t nDims;
  if (llvm::Error err = read(nDims, what + " dim count"))
    return err;
  if (nDims < 1 || nDims > kMaxDims)
    return fail(
        llvm::formatv("{0}: {1} dims, expected 1 to {2}", what, nDims, kMaxDims)
            .str());
  info.ne.resize(nDims);
  for (uint32_t d = 0; d < nDims; ++d) {
    if (llvm::Error err = read(info.ne[d], what + " dims"))
      return err;
    if (info.ne[d] < 0)
      return fail(
          llvm::formatv("{0}: dim {1} is negative ({2})", what, d, info.ne[d])
              .str());
  }
  uint32_t rawType;
  if (llvm::Error err = read(rawType, what + " type"))
    return err;
  info.type = static_cast<GGMLType>(rawType);
  const GGMLTypeInfo *typeInfo = getTypeInfo(info.type);
  if (!typeInfo) {
    llvm::StringRef note = getUnsupportedTypeNote(rawType);
    if (!note.empty())
      return fail(llvm::formatv("{0}: ggml type id {1} is {2}, which qn does "
                                "not read",
                                what, rawType, note)
                      .str());
    return fail(llvm::formatv("{0}: unknown ggml type id {1} (known types: "
                              "{2})",
                              what, rawType, listKnownTypeNames())
                    .str());
  }
  if (llvm::Error err = read(info.offset, what + " data offset"))
    return err;

  // Element count and byte size, without overflow.
  int64_t rows = 1;
  for (uint32_t d = 1; d < nDims; ++d) {
    if (info.ne[d] != 0 &&
        rows > std::numeric_limits<int64_t>::max() / info.ne[d])
      return fail(what + ": shape " + info.shapeString() + " is too large");
    rows *= info.ne[d];
  }
  if (info.ne[0] % typeInfo->blockSize != 0)
    return fail(llvm::formatv("{0}: row length {1} is not a multiple of the "
                              "{2} block size {3}",
                              what, info.ne[0], typeInfo->name,
                              typeInfo->blockSize)
                    .str());
  if (static_cast<uint64_t>(info.ne[0] / typeInfo->blockSize) >
      std::numeric_limits<uint64_t>::max() /
          static_cast<uint64_t>(typeInfo->blockBytes))
    return fail(what + ": shape " + info.shapeString() + " is too large");
  if (rows % typeInfo->rowsPerGroup != 0)
    return fail(llvm::formatv("{0}: {1} rows of {2}, which stores rows in "
                              "groups of {3}",
                              what, rows, typeInfo->name,
                              typeInfo->rowsPerGroup)
                    .str());
  uint64_t rowSize = rowBytes(info.type, info.ne[0]);
  if (rows != 0 && rowSize > std::numeric_limits<uint64_t>::max() /
                                 static_cast<uint64_t>(rows))
    return fail(what + ": shape " + info.shapeString() + " is too large");
  info.nbytes = rowSize * static_cast<uint64_t>(rows);
  return llvm::Error::success();
}

llvm::Error GGUFParser::parse() {
  uint32_t magic;
  if (llvm::Error err = read(magic, "magic"))
    return err;
  if (magic != kMagic)
    return fail("not a GGUF file (bad magic)");
  if (llvm::Error err = read(file.fileVersion, "version"))
    return err;
  if (llvm::byteswap(file.fileVersion) == 2 ||
      llvm::byteswap(file.fileVersion) == 3)
    return fail("big-endian GGUF files are not supported");
  if (file.fileVersion != 2 && file.fileVersion != 3)
    return fail(llvm::formatv("GGUF version {0} is not supported (2 and 3 "
                              "are)",
                              file.fileVersion)
                    .str());
  uint64_t nTensors, nKV;
  if (llvm::Error err = read(nTensors, "tensor count"))
    return err;
  if (llvm::Error err = read(nKV, "metadata count"))
    return err;
  // Each key/value takes at least 13 bytes and each tensor info 24.
  if (nKV > (size - pos) / 13)
    return fail(
        llvm::formatv("metadata count {0} cannot fit in the file", nKV).str());
  if (nTensors > (size - pos) / 24)
    return fail(
        llvm::formatv("tensor count {0} cannot fit in the file", nTensors)
            .str());

  file.kvs.reserve(nKV);
  for (uint64_t i = 0; i < nKV; ++i) {
    std::string key;
    if (llvm::Error err = readString(key, "metadata key " + llvm::Twine(i)))
      return err;
    uint32_t rawType;
    if (llvm::Error err = read(rawType, "type of '" + key + "'"))
      return err;
    if (!isKnownValueType(rawType))
      return fail(
          llvm::formatv("metadata '{0}': unknown value type {1}", key, rawType)
              .str());
    Value value;
    if (llvm::Error err = readValue(static_cast<ValueType>(rawType), value,
                                    "metadata '" + key + "'", 0))
      return err;
    if (!file.kvIndex.try_emplace(key, file.kvs.size()).second)
      return fail("duplicate metadata key '" + key + "'");
    file.kvs.emplace_back(std::move(key), std::move(value));
  }

  if (const Value *align = file.find("general.alignment")) {
    std::optional<uint64_t> a = align->asUInt();
    if (!a || *a == 0 || !llvm::isPowerOf2_64(*a))
      return fail("general.alignment must be a power-of-two integer, found " +
                  align->toString());
    file.dataAlignment = *a;
  } else {
    file.dataAlignment = kDefaultAlignment;
  }

  file.tensorTable.resize(nTensors);
  for (uint64_t i = 0; i < nTensors; ++i) {
    TensorInfo &info = file.tensorTable[i];
    if (llvm::Error err = readTensorInfo(i, info))
      return err;
    if (!file.tensorIndex.try_emplace(info.name, i).second)
      return fail("duplicate tensor name '" + info.name + "'");
  }

  uint64_t dataStart = llvm::alignTo(pos, file.dataAlignment);
  // A file with no tensors may end right after the header.
  if (nTensors > 0 && dataStart > size)
    return fail(llvm::formatv("data section would start at offset {0}, past "
                              "the end of the file ({1} bytes)",
                              dataStart, size)
                    .str());
  file.dataSectionOffset = dataStart;
  uint64_t dataSize = dataStart <= size ? size - dataStart : 0;
  for (TensorInfo &info : file.tensorTable) {
    if (info.offset % file.dataAlignment != 0)
      return fail(llvm::formatv("tensor '{0}': data offset {1} is not a "
                                "multiple of the alignment {2}",
                                info.name, info.offset, file.dataAlignment)
                      .str());
    if (info.offset > dataSize || info.nbytes > dataSize - info.offset)
      return fail(llvm::formatv("tensor '{0}' ({1} {2}): {3} bytes at data "
                                "offset {4} run past the end of the file "
                                "(data section holds {5} bytes)",
                                info.name, getTypeName(info.type),
                                info.shapeString(), info.nbytes, info.offset,
                                dataSize)
                      .str());
    info.data = data + dataStart + info.offset;
  }
  // Each tensor's bytes (rows x rowBytes of its type and shape) must end
  // before the next tensor's data begins: a type id read as the wrong layout
  // sizes the tensor wrong and is caught here instead of decoding garbage.
  std::vector<const TensorInfo *> byOffset;
  for (const TensorInfo &info : file.tensorTable)
    if (info.nbytes > 0)
      byOffset.push_back(&info);
  std::stable_sort(byOffset.begin(), byOffset.end(),
                   [](const TensorInfo *a, const TensorInfo *b) {
                     return a->offset < b->offset;
                   });
  for (size_t i = 0; i + 1 < byOffset.size(); ++i) {
    const TensorInfo &a = *byOffset[i], &b = *byOffset[i + 1];
    if (a.nbytes > b.offset - a.offset)
      return fail(
          llvm::formatv("tensor '{0}' ({1}, ggml type id {2}, {3}): its {4} "
                        "bytes at data offset {5} overlap tensor '{6}' at "
                        "offset {7}; the type id or shape does not match the "
                        "data",
                        a.name, getTypeName(a.type),
                        static_cast<uint32_t>(a.type), a.shapeString(),
                        a.nbytes, a.offset, b.name, b.offset)
              .str());
  }
  return llvm::Error::success();
}

int64_t TensorInfo::numElements() const {
  // Any zero dim first: {2^40, 2^40, 0} is empty, and multiplying in order
  // would overflow before reaching the zero.
  for (int64_t d : ne)
    if (d == 0)
      return 0;
  int64_t n = 1;
  for (int64_t d : ne)
    n *= d;
  return n;
}

std::string TensorInfo::shapeString() const {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i)
    s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

llvm::Expected<std::unique_ptr<GGUFFile>>
GGUFFile::fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  if (!buffer)
    return llvm::createStringError("GGUF: no buffer");
  std::unique_ptr<GGUFFile> file(new GGUFFile());
  file->buffer = std::move(buffer);
  GGUFParser parser(*file);
  if (llvm::Error err = parser.parse())
    return std::move(err);
  return std::move(file);
}

llvm::Expected<std::unique_ptr<GGUFFile>>
GGUFFile::openSingleFile(llvm::StringRef path) {
  // No null terminator: lets MemoryBuffer map the file instead of copying it.
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      qn::getInputFile(path, /*IsText=*/false,
                       /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   path + ": " + buffer.getError().message());
  return fromBuffer(std::move(*buffer));
}

/// gguf-split's name for part `i` (0-based) of `count`: "-%05d-of-%05d.gguf".
static std::string splitSuffix(uint64_t i, uint64_t count) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "-%05d-of-%05d.gguf", int(i + 1), int(count));
  return buf;
}

/// `split.no` / `split.count` of a file; {0, 1} when absent.
static std::pair<uint64_t, uint64_t> splitPosition(const GGUFFile &file) {
  uint64_t no = 0, count = 1;
  if (const Value *v = file.find("split.no"); v && v->asUInt())
    no = *v->asUInt();
  if (const Value *v = file.find("split.count"); v && v->asUInt())
    count = *v->asUInt();
  return {no, count};
}

llvm::Error GGUFFile::openShards(llvm::StringRef firstPath) {
  auto [no, count] = splitPosition(*this);
  if (count <= 1)
    return llvm::Error::success();
  if (count > 9999)
    return llvm::createStringError(
        llvm::formatv("{0}: split.count {1} is not plausible", firstPath, count)
            .str());
  const std::string suffix = splitSuffix(0, count);
  if (no != 0)
    return llvm::createStringError(
        llvm::formatv("{0}: this is part {1} of a {2}-part split model; open "
                      "the first part (...{3})",
                      firstPath, no + 1, count, suffix)
            .str());
  if (!firstPath.ends_with(suffix))
    return llvm::createStringError(
        (firstPath + ": split model (split.count " + llvm::Twine(count) +
         "), but the name does not end in '" + suffix +
         "', so the other parts cannot be found")
            .str());
  llvm::StringRef prefix = firstPath.drop_back(suffix.size());
  for (uint64_t i = 1; i < count; ++i) {
    std::string path = (prefix + splitSuffix(i, count)).str();
    auto shard = openSingleFile(path);
    if (!shard)
      return llvm::createStringError("split model part " + llvm::Twine(i + 1) +
                                     " of " + llvm::Twine(count) + ": " +
                                     llvm::toString(shard.takeError()));
    auto [shardNo, shardCount] = splitPosition(**shard);
    if (shardNo != i || shardCount != count)
      return llvm::createStringError(
          llvm::formatv("{0}: has split.no {1} / split.count {2}, expected "
                        "{3} / {4}",
                        path, shardNo, shardCount, i, count)
              .str());
    for (TensorInfo &t : (*shard)->tensorTable) {
      if (!tensorIndex.try_emplace(t.name, tensorTable.size()).second)
        return llvm::createStringError(path + ": tensor '" + t.name +
                                       "' is also in an earlier part");
      t.shard = static_cast<uint32_t>(i);
      tensorTable.push_back(t);
    }
    extraShards.push_back(std::move(*shard));
  }
  if (const Value *total = find("split.tensors.count"))
    if (std::optional<uint64_t> n = total->asUInt();
        n && *n != tensorTable.size())
      return llvm::createStringError(
          llvm::formatv("{0}: split.tensors.count is {1} but the {2} parts "
                        "hold {3} tensors",
                        firstPath, *n, count, tensorTable.size())
              .str());
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<GGUFFile>> GGUFFile::open(llvm::StringRef path) {
  auto file = openSingleFile(path);
  if (!file)
    return file.takeError();
  if (llvm::Error err = (*file)->openShards(path))
    return std::move(err);
  return std::move(*file);
}

std::vector<std::string> GGUFFile::filePaths() const {
  std::vector<std::string> paths{bufferIdentifier().str()};
  for (const auto &shard : extraShards)
    paths.push_back(shard->bufferIdentifier().str());
  return paths;
}

const Value *GGUFFile::find(llvm::StringRef key) const {
  auto it = kvIndex.find(key);
  return it == kvIndex.end() ? nullptr : &kvs[it->second].second;
}

const TensorInfo *GGUFFile::findTensor(llvm::StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorTable[it->second];
}

static llvm::Error missingKey(llvm::StringRef key) {
  return llvm::createStringError("missing metadata key '" + key + "'");
}

static llvm::Error wrongType(llvm::StringRef key, llvm::StringRef expected,
                             const Value &found) {
  return llvm::createStringError(
      llvm::formatv("metadata key '{0}': expected {1}, found {2} {3}", key,
                    expected, getValueTypeName(found.type()), found.toString(4))
          .str());
}

llvm::Expected<uint64_t> GGUFFile::getUInt(llvm::StringRef key) const {
  const Value *v = find(key);
  if (!v)
    return missingKey(key);
  if (std::optional<uint64_t> u = v->asUInt())
    return *u;
  return wrongType(key, "a non-negative integer", *v);
}

llvm::Expected<double> GGUFFile::getFloat(llvm::StringRef key) const {
  const Value *v = find(key);
  if (!v)
    return missingKey(key);
  if (std::optional<double> f = v->asFloat())
    return *f;
  return wrongType(key, "a number", *v);
}

llvm::Expected<llvm::StringRef> GGUFFile::getString(llvm::StringRef key) const {
  const Value *v = find(key);
  if (!v)
    return missingKey(key);
  if (std::optional<llvm::StringRef> s = v->asString())
    return *s;
  return wrongType(key, "a string", *v);
}

llvm::Expected<bool> GGUFFile::getBool(llvm::StringRef key) const {
  const Value *v = find(key);
  if (!v)
    return missingKey(key);
  if (std::optional<bool> b = v->asBool())
    return *b;
  return wrongType(key, "a bool", *v);
}

llvm::Expected<std::vector<llvm::StringRef>>
GGUFFile::getStringArray(llvm::StringRef key) const {
  const Value *v = find(key);
  if (!v)
    return missingKey(key);
  if (!v->isArray() || v->arrayElementType() != ValueType::String)
    return wrongType(key, "an array of strings", *v);
  std::vector<llvm::StringRef> out;
  out.reserve(v->arraySize());
  for (const Value &e : v->array())
    out.push_back(*e.asString());
  return out;
}

} // namespace qn::gguf

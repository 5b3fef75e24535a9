//===- GGUFWriter.cpp - write a GGUF v3 file ------------------------------===//

#include "gguf/GGUFWriter.h"

#include "support/OutputFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>

namespace qn::gguf {

GGUFWriter::GGUFWriter(uint64_t alignment)
    : alignment(llvm::isPowerOf2_64(alignment) ? alignment : 32) {}

void GGUFWriter::setValue(llvm::StringRef key, Value value) {
  for (auto &kv : kvs)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  kvs.emplace_back(key.str(), std::move(value));
}

llvm::Error GGUFWriter::checkTensor(llvm::StringRef name, GGMLType type,
                                    llvm::ArrayRef<int64_t> ne,
                                    size_t size) const {
  if (ne.empty() || ne.size() > 4)
    return llvm::createStringError(
        llvm::formatv("tensor '{0}': {1} dims, expected 1 to 4", name,
                      ne.size())
            .str());
  if (!isValidRowLength(type, ne[0]))
    return llvm::createStringError(
        llvm::formatv("tensor '{0}': row length {1} does not fit type id {2}",
                      name, ne[0], static_cast<uint32_t>(type))
            .str());
  uint64_t expected = rowBytes(type, ne[0]);
  for (size_t d = 1; d < ne.size(); ++d) {
    if (ne[d] < 0)
      return llvm::createStringError("tensor '" + name + "': negative dim");
    expected *= static_cast<uint64_t>(ne[d]);
  }
  if (size != expected)
    return llvm::createStringError(
        llvm::formatv("tensor '{0}': {1} bytes given, shape needs {2}", name,
                      size, expected)
            .str());
  for (const PendingTensor &t : tensors)
    if (t.name == name)
      return llvm::createStringError("duplicate tensor '" + name + "'");
  return llvm::Error::success();
}

llvm::Expected<GGUFWriter::PendingTensor &>
GGUFWriter::appendTensor(llvm::StringRef name, GGMLType type,
                         llvm::ArrayRef<int64_t> ne, size_t size) {
  if (llvm::Error err = checkTensor(name, type, ne, size))
    return std::move(err);
  PendingTensor &t = tensors.emplace_back();
  t.name = name.str();
  t.type = type;
  t.ne.assign(ne.begin(), ne.end());
  return t;
}

llvm::Error GGUFWriter::addTensor(llvm::StringRef name, GGMLType type,
                                  llvm::ArrayRef<int64_t> ne,
                                  llvm::ArrayRef<uint8_t> data) {
  llvm::Expected<PendingTensor &> t = appendTensor(name, type, ne, data.size());
  if (!t)
    return t.takeError();
  t->owned.assign(data.begin(), data.end());
  if (t->owned.empty())
    t->view = data; // zero-size tensor: nothing to keep alive
  return llvm::Error::success();
}

llvm::Error GGUFWriter::addTensorView(llvm::StringRef name, GGMLType type,
                                      llvm::ArrayRef<int64_t> ne,
                                      llvm::ArrayRef<uint8_t> data) {
  llvm::Expected<PendingTensor &> t = appendTensor(name, type, ne, data.size());
  if (!t)
    return t.takeError();
  t->view = data;
  return llvm::Error::success();
}

llvm::Error GGUFWriter::addTensorProduced(llvm::StringRef name, GGMLType type,
                                          llvm::ArrayRef<int64_t> ne,
                                          RowProducer produce) {
  // Validate the shape with the size it implies (checkTensor recomputes it).
  if (ne.empty() || ne.size() > 4 || !isValidRowLength(type, ne[0]))
    return checkTensor(name, type, ne, 0);
  uint64_t size = rowBytes(type, ne[0]);
  for (size_t d = 1; d < ne.size(); ++d)
    size *= static_cast<uint64_t>(std::max<int64_t>(ne[d], 0));
  llvm::Expected<PendingTensor &> t = appendTensor(name, type, ne, size);
  if (!t)
    return t.takeError();
  t->produce = std::move(produce);
  t->producedBytes = size;
  return llvm::Error::success();
}

void GGUFWriter::PendingTensor::forEachChunk(
    const std::function<void(llvm::ArrayRef<uint8_t>)> &sink) const {
  if (!produce) {
    sink(bytes());
    return;
  }
  const uint64_t rowSize = rowBytes(type, ne[0]);
  const int64_t rows =
      rowSize ? static_cast<int64_t>(producedBytes / rowSize) : 0;
  // About 64 MiB of rows per call bounds the memory of a streamed tensor.
  const int64_t chunkRows = std::max<int64_t>(
      1, static_cast<int64_t>((uint64_t(64) << 20) /
                              std::max<uint64_t>(rowSize, 1)));
  std::vector<uint8_t> buf;
  for (int64_t r = 0; r < rows; r += chunkRows) {
    int64_t end = std::min(rows, r + chunkRows);
    buf.assign(static_cast<size_t>(end - r) * rowSize, 0);
    produce(r, end, buf.data());
    sink(buf);
  }
}

llvm::Error GGUFWriter::addTensorF32(llvm::StringRef name,
                                     llvm::ArrayRef<int64_t> ne,
                                     llvm::ArrayRef<float> data) {
  return addTensor(
      name, GGMLType::F32, ne,
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(data.data()),
                              data.size() * sizeof(float)));
}

namespace {
template <typename T> void put(std::string &out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

void putString(std::string &out, llvm::StringRef s) {
  put<uint64_t>(out, s.size());
  out.append(s.data(), s.size());
}

void putValue(std::string &out, const Value &v) {
  switch (v.type()) {
  case ValueType::UInt8:
    return put<uint8_t>(out, static_cast<uint8_t>(*v.asUInt()));
  case ValueType::UInt16:
    return put<uint16_t>(out, static_cast<uint16_t>(*v.asUInt()));
  case ValueType::UInt32:
    return put<uint32_t>(out, static_cast<uint32_t>(*v.asUInt()));
  case ValueType::UInt64:
    return put<uint64_t>(out, *v.asUInt());
  case ValueType::Int8:
    return put<int8_t>(out, static_cast<int8_t>(*v.asInt()));
  case ValueType::Int16:
    return put<int16_t>(out, static_cast<int16_t>(*v.asInt()));
  case ValueType::Int32:
    return put<int32_t>(out, static_cast<int32_t>(*v.asInt()));
  case ValueType::Int64:
    return put<int64_t>(out, *v.asInt());
  case ValueType::Float32:
    return put<float>(out, static_cast<float>(*v.asFloat()));
  case ValueType::Float64:
    return put<double>(out, *v.asFloat());
  case ValueType::Bool:
    return put<uint8_t>(out, *v.asBool() ? 1 : 0);
  case ValueType::String:
    return putString(out, *v.asString());
  case ValueType::Array:
    put<uint32_t>(out, static_cast<uint32_t>(v.arrayElementType()));
    put<uint64_t>(out, v.arraySize());
    for (const Value &e : v.array())
      putValue(out, e);
    return;
  }
}
} // namespace

std::string GGUFWriter::header() const {
  std::vector<std::pair<std::string, Value>> allKVs = kvs;
  bool hasAlignmentKey = false;
  for (const auto &kv : kvs)
    hasAlignmentKey |= kv.first == "general.alignment";
  if (!hasAlignmentKey && alignment != 32)
    allKVs.emplace_back("general.alignment",
                        Value::makeUInt(ValueType::UInt32, alignment));

  std::string out;
  put<uint32_t>(out, 0x46554747); // "GGUF"
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors.size());
  put<uint64_t>(out, allKVs.size());
  for (const auto &kv : allKVs) {
    putString(out, kv.first);
    put<uint32_t>(out, static_cast<uint32_t>(kv.second.type()));
    putValue(out, kv.second);
  }
  uint64_t offset = 0;
  for (const PendingTensor &t : tensors) {
    putString(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne)
      put<int64_t>(out, d);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset = llvm::alignTo(offset + t.size(), alignment);
  }
  out.resize(llvm::alignTo(out.size(), alignment), '\0');
  return out;
}

std::string GGUFWriter::serialize() const {
  std::string out = header();
  for (const PendingTensor &t : tensors) {
    t.forEachChunk([&](llvm::ArrayRef<uint8_t> bytes) {
      out.append(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    });
    out.resize(llvm::alignTo(out.size(), alignment), '\0');
  }
  return out;
}

llvm::Error GGUFWriter::writeFile(llvm::StringRef path,
                                  llvm::ArrayRef<std::string> inputs) const {
  return support::writeFileAtomically(path, inputs, [&](llvm::raw_ostream &os) {
    os << header();
    static const char zeros[256] = {};
    for (const PendingTensor &t : tensors) {
      t.forEachChunk([&](llvm::ArrayRef<uint8_t> bytes) {
        os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
      });
      uint64_t pad = llvm::alignTo(t.size(), alignment) - t.size();
      while (pad > 0) {
        uint64_t n = std::min<uint64_t>(pad, sizeof(zeros));
        os.write(zeros, n);
        pad -= n;
      }
    }
    return llvm::Error::success();
  });
}

} // namespace qn::gguf

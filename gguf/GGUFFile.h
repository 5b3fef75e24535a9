//===- GGUFFile.h - read-only view of a GGUF file ---------------*- C++ -*-===//
//
// Parses a GGUF (v2/v3) file: the metadata key/value table and the tensor
// table. Tensor data is not copied: `TensorInfo::data` points into the file,
// which `open` maps into memory. Every size and offset read from the file is
// checked, so a truncated or corrupt file gives an error naming the problem,
// never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_GGUFFILE_H
#define QN_GGUF_GGUFFILE_H

#include "gguf/GGMLType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qn::gguf {

/// GGUF metadata value types, numbered as the format stores them.
enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// "u32", "str", "arr", ... for messages.
llvm::StringRef getValueTypeName(ValueType type);

/// One metadata value. Arrays hold their elements (all of one type; arrays
/// of arrays are allowed by the format and kept as such).
class Value {
public:
  Value() = default;
  static Value makeUInt(ValueType type, uint64_t v); // UInt8..UInt64
  static Value makeInt(ValueType type, int64_t v);   // Int8..Int64
  static Value makeFloat(ValueType type, double v);  // Float32/Float64
  static Value makeBool(bool v);
  static Value makeString(std::string v);
  static Value makeArray(ValueType elementType, std::vector<Value> elements);

  ValueType type() const { return kind; }
  bool isInteger() const;
  bool isFloat() const {
    return kind == ValueType::Float32 || kind == ValueType::Float64;
  }
  bool isString() const { return kind == ValueType::String; }
  bool isArray() const { return kind == ValueType::Array; }

  /// An integer value that fits the result type; nullopt otherwise (wrong
  /// type or negative for asUInt / above INT64_MAX for asInt).
  std::optional<uint64_t> asUInt() const;
  std::optional<int64_t> asInt() const;
  /// A float value (integers convert too, as config keys are sometimes
  /// written either way).
  std::optional<double> asFloat() const;
  std::optional<bool> asBool() const;
  std::optional<llvm::StringRef> asString() const;

  /// Element type and elements of an array (Array only; empty otherwise).
  ValueType arrayElementType() const { return elemKind; }
  size_t arraySize() const { return elements.size(); }
  llvm::ArrayRef<Value> array() const { return elements; }

  /// Short human-readable form for dumps: scalars in full, strings quoted,
  /// arrays as "[u32 x 48]" plus the first few elements.
  std::string toString(size_t maxElements = 8) const;

private:
  ValueType kind = ValueType::UInt8;
  ValueType elemKind = ValueType::UInt8;
  union {
    uint64_t u;
    int64_t i;
    double f;
  } scalar = {0};
  std::string str;
  std::vector<Value> elements;
};

/// One entry of the tensor table.
struct TensorInfo {
  std::string name;
  GGMLType type = GGMLType::F32;
  /// ggml dims, ne[0] fastest. A GGUF stores 1 to 4 of them.
  llvm::SmallVector<int64_t, 4> ne;
  /// Offset of the data from the start of its file's data section.
  uint64_t offset = 0;
  /// Which file of a split model holds the data (0 for single files).
  uint32_t shard = 0;
  /// rowBytes(type, ne[0]) * ne[1] * ...
  uint64_t nbytes = 0;
  /// The data itself, inside the file's buffer.
  const uint8_t *data = nullptr;

  int64_t numElements() const;
  /// "{64, 1024}"-style shape for messages.
  std::string shapeString() const;
};

class GGUFFile {
public:
  /// Maps `path` and parses it. The error message starts with the path.
  /// A split model (llama.cpp's gguf-split: `split.count` > 1, files named
  /// `<prefix>-00001-of-0000N.gguf`) is opened from its first file: the other
  /// files are mapped too and their tensors join the table; metadata comes
  /// from the first file.
  static llvm::Expected<std::unique_ptr<GGUFFile>> open(llvm::StringRef path);
  /// Maps and parses exactly `path`, even if it is one part of a split model
  /// (for inspecting parts).
  static llvm::Expected<std::unique_ptr<GGUFFile>>
  openSingleFile(llvm::StringRef path);
  /// Parses a buffer already in memory (takes ownership). Tensor data must
  /// lie inside the buffer.
  static llvm::Expected<std::unique_ptr<GGUFFile>>
  fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer);

  uint32_t version() const { return fileVersion; }
  /// `general.alignment` (default 32): data-section and tensor alignment.
  uint64_t alignment() const { return dataAlignment; }
  /// Byte offset of the data section from the start of the file.
  uint64_t dataOffset() const { return dataSectionOffset; }
  /// The path (or buffer name) the file was read from.
  llvm::StringRef bufferIdentifier() const {
    return buffer->getBufferIdentifier();
  }
  size_t fileSize() const { return buffer->getBufferSize(); }
  /// Number of files the tensors come from (1 unless split).
  size_t shardCount() const { return 1 + extraShards.size(); }
  /// The paths of those files, this one first: what an output must never
  /// overwrite while the tensors are mapped.
  std::vector<std::string> filePaths() const;
  /// The file's bytes (mapped or owned by this object).
  llvm::StringRef bytes() const { return buffer->getBuffer(); }

  /// nullptr if `key` is absent.
  const Value *find(llvm::StringRef key) const;
  /// Typed getters. The error names the key and says whether it is missing
  /// or of the wrong type / out of range.
  llvm::Expected<uint64_t> getUInt(llvm::StringRef key) const;
  llvm::Expected<double> getFloat(llvm::StringRef key) const;
  llvm::Expected<llvm::StringRef> getString(llvm::StringRef key) const;
  llvm::Expected<bool> getBool(llvm::StringRef key) const;
  llvm::Expected<std::vector<llvm::StringRef>>
  getStringArray(llvm::StringRef key) const;

  /// Metadata in file order.
  llvm::ArrayRef<std::pair<std::string, Value>> metadata() const { return kvs; }
  /// Tensors in file order.
  llvm::ArrayRef<TensorInfo> tensors() const { return tensorTable; }
  /// nullptr if there is no tensor called `name`.
  const TensorInfo *findTensor(llvm::StringRef name) const;

private:
  GGUFFile() = default;
  friend class GGUFParser;

  /// Opens shards 2..N of a split model whose first file is parsed.
  llvm::Error openShards(llvm::StringRef firstPath);

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  /// Shards 2..N of a split model (their tensors point into them).
  std::vector<std::unique_ptr<GGUFFile>> extraShards;
  uint32_t fileVersion = 0;
  uint64_t dataAlignment = 32;
  uint64_t dataSectionOffset = 0;
  std::vector<std::pair<std::string, Value>> kvs;
  llvm::StringMap<size_t> kvIndex;
  std::vector<TensorInfo> tensorTable;
  llvm::StringMap<size_t> tensorIndex;
};

} // namespace qn::gguf

#endif // QN_GGUF_GGUFFILE_H

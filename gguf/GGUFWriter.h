//===- GGUFWriter.h - write a GGUF v3 file ----------------------*- C++ -*-===//
//
// Builds a GGUF v3 file in memory from metadata values and tensor bytes. Used
// by tools that derive files (layout conversion, test models) and by tests
// that need small or deliberately broken files.
//
//===----------------------------------------------------------------------===//

#ifndef QN_GGUF_GGUFWRITER_H
#define QN_GGUF_GGUFWRITER_H

#include "gguf/GGMLType.h"
#include "gguf/GGUFFile.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qn::gguf {

class GGUFWriter {
public:
  /// `alignment` must be a power of two; it is written as
  /// `general.alignment` only when it differs from the default 32.
  explicit GGUFWriter(uint64_t alignment = 32);

  /// Adds (or replaces) a metadata entry; file order is insertion order.
  void setValue(llvm::StringRef key, Value value);

  /// Adds a tensor; `data` must hold exactly rowBytes(type, ne[0]) * ne[1] *
  /// ... bytes, and ne must have 1 to 4 positive dims. The bytes are copied.
  llvm::Error addTensor(llvm::StringRef name, GGMLType type,
                        llvm::ArrayRef<int64_t> ne,
                        llvm::ArrayRef<uint8_t> data);
  /// Like addTensor, but the bytes are not copied: they must stay valid until
  /// the last serialize/writeFile call (e.g. a tensor of a mapped input file).
  llvm::Error addTensorView(llvm::StringRef name, GGMLType type,
                            llvm::ArrayRef<int64_t> ne,
                            llvm::ArrayRef<uint8_t> data);
  /// Writes rows [begin, end) of a produced tensor (outer dims flattened)
  /// into `dst` (rowBytes(type, ne[0]) * (end - begin) bytes).
  using RowProducer =
      std::function<void(int64_t begin, int64_t end, uint8_t *dst)>;
  /// Like addTensor, but the bytes are made on demand, a bounded chunk of
  /// rows at a time, while the file is written: a model far larger than the
  /// memory it may use can be streamed to disk. `produce` must be
  /// deterministic (serialize and writeFile may each call it).
  llvm::Error addTensorProduced(llvm::StringRef name, GGMLType type,
                                llvm::ArrayRef<int64_t> ne,
                                RowProducer produce);
  /// Convenience for F32 tensors.
  llvm::Error addTensorF32(llvm::StringRef name, llvm::ArrayRef<int64_t> ne,
                           llvm::ArrayRef<float> data);

  /// The file's bytes.
  std::string serialize() const;
  /// Streams the file to `path` (tensor bytes are not gathered in memory)
  /// through support::OutputFile: refused when `path` is one of `inputs`
  /// (the files the tensors come from), written to a temporary and renamed
  /// over `path` only when complete.
  llvm::Error writeFile(llvm::StringRef path,
                        llvm::ArrayRef<std::string> inputs = {}) const;

private:
  struct PendingTensor {
    std::string name;
    GGMLType type = GGMLType::F32;
    llvm::SmallVector<int64_t, 4> ne;
    std::vector<uint8_t> owned; // empty for views
    llvm::ArrayRef<uint8_t> view;
    RowProducer produce; // set for produced tensors (owned/view unused)
    uint64_t producedBytes = 0;
    uint64_t size() const { return produce ? producedBytes : bytes().size(); }
    /// Calls `sink` with the tensor's bytes, in chunks for produced ones.
    void forEachChunk(
        const std::function<void(llvm::ArrayRef<uint8_t>)> &sink) const;
    llvm::ArrayRef<uint8_t> bytes() const {
      return owned.empty() ? view : llvm::ArrayRef<uint8_t>(owned);
    }
  };
  llvm::Error checkTensor(llvm::StringRef name, GGMLType type,
                          llvm::ArrayRef<int64_t> ne, size_t size) const;
  /// Checks a tensor of `size` bytes and appends its entry (name, type,
  /// shape) for the caller to attach the bytes to.
  llvm::Expected<PendingTensor &> appendTensor(llvm::StringRef name,
                                               GGMLType type,
                                               llvm::ArrayRef<int64_t> ne,
                                               size_t size);
  /// Everything before the data section, padded to the alignment.
  std::string header() const;
  uint64_t alignment;
  std::vector<std::pair<std::string, Value>> kvs;
  std::vector<PendingTensor> tensors;
};

} // namespace qn::gguf

#endif // QN_GGUF_GGUFWRITER_H

//===- Dump.cpp - named intermediates for diffing against the peer -------===//

#include "runtime/Dump.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

namespace qn::runtime {

void Dumper::operator()(const llvm::Twine &name, const float *data,
                        int64_t n) const {
  if (!enabled())
    return;
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, name + ".f32");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    llvm::errs() << "qn: cannot write dump " << path << ": " << ec.message()
                 << "\n";
    return;
  }
  os.write(reinterpret_cast<const char *>(data), sizeof(float) * n);
}

void Dumper::strided(const llvm::Twine &name, const float *data, int64_t rows,
                     int64_t cols, int64_t stride) const {
  if (!enabled())
    return;
  std::vector<float> packed(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      packed[r * cols + c] = data[r * stride + c];
  (*this)(name, packed.data(), rows * cols);
}

} // namespace qn::runtime

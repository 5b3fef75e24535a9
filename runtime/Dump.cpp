//===- Dump.cpp - named intermediates for diffing against the peer -------===//

#include "runtime/Dump.h"

#include "support/OutputFile.h"

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
  llvm::Error err =
      support::writeFileAtomically(path, {}, [&](llvm::raw_ostream &os) {
        os.write(reinterpret_cast<const char *>(data), sizeof(float) * n);
        return llvm::Error::success();
      });
  if (!err)
    return;
  std::string message = "dump " + llvm::toString(std::move(err));
  if (!firstError)
    llvm::errs() << "qn: " << message << "\n";
  else if (firstError->empty())
    *firstError = std::move(message);
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

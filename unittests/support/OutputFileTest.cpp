//===- OutputFileTest.cpp - the output discipline of support/OutputFile ---===//
//
// Each test works in its own temporary directory: an output that is an input
// (by any path) is refused, nothing appears under the final name before
// commit, an uncommitted or failed output leaves the old file intact and no
// temporary behind, and write errors are errors that name the path.
//
//===----------------------------------------------------------------------===//

#include "support/OutputFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

using qn::support::OutputFile;

namespace {

class OutputFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("qn-output", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  std::string path(llvm::StringRef name) const {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
  void write(llvm::StringRef name, llvm::StringRef text) const {
    std::error_code ec;
    llvm::raw_fd_ostream os(path(name), ec);
    ASSERT_FALSE(ec);
    os << text;
  }
  std::string read(llvm::StringRef name) const {
    auto buf = llvm::MemoryBuffer::getFile(path(name));
    return buf ? (*buf)->getBuffer().str() : "<missing>";
  }
  /// Names in the directory (temporaries are hidden files: listed too).
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      names.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(names.begin(), names.end());
    return names;
  }

  llvm::SmallString<128> dir;
};

std::string message(llvm::Error err) { return llvm::toString(std::move(err)); }

TEST_F(OutputFileTest, RefusesAnInputByAnyName) {
  write("m.gguf", "model");
  ASSERT_FALSE(llvm::sys::fs::create_link(path("m.gguf"), path("link.gguf")));
  ASSERT_FALSE(
      llvm::sys::fs::create_hard_link(path("m.gguf"), path("hard.gguf")));
  const std::vector<std::string> inputs = {"", "-", path("m.gguf")};
  llvm::SmallString<256> dotted(dir);
  llvm::sys::path::append(dotted, ".", "m.gguf");
  for (const std::string &out : {path("m.gguf"), path("link.gguf"),
                                 path("hard.gguf"), dotted.str().str()}) {
    auto file = OutputFile::create(out, inputs);
    ASSERT_FALSE(static_cast<bool>(file)) << out;
    std::string msg = message(file.takeError());
    EXPECT_NE(msg.find("is the same file as the input"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find(out), std::string::npos) << msg;
  }
  EXPECT_EQ(read("m.gguf"), "model");
  // Nothing was opened: no temporary left either.
  EXPECT_EQ(entries(),
            (std::vector<std::string>{"hard.gguf", "link.gguf", "m.gguf"}));
  // Another file is fine.
  EXPECT_FALSE(static_cast<bool>(
      qn::support::checkNotAnInput(path("other.gguf"), inputs)));
}

TEST_F(OutputFileTest, NothingUnderTheFinalNameBeforeCommit) {
  write("out.f32", "old");
  {
    auto file = OutputFile::create(path("out.f32"), {});
    ASSERT_TRUE(static_cast<bool>(file)) << message(file.takeError());
    file->os() << "new contents";
    file->os().flush();
    EXPECT_EQ(read("out.f32"), "old");
    ASSERT_FALSE(static_cast<bool>(file->commit()));
  }
  EXPECT_EQ(read("out.f32"), "new contents");
  EXPECT_EQ(entries(), (std::vector<std::string>{"out.f32"}));
}

TEST_F(OutputFileTest, AnUncommittedOutputLeavesTheOldFileAndNoTemporary) {
  write("out.f32", "old");
  {
    auto file = OutputFile::create(path("out.f32"), {});
    ASSERT_TRUE(static_cast<bool>(file));
    file->os() << std::string(1 << 20, 'x'); // more than the buffer
    EXPECT_EQ(entries().size(), 2u);         // the old file + the temporary
  }                                          // dropped: a failed run
  EXPECT_EQ(read("out.f32"), "old");
  EXPECT_EQ(entries(), (std::vector<std::string>{"out.f32"}));
  // A callback that fails commits nothing either.
  llvm::Error err = qn::support::writeFileAtomically(
      path("out.f32"), {}, [](llvm::raw_ostream &os) {
        os << "half";
        return llvm::createStringError("the producer failed");
      });
  EXPECT_EQ(message(std::move(err)), "the producer failed");
  EXPECT_EQ(read("out.f32"), "old");
  EXPECT_EQ(entries(), (std::vector<std::string>{"out.f32"}));
}

TEST_F(OutputFileTest, WriteErrorsNameThePathAndTheReason) {
  if (!llvm::sys::fs::exists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  auto file = OutputFile::create("/dev/full", {});
  ASSERT_TRUE(static_cast<bool>(file)) << message(file.takeError());
  file->os() << std::string(1 << 16, 'x');
  EXPECT_EQ(message(file->commit()),
            "cannot write '/dev/full': No space left on device");

  auto missing = OutputFile::create(path("no/such/dir/out.f32"), {});
  ASSERT_FALSE(static_cast<bool>(missing));
  std::string msg = message(missing.takeError());
  EXPECT_NE(msg.find("cannot write '" + path("no/such/dir/out.f32") + "'"),
            std::string::npos)
      << msg;

  auto isDir = OutputFile::create(dir, {});
  ASSERT_FALSE(static_cast<bool>(isDir));
  EXPECT_NE(message(isDir.takeError()).find("Is a directory"),
            std::string::npos);
}

TEST_F(OutputFileTest, FollowsALinkToItsTargetAndKeepsPermissions) {
  write("target.f32", "old");
  ASSERT_FALSE(llvm::sys::fs::setPermissions(path("target.f32"),
                                             llvm::sys::fs::perms(0640)));
  ASSERT_FALSE(llvm::sys::fs::create_link("target.f32", path("link.f32")));
  ASSERT_FALSE(static_cast<bool>(qn::support::writeFileAtomically(
      path("link.f32"), {}, [](llvm::raw_ostream &os) {
        os << "new";
        return llvm::Error::success();
      })));
  EXPECT_EQ(read("target.f32"), "new");
  EXPECT_TRUE(llvm::sys::fs::is_symlink_file(path("link.f32")));
  llvm::sys::fs::file_status st;
  ASSERT_FALSE(llvm::sys::fs::status(path("target.f32"), st));
  EXPECT_EQ(st.permissions(), llvm::sys::fs::perms(0640));
}

TEST_F(OutputFileTest, ReplaceModeReplacesLinksAndSpecialFiles) {
  ASSERT_FALSE(llvm::sys::fs::create_link("/dev/zero", path("entry.o")));
  ASSERT_FALSE(static_cast<bool>(qn::support::writeFileAtomically(
      path("entry.o"), {},
      [](llvm::raw_ostream &os) {
        os << "object";
        return llvm::Error::success();
      },
      OutputFile::Links::Replace)));
  EXPECT_FALSE(llvm::sys::fs::is_symlink_file(path("entry.o")));
  EXPECT_EQ(read("entry.o"), "object");
}

} // namespace

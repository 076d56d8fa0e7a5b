// Helpers shared by the test binaries: temporary folders and where the built apps and the
// source tree are.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace rl::test {

// A fresh, empty folder `<temp>/rlcade_<tag>_<pid>_<n>`, removed with everything in it when
// the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") : path(make_path(tag)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }

  const std::filesystem::path path;

 private:
  static std::filesystem::path make_path(const std::string& tag) {
    static std::atomic<int> counter{0};
    return std::filesystem::temp_directory_path() /
           ("rlcade_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  }
};

// The folder of the built apps: $RLCADE_BIN_DIR, else the test binary's own folder (tests are
// built next to the apps).
inline std::filesystem::path bin_dir() {
  if (const char* dir = std::getenv("RLCADE_BIN_DIR")) return dir;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}

// The source tree: $RLCADE_SOURCE_DIR, else the one the tests were built from.
inline std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("RLCADE_SOURCE_DIR")) return dir;
  return RLCADE_SOURCE_DIR;
}

}  // namespace rl::test

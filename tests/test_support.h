// Helpers shared by the test binaries: temporary folders and where the built apps and the
// source tree are.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

extern char** environ;

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

// The source tree the tests were built from (defined in doctest_main.cpp, the one test
// source compiled with the path, so that the others stay cacheable across checkouts).
const char* built_source_dir();

// The source tree: $RLCADE_SOURCE_DIR, else the one the tests were built from.
inline std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("RLCADE_SOURCE_DIR")) return dir;
  return built_source_dir();
}

// Starts `program` with `args` (argv[0] is added), stdout and stderr both into `log`, with this
// process's environment, minus DISPLAY when `keep_display` is false. Returns the child's pid,
// or -1 when it could not be started.
inline pid_t spawn_logged(const std::string& program, std::vector<std::string> args,
                          const std::filesystem::path& log, bool keep_display = true) {
  args.insert(args.begin(), program);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (keep_display || std::string(*e).rfind("DISPLAY=", 0) != 0) env_strings.push_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return spawned == 0 ? pid : -1;
}

}  // namespace rl::test

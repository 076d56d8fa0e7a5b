// Runs a built app (rltrain, rlserve, ...) through the shell, as a user would, and collects
// its exit code and output.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "test_support.h"

namespace rl::test {

struct AppResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// Runs `app` from the apps folder with `args` (already shell-safe) in `cwd`; `prefix` goes
// before the command (e.g. "env PATH=... ").
inline AppResult run_app(const std::string& app, const std::string& args,
                         const std::filesystem::path& cwd = std::filesystem::temp_directory_path(),
                         const std::string& prefix = "") {
  const std::string command = "cd '" + cwd.string() + "' && " + prefix + "'" +
                              (bin_dir() / app).string() + "' " + args + " 2>&1";
  AppResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace rl::test

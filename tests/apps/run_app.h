// Runs a built app (rltrain, rlserve, ...) through the shell, as a user would, and collects
// its exit code and output.
#pragma once

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "test_support.h"

namespace rl::test {

struct AppResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// Runs a shell command (stderr joined to stdout) and collects its exit code and output.
inline AppResult run_command(const std::string& command) {
  AppResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs `app` from the apps folder with `args` (already shell-safe) in `cwd`; `prefix` goes
// before the command (e.g. "env PATH=... ").
inline AppResult run_app(const std::string& app, const std::string& args,
                         const std::filesystem::path& cwd = std::filesystem::temp_directory_path(),
                         const std::string& prefix = "") {
  return run_command("cd '" + cwd.string() + "' && " + prefix + "'" + (bin_dir() / app).string() +
                     "' " + args + " 2>&1");
}

// 'path', for the shell (test paths hold no quote). Built by appends: GCC 12 warns falsely
// (-Wrestrict) on "'" + a temporary string.
inline std::string shell_quoted(const std::filesystem::path& path) {
  std::string quoted(1, '\'');
  quoted += path.native();
  quoted += '\'';
  return quoted;
}

// Starts a long DQN CartPole run in `run`, waits until training is under way (metrics rows
// appear), sends `signal` and returns the exit status; the output goes to `log`.
inline int interrupt_training(const std::filesystem::path& run, int signal,
                              const std::filesystem::path& log) {
  const std::string config = (source_dir() / "configs" / "dqn.yaml").string();
  const pid_t pid = spawn_logged(
      (bin_dir() / "rltrain").string(),
      {config, "--out", run.string(), "--set", "train.total_steps=100000000", "--set",
       "train.log_every=100", "--set", "train.eval_every=0", "--set", "train.eval_episodes=2"},
      log);
  REQUIRE(pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const std::filesystem::path metrics = run / "metrics.csv";
  while (std::chrono::steady_clock::now() < deadline &&
         !(std::filesystem::exists(metrics) && std::filesystem::file_size(metrics) > 300)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(::kill(pid, signal) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace rl::test

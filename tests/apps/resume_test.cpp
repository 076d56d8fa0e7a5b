// Runs the rltrain binary through what stops or damages a run: SIGTERM (as clusters stop
// jobs), corrupt or truncated checkpoints (--resume and --evaluate fall back to the newest
// valid one), injected write failures while checkpointing or logging, and checkpoints from a
// newer format version.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::contains;
using test::TempDir;
using Result = test::AppResult;

Result rltrain(const std::string& args, const std::string& env_prefix = "") {
  return test::run_app("rltrain", args, fs::temp_directory_path(), env_prefix);
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

double summary_number(const fs::path& run, const std::string& key) {
  return json::parse(read_file((run / "summary.json").string())).find(key)->as_number();
}

// Starts a long DQN CartPole run in `run`, waits until training is under way (metrics rows
// appear), sends `signal` and returns the exit status; the output goes to `log`.
int interrupt_training(const fs::path& run, int signal, const fs::path& log) {
  const std::string config = (test::source_dir() / "configs" / "dqn.yaml").string();
  const pid_t pid = test::spawn_logged(
      (test::bin_dir() / "rltrain").string(),
      {config, "--out", run.string(), "--set", "train.total_steps=100000000", "--set",
       "train.log_every=100", "--set", "train.eval_every=0", "--set", "train.eval_episodes=2"},
      log);
  REQUIRE(pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const fs::path metrics = run / "metrics.csv";
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(metrics) && fs::file_size(metrics) > 300)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(::kill(pid, signal) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

TEST_CASE("rltrain: SIGTERM saves a checkpoint, exits 143, and --resume continues from it") {
  TempDir dir("sigterm");
  const fs::path run = dir.path / "run";
  const int status = interrupt_training(run, SIGTERM, dir.path / "log.txt");
  const std::string output = read_file((dir.path / "log.txt").string());
  CAPTURE(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(contains(output, "checkpoint saved"));
  CHECK(contains(output, "rltrain --resume " + run.string()));
  REQUIRE(fs::exists(run / "checkpoints" / "latest.pt"));
  const auto stopped_at = static_cast<int64_t>(summary_number(run, "total_steps"));
  CHECK(stopped_at > 0);

  const Result resumed = rltrain("--resume " + quoted(run) +
                                 " --set train.total_steps=" + std::to_string(stopped_at + 300));
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.output, "at step " + std::to_string(stopped_at)));
  CHECK(summary_number(run, "total_steps") == stopped_at + 300);
}

}  // namespace
}  // namespace rl

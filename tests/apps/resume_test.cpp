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
using test::interrupt_training;
using test::shell_quoted;
using test::TempDir;
using Result = test::AppResult;

Result rltrain(const std::string& args, const std::string& env_prefix = "") {
  return test::run_app("rltrain", args, fs::temp_directory_path(), env_prefix);
}

double summary_number(const fs::path& run, const std::string& key) {
  return json::parse(read_file((run / "summary.json").string())).find(key)->as_number();
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

  const Result resumed = rltrain("--resume " + shell_quoted(run) +
                                 " --set train.total_steps=" + std::to_string(stopped_at + 300));
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.output, "at step " + std::to_string(stopped_at)));
  CHECK(summary_number(run, "total_steps") == stopped_at + 300);
}

// A finished short DQN CartPole run in `run` checkpointing every 100 steps.
void short_run(const fs::path& run, const std::string& extra = "") {
  const Result r = rltrain("dqn.yaml --out " + shell_quoted(run) +
                           " --set train.total_steps=400 --set train.eval_every=0"
                           " --set train.eval_episodes=1 --set train.checkpoint_every=100"
                           " --set agent.learning_starts=100" +
                           extra);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
}

void truncate_file(const fs::path& path) {
  const std::string bytes = read_file(path.string());
  write_file_atomic(path.string(), bytes.substr(0, bytes.size() - 5000));
}

void flip_bit(const fs::path& path) {
  std::string bytes = read_file(path.string());
  bytes[bytes.size() / 2] ^= 0x40;
  write_file_atomic(path.string(), bytes);
}

TEST_CASE("rltrain: --evaluate and --resume fall back from a corrupt latest.pt, naming both") {
  TempDir dir("corrupt_latest");
  const fs::path run = dir.path / "run";
  short_run(run);
  const fs::path checkpoints = run / "checkpoints";
  const std::string latest = (checkpoints / "latest.pt").string();
  for (const auto& damage : {truncate_file, flip_bit}) {
    damage(latest);
    const Result evaluated = rltrain("--evaluate " + shell_quoted(latest) + " --episodes 1");
    CAPTURE(evaluated.output);
    CHECK(evaluated.exit_code == 0);
    CHECK(contains(evaluated.output, "rltrain: " + latest + ": cannot read checkpoint: corrupt"));
    CHECK(contains(evaluated.output, "falling back to " +
                                         (checkpoints / "step_000000400.pt").string() +
                                         ", the newest valid checkpoint"));
    CHECK(contains(evaluated.output, "step 400"));
    CHECK(contains(evaluated.output, "eval over 1 episodes"));
  }
  flip_bit(checkpoints / "step_000000400.pt");
  const Result resumed = rltrain("--resume " + shell_quoted(run) + " --set train.total_steps=500");
  CAPTURE(resumed.output);
  CHECK(resumed.exit_code == 0);
  CHECK(contains(resumed.output, latest + ": cannot read checkpoint: corrupt"));
  CHECK(contains(resumed.output, "step_000000400.pt: cannot read checkpoint: corrupt: checksum"));
  CHECK(
      contains(resumed.output, "falling back to " + (checkpoints / "step_000000300.pt").string()));
  CHECK(contains(resumed.output, "at step 300"));
  CHECK(summary_number(run, "total_steps") == 500);
}

TEST_CASE("rltrain: with every checkpoint corrupt, --resume and --evaluate name them and fail") {
  TempDir dir("all_corrupt");
  const fs::path run = dir.path / "run";
  short_run(run, " --set train.keep_checkpoints=2");
  const fs::path checkpoints = run / "checkpoints";
  for (const char* name : {"latest.pt", "step_000000400.pt", "step_000000300.pt"}) {
    truncate_file(checkpoints / name);
  }
  for (const std::string& args :
       {"--resume " + shell_quoted(run), "--evaluate " + shell_quoted(checkpoints / "latest.pt")}) {
    const Result r = rltrain(args);
    CAPTURE(r.output);
    CHECK(r.exit_code == 1);
    CHECK(contains(r.output, "no valid checkpoint to load in place of " +
                                 (checkpoints / "latest.pt").string()));
    for (const char* name : {"latest.pt", "step_000000400.pt", "step_000000300.pt"}) {
      CHECK(
          contains(r.output, (checkpoints / name).string() + ": cannot read checkpoint: corrupt"));
    }
    CHECK_FALSE(contains(r.output, "terminate called"));
  }
  CHECK(contains(read_file((run / "summary.json").string()), "\"total_steps\":400"));
}

TEST_CASE("rltrain: a failed checkpoint write stops with a clear error; the last one is intact") {
  TempDir dir("write_failure");
  const fs::path run = dir.path / "run";
  const std::string args = "dqn.yaml --out " + shell_quoted(run) +
                           " --set train.total_steps=400 --set train.eval_every=0"
                           " --set train.eval_episodes=1 --set train.checkpoint_every=100"
                           " --set agent.learning_starts=100";
  // The third latest.pt write (step 300) fails as on a full disk.
  const Result r = rltrain(
      args, "env RLCADE_INJECT_WRITE_FAILURE=latest.pt RLCADE_INJECT_WRITE_FAILURE_AFTER=2 ");
  CAPTURE(r.output);
  CHECK(r.exit_code == 1);
  const fs::path latest = run / "checkpoints" / "latest.pt";
  CHECK(contains(r.output, "rltrain: error: cannot save checkpoint: cannot write " +
                               latest.string() + ": No space left on device"));
  CHECK(contains(r.output,
                 "training stopped at step 300; checkpoints/latest.pt (step 200) is "
                 "intact: continue with: rltrain --resume " +
                     run.string()));
  CHECK_FALSE(contains(r.output, "terminate called"));
  CHECK_FALSE(fs::exists(run / "summary.json"));
  for (const auto& entry : fs::directory_iterator(run / "checkpoints")) {
    CHECK_FALSE(contains(entry.path().filename().string(), ".tmp"));
  }
  const Result evaluated = rltrain("--evaluate " + shell_quoted(latest) + " --episodes 1");
  CHECK(contains(evaluated.output, "step 200"));
  const Result resumed = rltrain("--resume " + shell_quoted(run));
  CAPTURE(resumed.output);
  CHECK(resumed.exit_code == 0);
  CHECK(contains(resumed.output, "at step 200"));
  CHECK(summary_number(run, "total_steps") == 400);
}

TEST_CASE("rltrain: a failed metrics write stops with a clear error; the checkpoint is intact") {
  TempDir dir("log_failure");
  const fs::path run = dir.path / "run";
  // Every write to metrics.csv fails as on a full disk (/dev/full), from the first row on.
  fs::create_directories(run);
  fs::create_symlink("/dev/full", run / "metrics.csv");
  const Result r = rltrain("dqn.yaml --out " + shell_quoted(run) +
                           " --set train.total_steps=400 --set train.eval_every=0"
                           " --set train.checkpoint_every=100 --set train.log_every=150");
  CAPTURE(r.output);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "rltrain: error: cannot write to " + (run / "metrics.csv").string()));
  CHECK(contains(r.output,
                 "training stopped at step 150; checkpoints/latest.pt (step 100) is "
                 "intact"));
  CHECK_FALSE(contains(r.output, "terminate called"));
  CHECK(contains(
      rltrain("--evaluate " + shell_quoted(run / "checkpoints" / "latest.pt") + " --episodes 1")
          .output,
      "step 100"));
}

}  // namespace
}  // namespace rl

// rltrain --watch end to end, under the same Xvfb as the other render tests: a short training
// with the window open finishes and reports what the window showed; Ctrl-C still checkpoints;
// closing the window leaves training running; without a display it stops at the start with a
// clear error. Built when rltrain is.
#ifdef RLCADE_TEST_RLTRAIN

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/json.h"
#include "test_support.h"
#include "x11_window.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::bin_dir;
using test::TempDir;

std::string config_path(const std::string& name) {
  return (test::source_dir() / "configs" / name).string();
}

// Starts rltrain with `args`, stdout and stderr into `log`; `with_display` false drops DISPLAY.
pid_t spawn_rltrain(std::vector<std::string> args, const fs::path& log, bool with_display) {
  const pid_t pid =
      test::spawn_logged((bin_dir() / "rltrain").string(), std::move(args), log, with_display);
  REQUIRE(pid > 0);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// The numbers of "watch window: F frames, S env steps, R weight refreshes; N snapshots".
struct WatchLine {
  long frames = -1, steps = -1, refreshes = -1, snapshots = -1;
};

WatchLine parse_watch_line(const std::string& output) {
  static const std::regex pattern(
      R"(watch window: (\d+) frames, (\d+) env steps, (\d+) weight refreshes; (\d+) snapshots)");
  std::smatch m;
  WatchLine line;
  if (std::regex_search(output, m, pattern)) {
    line.frames = std::stol(m[1]);
    line.steps = std::stol(m[2]);
    line.refreshes = std::stol(m[3]);
    line.snapshots = std::stol(m[4]);
  }
  return line;
}

TEST_CASE("rltrain --watch: a short training with the window open finishes") {
  TempDir dir("short");
  const fs::path run = dir.path / "run";
  const fs::path log = dir.path / "log.txt";
  // 40k steps with an evaluation every 10k: the window gets the weights at the start and after
  // each evaluation, and plays CartPole all along. (6k steps once took seconds; on the engine
  // they took 0.2 s, over before the window showed its second frame.)
  const pid_t pid =
      spawn_rltrain({config_path("dqn_cartpole.yaml"), "--out", run.string(), "--set",
                     "train.total_steps=40000", "--set", "train.eval_every=10000", "--watch"},
                    log, true);
  const int code = wait_exit(pid);
  const std::string output = read_file(log.string());
  CAPTURE(output);
  REQUIRE(code == 0);
  const WatchLine line = parse_watch_line(output);
  CHECK(line.frames > 0);
  CHECK(line.steps > 0);
  CHECK(line.snapshots >= 5);  // Start and 4 evaluations, plus one every 2 s.
  CHECK(line.refreshes >= 1);
  CHECK(line.refreshes <= line.snapshots);
  CHECK(output.find("closed before the end") == std::string::npos);
  CHECK(fs::exists(run / "checkpoints" / "final.pt"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 40000);
  CHECK(summary.find("interrupted")->as_bool() == false);
}

TEST_CASE("rltrain --watch: Ctrl-C with the window open still checkpoints") {
  TempDir dir("sigint");
  const fs::path run = dir.path / "run";
  const fs::path log = dir.path / "log.txt";
  const pid_t pid =
      spawn_rltrain({config_path("dqn_cartpole.yaml"), "--out", run.string(), "--set",
                     "train.total_steps=100000000", "--set", "train.log_every=100", "--set",
                     "train.eval_every=0", "--set", "train.stop_when_solved=false", "--watch"},
                    log, true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const fs::path metrics = run / "metrics.csv";
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(metrics) && fs::file_size(metrics) > 300)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(::kill(pid, SIGINT) == 0);
  const int code = wait_exit(pid);
  const std::string output = read_file(log.string());
  CAPTURE(output);
  CHECK(code == 130);
  CHECK(output.find("checkpoint saved") != std::string::npos);
  CHECK(parse_watch_line(output).frames > 0);
  CHECK(fs::exists(run / "checkpoints" / "latest.pt"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("interrupted")->as_bool());
}

TEST_CASE("rltrain --watch: closing the window does not stop training") {
  TempDir dir("close");
  const fs::path run = dir.path / "run";
  const fs::path log = dir.path / "log.txt";
  const pid_t pid =
      spawn_rltrain({config_path("dqn_cartpole.yaml"), "--out", run.string(), "--set",
                     "train.total_steps=100000000", "--set", "train.log_every=100", "--set",
                     "train.eval_every=0", "--set", "train.stop_when_solved=false", "--watch"},
                    log, true);
  const fs::path metrics = run / "metrics.csv";
  auto metrics_size = [&] { return fs::exists(metrics) ? fs::file_size(metrics) : 0; };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline && metrics_size() <= 300)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The close button, as the window manager delivers it.
  const std::string title = "rltrain --watch - dqn_cartpole";
  CHECK(render::testing::request_window_close(title));
  // The watcher runs at a low priority: on a loaded machine it may take a while to react.
  const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < close_deadline && render::testing::window_exists(title))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(!render::testing::window_exists(title));
  const auto size_after_close = metrics_size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  int status = 0;
  CHECK(::waitpid(pid, &status, WNOHANG) == 0);  // Still training...
  CHECK(metrics_size() > size_after_close);      // ... and still writing metrics.
  REQUIRE(::kill(pid, SIGINT) == 0);
  const int code = wait_exit(pid);
  const std::string output = read_file(log.string());
  CAPTURE(output);
  CHECK(code == 130);
  CHECK(output.find("closed before the end of training") != std::string::npos);
  CHECK(output.find("; watch window:") == std::string::npos);  // Closed, not failed.
  CHECK(output.find("checkpoint saved") != std::string::npos);
  CHECK(fs::exists(run / "checkpoints" / "latest.pt"));
}

TEST_CASE("rltrain --watch: without a display it stops at the start with a clear error") {
  TempDir dir("nodisplay");
  const fs::path run = dir.path / "run";
  const fs::path log = dir.path / "log.txt";
  const pid_t pid = spawn_rltrain(
      {config_path("dqn_cartpole.yaml"), "--out", run.string(), "--watch"}, log, false);
  const int code = wait_exit(pid);
  const std::string output = read_file(log.string());
  CAPTURE(output);
  CHECK(code == 2);
  CHECK(output.find("rltrain: --watch: cannot open a window: no X display") != std::string::npos);
  CHECK(output.find("xvfb-run") != std::string::npos);
  CHECK(!fs::exists(run));  // Nothing trained, nothing written.
}

}  // namespace
}  // namespace rl

#endif  // RLCADE_TEST_RLTRAIN

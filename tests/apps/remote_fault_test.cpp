// rltrain against an rlserve killed mid-training (the remote env's reconnect_attempts,
// docs/protocol.md "When the server goes away"). Restarted on the same port: training
// reconnects, the episodes in flight are truncated (metrics.csv shows them) and the run
// finishes. Not restarted: rltrain exits 1 within the backoff budget with a checkpoint and an
// error naming the address, and --resume continues once a server is back. Without
// reconnect_attempts it stops at once, with a checkpoint too; a hung server costs no more than
// the deadlines.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "envs/remote/connection.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using test::contains;

// Pendulum as served here: every episode is exactly this long (a truncation by the step limit)
// unless a lost connection cuts it.
constexpr int kEpisodeSteps = 100;
constexpr int kTotalSteps = 12000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Waits up to 60 s for `done`, checking every 20 ms; false on timeout.
template <typename Condition>
bool wait_until(Condition done) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string text_of(const fs::path& file) {
  return fs::exists(file) ? read_file(file.string()) : "";
}

// An rlserve process serving Pendulum on `port`; kill() (or the destructor) sends SIGKILL.
class ServerProcess {
 public:
  ServerProcess(uint16_t port, const fs::path& log) {
    pid_ = test::spawn_logged((test::bin_dir() / "rlserve").string(),
                              {"classic/pendulum-v1", "--port", std::to_string(port), "--param",
                               "max_episode_steps=" + std::to_string(kEpisodeSteps)},
                              log);
    REQUIRE(pid_ > 0);
    const bool serving = wait_until([&] { return contains(text_of(log), "rlserve: serving"); });
    CAPTURE(text_of(log));
    REQUIRE(serving);
  }
  ~ServerProcess() { kill(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGSTOP: the server keeps its sockets but answers nothing (a hung server).
  void pause() { REQUIRE(::kill(pid_, SIGSTOP) == 0); }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A small PPO run on the remote Pendulum at `port`, 2 envs (2 connections). With
// reconnect_attempts < 0 the reconnect parameters are left out (their defaults: no reconnect).
// `more_params` is added to the env's parameters.
fs::path write_config(const fs::path& dir, uint16_t port, int reconnect_attempts,
                      const std::string& more_params = "") {
  std::string params = "address: \"127.0.0.1:" + std::to_string(port) + "\"" + more_params;
  if (reconnect_attempts >= 0)
    params += ", reconnect_attempts: " + std::to_string(reconnect_attempts) +
              ", reconnect_backoff_ms: 100";
  const fs::path config = dir / "remote_ppo.yaml";
  std::ofstream(config) << "name: remote_fault\nseed: 3\n"
                        << "env: {id: remote, num_envs: 2, params: {" << params << "}}\n"
                        << "agent: {type: ppo, hidden: [32], num_steps: 256, update_epochs: 2, "
                           "num_minibatches: 4}\n"
                        << "train: {total_steps: " << kTotalSteps
                        << ", eval_every: 0, eval_episodes: 2, log_every: 1000}\n";
  return config;
}

// The train rows of metrics.csv: (step, length_mean).
std::vector<std::pair<double, double>> episode_lengths(const fs::path& run) {
  std::ifstream in(run / "metrics.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream names(line);
  for (std::string name; std::getline(names, name, ',');) header.push_back(name);
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t step = column("step"), length = column("length_mean");
  std::vector<std::pair<double, double>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (length < cells.size() && !cells[length].empty())
      rows.emplace_back(std::stod(cells[step]), std::stod(cells[length]));
  }
  return rows;
}

// How rltrain ended after its server failed.
struct Outcome {
  int exit_code = -1;
  double seconds = 0;  // From the failure to rltrain's exit.
  std::string output;
};

// Starts rltrain on `config` into `run` (output into `log`), waits until it has logged 3000
// steps (well before its end), calls `fail` (which kills or stops the server) and waits for
// rltrain to exit.
template <typename Fail>
Outcome train_through(const fs::path& config, const fs::path& run, const fs::path& log,
                      Fail&& fail) {
  const pid_t pid = test::spawn_logged((test::bin_dir() / "rltrain").string(),
                                       {config.string(), "--out", run.string()}, log);
  REQUIRE(pid > 0);
  const bool under_way = wait_until([&] { return episode_lengths(run).size() >= 3; });
  CAPTURE(text_of(log));
  REQUIRE(under_way);
  fail();
  const auto failed = Clock::now();
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), seconds_since(failed), text_of(log)};
}

// The step numbers K of every "connection lost during step K of an episode" in `output`.
std::vector<int> lost_steps(const std::string& output) {
  const std::regex lost("connection lost during step ([0-9]+) of an episode");
  std::vector<int> steps;
  for (std::sregex_iterator it(output.begin(), output.end(), lost), end; it != end; ++it)
    steps.push_back(std::stoi((*it)[1].str()));
  return steps;
}

int64_t summary_total_steps(const fs::path& run) {
  return static_cast<int64_t>(
      json::parse(read_file((run / "summary.json").string())).find("total_steps")->as_number());
}

uint16_t free_port() { return remote::Listener(remote::Endpoint{"127.0.0.1", 0}).port(); }

// A test's folder (the run, its log), a free port and an rlserve serving on it.
struct ServedRun {
  explicit ServedRun(const std::string& tag) : dir(tag), port(free_port()) { start_server(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  // (Re)starts rlserve on the same port, killing the running one first.
  void start_server() {
    server.reset();
    server.emplace(port, dir.path / ("serve" + std::to_string(++starts) + ".log"));
  }

  test::TempDir dir;
  const uint16_t port;
  const fs::path run = dir.path / "run";
  const fs::path log = dir.path / "train.log";
  std::optional<ServerProcess> server;
  int starts = 0;
};

TEST_CASE("remote faults: rlserve killed and restarted on the same port; training finishes") {
  ServedRun t("remote_restart");
  const Outcome outcome =
      train_through(write_config(t.dir.path, t.port, 8), t.run, t.log, [&] { t.start_server(); });
  const std::string& output = outcome.output;
  CAPTURE(output);
  REQUIRE(outcome.exit_code == 0);
  CHECK(contains(output, "remote env at " + t.address() + ": connection lost"));
  CHECK(contains(output, "reconnected (attempt "));
  CHECK(summary_total_steps(t.run) == kTotalSteps);

  // Every episode is kEpisodeSteps long except those cut by the lost connection at step K
  // (one per env, unless the connection was lost while resetting): the lowest length_mean
  // (over the last 20 episodes) is short by their missing steps over 20.
  double missing = 0;
  for (int k : lost_steps(output)) missing += kEpisodeSteps - k;
  const auto rows = episode_lengths(t.run);
  REQUIRE(rows.size() >= 10);
  double lowest = kEpisodeSteps;
  for (const auto& [step, length] : rows) lowest = std::min(lowest, length);
  CHECK(lowest == doctest::Approx(kEpisodeSteps - missing / 20));
  CHECK(rows[0].second == kEpisodeSteps);  // before the kill
}

TEST_CASE("remote faults: rlserve killed for good; exit 1 in the backoff budget, --resume later") {
  ServedRun t("remote_gone");
  const Outcome outcome =
      train_through(write_config(t.dir.path, t.port, 3), t.run, t.log, [&] { t.server.reset(); });
  const std::string& output = outcome.output;
  CAPTURE(output);
  CHECK(outcome.exit_code == 1);
  // Waits of 100 + 200 + 400 ms before the attempts; refused connections fail at once.
  CHECK(outcome.seconds >= 0.7);
  CHECK(outcome.seconds < 0.7 + 4.0);
  CHECK(contains(output, "rltrain: error: remote env at " + t.address() + ": connection lost"));
  CHECK(contains(output, "gave up after 3 reconnect attempts"));
  std::smatch stopped;
  REQUIRE(std::regex_search(output, stopped, std::regex("training stopped at step ([0-9]+)")));
  const std::string step = stopped[1].str();
  CHECK(std::stoi(step) >= 3000);
  CHECK(contains(output, "checkpoints/latest.pt (step " + step + ")"));
  CHECK(contains(output, "rltrain --resume " + t.run.string()));
  REQUIRE(fs::exists(t.run / "checkpoints" / "latest.pt"));

  t.start_server();
  const test::AppResult resumed = test::run_app("rltrain", "--resume " + test::shell_quoted(t.run));
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.output, "at step " + step));
  CHECK(summary_total_steps(t.run) == kTotalSteps);
}

TEST_CASE("remote faults: without reconnect_attempts a killed rlserve stops training at once") {
  ServedRun t("remote_no_reconnect");
  const Outcome outcome =
      train_through(write_config(t.dir.path, t.port, -1), t.run, t.log, [&] { t.server.reset(); });
  const std::string& output = outcome.output;
  CAPTURE(output);
  CHECK(outcome.exit_code == 1);
  CHECK(outcome.seconds < 4.0);
  CHECK(contains(output, "remote env at " + t.address() + ": connection lost"));
  CHECK(contains(output, "reconnect_attempts is 0"));
  CHECK_FALSE(contains(output, "reconnected"));
  CHECK(contains(output, "rltrain --resume " + t.run.string()));
  CHECK(fs::exists(t.run / "checkpoints" / "latest.pt"));
}

TEST_CASE("remote faults: a hung rlserve (SIGSTOP) costs at most the deadlines, then stops") {
  ServedRun t("remote_hung");
  const std::string deadlines =
      ", step_timeout_ms: 500, connect_timeout_ms: 500, handshake_timeout_ms: 500";
  const Outcome outcome = train_through(write_config(t.dir.path, t.port, 2, deadlines), t.run,
                                        t.log, [&] { t.server->pause(); });
  const std::string& output = outcome.output;
  CAPTURE(output);
  CHECK(outcome.exit_code == 1);
  // The step's 500 ms, waits of 100 + 200 ms, 2 handshakes of 500 ms (the stopped server's
  // kernel still completes TCP connects), the other env's CLOSE (500 ms), and slack.
  CHECK(outcome.seconds >= 0.5 + 0.3 + 1.0);
  CHECK(outcome.seconds < 2.3 + 4.0);
  CHECK(contains(output, "timed out after 500 ms"));
  CHECK(contains(output, "gave up after 2 reconnect attempts"));
  CHECK(fs::exists(t.run / "checkpoints" / "latest.pt"));
}

}  // namespace
}  // namespace rl

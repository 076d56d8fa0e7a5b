// The apps' command lines: the same --help layout, the same usage errors with exit code 2,
// and one KEY=VALUE rule for env parameters (max_episode_steps=1e3 is the integer 1000 in
// rltrain --set, rlwatch --param and rlserve --param alike). Also: a config without a name is
// named after its file.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agents/run_config.h"
#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/registry.h"
#include "core/replay_file.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::contains;
using test::run_app;

const std::vector<std::string> kApps = {"rltrain", "rlwatch",  "rlserve",
                                        "rlbench", "rlreport", "rlexport"};

TEST_CASE("cli: every app's --help has the same layout and states the exit codes") {
  for (const std::string& app : kApps) {
    CAPTURE(app);
    REQUIRE(fs::exists(test::bin_dir() / app));
    const test::AppResult r = run_app(app, "--help");
    CAPTURE(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.rfind("usage: " + app, 0) == 0);
    CHECK(contains(r.output, "options:\n  -h,--help"));
    CHECK(contains(r.output, "Exit codes: 0 done"));
    CHECK(contains(r.output, ", 2 bad arguments"));
    CHECK(run_app(app, "-h").output == r.output);
  }
}

TEST_CASE("cli: an unknown option or a missing value exits with 2 and names the flag") {
  const std::vector<std::string> value_flags = {"--out",  "--seed", "--port",
                                                "--seed", "--out",  "--out"};
  REQUIRE(value_flags.size() == kApps.size());
  for (size_t i = 0; i < kApps.size(); ++i) {
    const std::string& app = kApps[i];
    CAPTURE(app);
    test::AppResult r = run_app(app, "--frobnicate");
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output == app + ": unknown option '--frobnicate' (see " + app + " --help)\n");
    r = run_app(app, value_flags[i]);
    CHECK(r.exit_code == 2);
    CHECK(r.output == app + ": " + value_flags[i] + " needs a value (see " + app + " --help)\n");
  }
  struct Misuse {
    std::string app, args, message;
  };
  const std::vector<Misuse> misuses = {
      {"rlserve", "classic/cartpole-v1 --port 70000",
       "--port expects an integer in [0, 65535], got '70000'"},
      {"rlserve", "classic/cartpole-v1 extra", "unexpected argument 'extra'"},
      {"rlserve", "--check 127.0.0.1:1 --param max_episode_steps=3",
       "--param goes with an env to serve"},
      {"rlbench", "--steps 0", "--steps expects an integer >= 1, got '0'"},
      {"rlbench", "--seconds fast", "--seconds expects a positive number, got 'fast'"},
      {"rlwatch", "--fps 0", "--fps expects a number in (0, 10000], got '0'"},
  };
  for (const Misuse& misuse : misuses) {
    const test::AppResult r = run_app(misuse.app, misuse.args);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, misuse.app + ": " + misuse.message));
  }
}

TEST_CASE("cli: failures while running exit with 1, usage errors with 2, in every app") {
  // The scheme of core/command_line.h: 1 when the work started and failed (a file that cannot
  // be read, a missing program or script), 2 when the command line was wrong.
  test::TempDir dir("cli_exit_codes");
  struct Case {
    std::string app, args, prefix, message;
    int code;
  };
  const std::string missing_replay = test::shell_quoted(dir.file("missing.rlr"));
  const std::string mp4 = test::shell_quoted(dir.file("x.mp4"));
  const std::string no_ffmpeg = test::shell_quoted(dir.file("no-ffmpeg"));
  const std::string webm = test::shell_quoted(dir.file("x.webm"));
  const std::vector<Case> cases = {
      {"rlwatch", "--verify " + missing_replay, "", "cannot open", 1},
      {"rlwatch", missing_replay, "", "cannot open", 1},
      {"rlwatch", "--env classic/cartpole-v1 --export " + mp4 + " --ffmpeg " + no_ffmpeg, "",
       "is not an executable program", 1},
      {"rlwatch", "--env classic/cartpole-v1 --export " + webm, "", "unknown export format", 2},
      {"rlbench", "--case remote_python_client", "env RLCADE_SOURCE_DIR=/nonexistent ",
       "bench.py not found", 1},
      {"rlbench", "--case dqn_minatar_breakout --steps 10", "",
       "dqn_minatar_breakout needs --steps above", 2},
      {"rlbench", "--case env_steps --env classic/nope-v1", "", "classic/nope-v1", 2},
      {"rltrain", test::shell_quoted(dir.file("missing.yaml")), "", "not found", 2},
      {"rlserve", "--check 127.0.0.1:1", "", "cannot connect to 127.0.0.1:1", 1},
  };
  for (const Case& c : cases) {
    const test::AppResult r = run_app(c.app, c.args, fs::temp_directory_path(), c.prefix);
    CAPTURE(c.app + " " + c.args);
    CAPTURE(r.output);
    CHECK(r.exit_code == c.code);
    CHECK(contains(r.output, c.message));
  }
}

TEST_CASE("cli: an int parameter given 1.5 stops all three apps with the key and the value") {
  const std::vector<std::pair<std::string, std::string>> uses = {
      {"rltrain", "dqn_cartpole --set env.params.max_episode_steps=1.5"},
      {"rlwatch", "--env classic/cartpole-v1 --headless --param max_episode_steps=1.5"},
      {"rlserve", "classic/cartpole-v1 --param max_episode_steps=1.5"},
  };
  for (const auto& [app, args] : uses) {
    const test::AppResult r = run_app(app, args);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "max_episode_steps=1.5: "));
    CHECK(contains(r.output, "max_episode_steps: expected an integer"));
  }
}

TEST_CASE("cli: rltrain --set env.params.max_episode_steps=1e3 is the integer 1000") {
  test::TempDir dir("cli_rltrain");
  const fs::path run = dir.path / "run";
  const test::AppResult r =
      run_app("rltrain", "dqn_cartpole --out '" + run.string() +
                             "' --set env.params.max_episode_steps=1e3 --set train.total_steps=200"
                             " --set train.eval_every=0 --set train.eval_episodes=1"
                             " --set train.eval_max_steps=50 --set agent.learning_starts=100");
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(read_file((run / "config.yaml").string()), "max_episode_steps: 1000\n"));
}

TEST_CASE("cli: rlwatch --param max_episode_steps=1e3 is the integer 1000") {
  test::TempDir dir("cli_rlwatch");
  const std::string replay = dir.file("random.rlr");
  const test::AppResult r = run_app("rlwatch",
                                    "--env classic/cartpole-v1 --headless --param "
                                    "max_episode_steps=1e3 --record '" +
                                        replay + "'");
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  const Replay recorded = read_replay(replay);
  CHECK(recorded.max_episode_steps == 1000);
  CHECK(std::get<int64_t>(recorded.env_params.at("max_episode_steps")) == 1000);
}

// The "HOST:PORT" rlserve prints when it is listening, or "" after `timeout`.
std::string wait_for_address(const fs::path& log, std::chrono::seconds timeout) {
  const std::string marker = " on ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = fs::exists(log) ? read_file(log.string()) : "";
    const size_t at = text.find(marker);
    const size_t end = text.find(' ', at + marker.size());
    if (at != std::string::npos && end != std::string::npos)
      return text.substr(at + marker.size(), end - at - marker.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

TEST_CASE("cli: rlserve --param max_episode_steps=1e3 serves the integer 1000") {
  test::TempDir dir("cli_rlserve");
  const fs::path log = dir.path / "rlserve.log";
  const pid_t pid = test::spawn_logged(
      (test::bin_dir() / "rlserve").string(),
      {"classic/cartpole-v1", "--port", "0", "--param", "max_episode_steps=1e3"}, log);
  REQUIRE(pid > 0);
  const std::string address = wait_for_address(log, std::chrono::seconds(20));
  CAPTURE(read_file(log.string()));
  if (!address.empty()) {
    const auto env = EnvRegistry::global().make("remote", {{"address", address}});
    CHECK(env->spec().max_episode_steps == 1000);
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(!address.empty());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);  // stopped by SIGTERM, as every app reports it
}

TEST_CASE("config: a config without a name is named after its file") {
  const char kYaml[] = "env: {id: classic/cartpole-v1}\nagent: {type: dqn}\n";
  LoadedConfig loaded =
      read_run_config(ConfigDocument::parse(kYaml, "configs/my_run.yaml"), EnvRegistry::global());
  CHECK(loaded.run.name == "my_run");
  CHECK(contains(loaded.document.resolved_yaml(), "name: my_run"));
  LoadedConfig named = read_run_config(
      ConfigDocument::parse(std::string("name: other\n") + kYaml, "configs/my_run.yaml"),
      EnvRegistry::global());
  CHECK(named.run.name == "other");
}

}  // namespace
}  // namespace rl

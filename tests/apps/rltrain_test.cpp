// Runs the rltrain binary: a short smoke run of every shipped config, the command-line errors,
// --list, resume, --evaluate and a clean stop on Ctrl-C (SIGINT).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/config.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::bin_dir;
using test::source_dir;
using test::TempDir;

using Result = test::AppResult;
using test::contains;

// Runs rltrain with `args` (already shell-safe) in `cwd`.
Result rltrain(const std::string& args, const fs::path& cwd = fs::temp_directory_path()) {
  return test::run_app("rltrain", args, cwd);
}

json::Value read_summary(const fs::path& run) {
  return json::parse(read_file((run / "summary.json").string()));
}

void check_no_stack_trace(const Result& r) {
  CHECK_FALSE(contains(r.output, "frame #"));
  CHECK_FALSE(contains(r.output, "Exception raised from"));
  CHECK_FALSE(contains(r.output, "terminate called"));
}

// Overrides shrinking a config to a few hundred steps, with learning updates for DQN.
std::string smoke_overrides(const fs::path& config) {
  ConfigDocument document = ConfigDocument::load_file(config.string());
  ConfigSection agent = document.root().section("agent", "");
  const bool dqn = agent.has("type") && agent.get_string("type", "", "") == "dqn";
  std::string sets =
      " --set train.total_steps=400 --set train.eval_every=200 --set train.eval_episodes=2"
      " --set train.eval_max_steps=500 --set train.checkpoint_every=200 --set train.log_every=100";
  if (dqn) sets += " --set agent.learning_starts=100 --set agent.buffer_size=1000";
  // Actor-critic agents: learn within the budget too (short rollouts, early SAC updates).
  const std::string type = agent.has("type") ? agent.get_string("type", "", "") : "";
  if (type == "ppo") sets += " --set agent.num_steps=16 --set agent.num_minibatches=2";
  if (type == "a2c") sets += " --set agent.num_steps=8";
  if (type == "sac") sets += " --set agent.learning_starts=100 --set agent.batch_size=32";
  return sets;
}

TEST_CASE("rltrain: every shipped config trains for a few hundred steps") {
  TempDir dir("smoke");
  int configs = 0;
  for (const auto& entry : fs::directory_iterator(source_dir() / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    ++configs;
    CAPTURE(entry.path().string());
    const fs::path run = dir.path / entry.path().stem();
    const Result r = rltrain(test::shell_quoted(entry.path()) + " --out " +
                             test::shell_quoted(run) + smoke_overrides(entry.path()));
    CAPTURE(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.output, "done "));
    const json::Value summary = read_summary(run);
    CHECK(summary.find("total_steps")->as_number() >= 400);
    CHECK(fs::exists(run / "config.yaml"));
    CHECK(fs::exists(run / "metrics.csv"));
    CHECK(fs::exists(run / "checkpoints" / "final.pt"));
    CHECK(fs::exists(run / "checkpoints" / "best.pt"));
  }
  CHECK(configs >= 2);
}

TEST_CASE("rltrain: --help, --list and usage errors") {
  Result r = rltrain("--help");
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "usage: rltrain CONFIG"));
  r = rltrain("--list");
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "classic/cartpole-v1"));
  CHECK(contains(r.output, "Balance a pole"));
  CHECK(contains(r.output, "dqn"));
  CHECK(contains(r.output, "Deep Q-network"));
  CHECK(contains(r.output, "wrappers"));
  r = rltrain("");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "no config given"));
  r = rltrain("--frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "unknown option '--frobnicate'"));
  r = rltrain("a.yaml b.yaml");
  CHECK(r.exit_code == 2);
  r = rltrain("--set");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--set needs a value"));
}

TEST_CASE("rltrain: clear errors for missing files, bad YAML, unknown env or agent") {
  TempDir dir("errors");
  auto write = [&](const std::string& name, const std::string& text) {
    write_file_atomic((dir.path / name).string(), text);
    return test::shell_quoted(dir.path / name);
  };
  Result r = rltrain("no_such_config.yaml");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "config 'no_such_config.yaml' not found"));
  check_no_stack_trace(r);

  r = rltrain(write("bad.yaml", "name: x\nenv: {id: classic/cartpole-v1\n"));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "bad.yaml:"));
  CHECK(contains(r.output, "invalid YAML"));
  check_no_stack_trace(r);

  r = rltrain(write("env.yaml", "name: x\nenv: {id: classic/cartpool-v1}\nagent: {type: dqn}\n"));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "env.yaml:2:11: env.id: unknown value 'classic/cartpool-v1'"));
  CHECK(contains(r.output, "classic/cartpole-v1"));
  check_no_stack_trace(r);

  r = rltrain(
      write("agent.yaml", "name: x\nenv: {id: classic/cartpole-v1}\nagent: {type: ddqn}\n"));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "agent.type: unknown value 'ddqn'; valid choices: "));
  CHECK(contains(r.output, "dqn"));
  check_no_stack_trace(r);

  const std::string good = write("good.yaml",
                                 "name: x\nenv: {id: classic/cartpole-v1}\n"
                                 "agent: {type: dqn}\n");
  r = rltrain(good + " --set agent.lr=fast");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--set agent.lr=fast: agent.lr: expected a number"));
  r = rltrain(good + " --set name.sub=1");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "'name' is a scalar, not a mapping"));
  r = rltrain("--resume '" + (dir.path / "nothing").string() + "'");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "no run there"));
}

TEST_CASE("rltrain: a bare config name finds the shipped config; resume continues the run") {
  TempDir dir("resume_cli");
  const fs::path run = dir.path / "run";
  const std::string small =
      " --set train.total_steps=300 --set train.eval_every=0 --set train.eval_episodes=1"
      " --set agent.learning_starts=100";
  Result r = rltrain("dqn.yaml --out '" + run.string() + "'" + small, dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(read_summary(run).find("total_steps")->as_number() == 300);
  // The same --out again is refused rather than overwritten.
  r = rltrain("dqn.yaml --out '" + run.string() + "'" + small, dir.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "already holds a run"));

  r = rltrain("--resume '" + run.string() + "' --set train.total_steps=600");
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "resuming"));
  const json::Value summary = read_summary(run);
  CHECK(summary.find("total_steps")->as_number() == 600);
  CHECK(summary.find("interrupted")->as_bool() == false);
}

TEST_CASE("rltrain: --evaluate reruns a checkpoint's evaluation; its usage errors are clear") {
  TempDir dir("evaluate_cli");
  const fs::path run = dir.path / "run";
  Result r = rltrain("dqn_minatar_breakout --out '" + run.string() +
                         "' --set train.total_steps=300 --set train.eval_every=0"
                         " --set train.eval_episodes=3 --set agent.learning_starts=100",
                     dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string final_pt = test::shell_quoted(run / "checkpoints" / "final.pt");
  // Defaults: the config's eval_episodes and the trainer's evaluation seeds.
  r = rltrain("--evaluate " + final_pt);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "step 300"));
  CHECK(contains(r.output, "eval over 3 episodes: mean "));
  CHECK(contains(r.output, "from seed 1000001"));  // dqn_minatar_breakout has seed 1.
  const Result again = rltrain("--evaluate " + final_pt);
  CHECK(again.output == r.output);  // Deterministic: the checkpoint holds the RNG state.
  r = rltrain("--evaluate " + final_pt + " --episodes 5 --seed 7");
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "eval over 5 episodes"));
  CHECK(contains(r.output, "from seed 7"));

  r = rltrain("--evaluate '" + (dir.path / "missing.pt").string() + "'");
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "missing.pt: cannot read checkpoint"));
  check_no_stack_trace(r);
  r = rltrain("--evaluate " + final_pt + " --episodes 0");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--episodes expects an integer >= 1, got '0'"));
  r = rltrain("--evaluate " + final_pt + " --set seed=3");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--evaluate takes no config"));
  r = rltrain("dqn.yaml --seed 3");
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--episodes and --seed go with --evaluate"));
}

TEST_CASE("rltrain: Ctrl-C saves a checkpoint and stops cleanly") {
  TempDir dir("sigint");
  const fs::path run = dir.path / "run";
  const std::string out = run.string();
  const std::string log = (dir.path / "log.txt").string();
  const int status = test::interrupt_training(run, SIGINT, log);
  const std::string output = read_file(log);
  CAPTURE(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(contains(output, "checkpoint saved"));
  CHECK(contains(output, "rltrain --resume " + out));
  CHECK(fs::exists(run / "checkpoints" / "latest.pt"));
  const json::Value summary = read_summary(run);
  CHECK(summary.find("interrupted")->as_bool());
  const double steps = summary.find("total_steps")->as_number();
  CHECK(steps > 0);
  CHECK(steps < 100000000);
}

}  // namespace
}  // namespace rl

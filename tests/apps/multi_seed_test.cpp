// rltrain --seeds: seed folders and the aggregate summary, --resume of a seeds folder, a
// failing seed, and the usage errors of --seeds and --jobs.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

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

test::AppResult rltrain(const std::string& args, const fs::path& cwd) {
  return test::run_app("rltrain", args, cwd);
}

// A cartpole DQN run of a few hundred steps with learning updates and a final evaluation.
const char kTinyRun[] =
    " --set train.total_steps=600 --set train.eval_every=0 --set train.eval_episodes=2"
    " --set agent.learning_starts=100 --set train.log_every=200";

json::Value read_json(const fs::path& file) { return json::parse(read_file(file.string())); }

double number(const json::Value& object, const char* key) {
  const json::Value* value = object.find(key);
  REQUIRE(value != nullptr);
  return value->as_number();
}

// Checks the aggregate of `dir` against the summary.json of each of its seed folders.
void check_aggregate(const fs::path& dir, const std::vector<int>& seeds) {
  const json::Value summary = read_json(dir / "summary.json");
  const auto& listed = summary.find("seeds")->items();
  REQUIRE(listed.size() == seeds.size());
  const json::Value& eval = *summary.find("final_eval_mean");
  const auto& per_seed = eval.find("per_seed")->items();
  REQUIRE(per_seed.size() == seeds.size());
  double low = 1e300, high = -1e300, sum = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    CAPTURE(seeds[i]);
    CHECK(listed[i].as_number() == seeds[i]);
    const json::Value own = read_json(dir / ("seed-" + std::to_string(seeds[i])) / "summary.json");
    CHECK(number(own, "seed") == seeds[i]);
    CHECK(per_seed[i].as_number() == number(own, "final_eval_mean"));
    low = std::min(low, per_seed[i].as_number());
    high = std::max(high, per_seed[i].as_number());
    sum += per_seed[i].as_number();
  }
  CHECK(number(eval, "mean") == doctest::Approx(sum / static_cast<double>(seeds.size())));
  for (const char* key : {"mean_ci95", "iqm_ci95"}) {
    CAPTURE(key);
    const auto& interval = eval.find(key)->items();
    REQUIRE(interval.size() == 2);
    CHECK(interval[0].as_number() >= low);
    CHECK(interval[0].as_number() <= interval[1].as_number());
    CHECK(interval[1].as_number() <= high);
  }
  CHECK(number(*summary.find("bootstrap"), "resamples") == 2000);
  CHECK(summary.find("agent")->as_string() == "dqn");
}

TEST_CASE("rltrain --seeds: one run folder per seed and an aggregate; --resume reruns the rest") {
  TempDir dir("seeds");
  test::AppResult r =
      rltrain(std::string("dqn_cartpole --seeds 1-2 --jobs 2") + kTinyRun, dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path run = dir.path / "runs" / "dqn_cartpole";
  for (int seed : {1, 2}) {
    const fs::path seed_run = run / ("seed-" + std::to_string(seed));
    CHECK(fs::exists(seed_run / "config.yaml"));
    CHECK(fs::exists(seed_run / "checkpoints" / "final.pt"));
    CHECK(fs::exists(seed_run / "train.log"));
    CHECK(contains(r.output, "seed " + std::to_string(seed) + " done: final eval "));
  }
  CHECK(contains(r.output, "final eval over seeds 1-2: mean "));
  check_aggregate(run, {1, 2});
  // Different seeds trained differently (the env seeds differ).
  CHECK(read_file((run / "seed-1" / "metrics.csv").string()) !=
        read_file((run / "seed-2" / "metrics.csv").string()));

  // Without seed 2's summary, --resume trains seed 2 only and writes the aggregate again.
  const std::string seed1_log = read_file((run / "seed-1" / "train.log").string());
  fs::remove(run / "seed-2" / "summary.json");
  fs::remove(run / "summary.json");
  r = rltrain("--resume runs/dqn_cartpole --jobs 2", dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "seed 2 started"));
  CHECK_FALSE(contains(r.output, "seed 1 started"));
  CHECK(read_file((run / "seed-1" / "train.log").string()) == seed1_log);
  CHECK(contains(read_file((run / "seed-2" / "train.log").string()), "resuming"));
  check_aggregate(run, {1, 2});

  // Nothing left to train: the aggregate is written again all the same.
  r = rltrain("--resume runs/dqn_cartpole", dir.path);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.output, "started"));
  check_aggregate(run, {1, 2});

  // A larger budget given to --resume continues the finished seeds to it.
  r = rltrain("--resume runs/dqn_cartpole --jobs 2 --set train.total_steps=800", dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  for (int seed : {1, 2}) {
    const fs::path seed_run = run / ("seed-" + std::to_string(seed));
    CHECK(contains(r.output, "seed " + std::to_string(seed) + " started"));
    CHECK(number(read_json(seed_run / "summary.json"), "total_steps") == 800);
    CHECK(contains(read_file((seed_run / "metrics.csv").string()), "\n800,"));
  }
  check_aggregate(run, {1, 2});

  // A second --seeds of the same config goes to a new folder.
  r = rltrain(std::string("dqn_cartpole --seeds 3") + kTinyRun, dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  check_aggregate(dir.path / "runs" / "dqn_cartpole-2", {3});
}

TEST_CASE("rltrain --seeds: a failing seed is reported with its log; the others finish") {
  TempDir dir("seeds_fail");
  const fs::path run = dir.path / "many";
  test::AppResult r =
      rltrain("dqn_cartpole --seeds 4,7 --out '" + run.string() + "'" + kTinyRun, dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  check_aggregate(run, {4, 7});
  // Break seed 4's run and unfinish both: seed 7 still trains, seed 4 fails.
  write_file_atomic((run / "seed-4" / "config.yaml").string(), "name: [broken\n");
  for (int seed : {4, 7}) fs::remove(run / ("seed-" + std::to_string(seed)) / "summary.json");
  r = rltrain("--resume '" + run.string() + "' --jobs 2", dir.path);
  CAPTURE(r.output);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "seed 4 failed (exit code 2); see its log " +
                               (run / "seed-4" / "train.log").string()));
  CHECK(contains(r.output, "seed 7 done"));
  CHECK(contains(r.output, "no aggregate written"));
  CHECK(fs::exists(run / "seed-7" / "summary.json"));
  CHECK_FALSE(fs::exists(run / "summary.json"));
  CHECK(contains(read_file((run / "seed-4" / "train.log").string()), "invalid YAML"));
}

// Sends SIGINT to the child `pid` and waits for it: its exit code, or -1 when a signal ended it.
int interrupt_and_wait(pid_t pid) {
  REQUIRE(::kill(pid, SIGINT) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE("rltrain --seeds: Ctrl-C stops every running seed with a checkpoint; --resume ends") {
  TempDir dir("seeds_sigint");
  const fs::path run = dir.path / "long";
  const std::string config = (test::source_dir() / "configs" / "dqn_cartpole.yaml").string();
  const std::string log = dir.file("log.txt");
  const pid_t pid =
      test::spawn_logged((test::bin_dir() / "rltrain").string(),
                         {config, "--seeds", "1-3", "--jobs", "2", "--out", run.string(), "--set",
                          "train.total_steps=100000000", "--set", "train.log_every=100", "--set",
                          "train.eval_every=0", "--set", "train.eval_episodes=2"},
                         log);
  REQUIRE(pid > 0);
  // Wait until both running seeds are under way, then interrupt the parent alone: it passes
  // the interrupt on (the seeds run in their own process groups).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto started = [&](int seed) {
    const fs::path metrics = run / ("seed-" + std::to_string(seed)) / "metrics.csv";
    return fs::exists(metrics) && fs::file_size(metrics) > 300;
  };
  while (std::chrono::steady_clock::now() < deadline && !(started(1) && started(2))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int exit_code = interrupt_and_wait(pid);
  const std::string output = read_file(log);
  CAPTURE(output);
  CHECK(exit_code == 130);
  CHECK(contains(output, "seed 1 stopped (checkpoint saved)"));
  CHECK(contains(output, "seed 2 stopped (checkpoint saved)"));
  CHECK_FALSE(contains(output, "seed 3 started"));
  CHECK(contains(output, "continue with: rltrain --resume " + run.string()));
  CHECK_FALSE(fs::exists(run / "summary.json"));
  for (int seed : {1, 2}) {
    const json::Value own = read_json(run / ("seed-" + std::to_string(seed)) / "summary.json");
    CHECK(own.find("interrupted")->as_bool());
  }
  // Resumed with a budget already reached by the stopped seeds: they end at once, seed 3 runs.
  const test::AppResult r =
      rltrain("--resume '" + run.string() + "' --jobs 2 --set train.total_steps=600" +
                  " --set agent.learning_starts=100",
              dir.path);
  CAPTURE(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.output, "seed 3 started"));
  check_aggregate(run, {1, 2, 3});
  for (int seed : {1, 2, 3}) {
    const json::Value own = read_json(run / ("seed-" + std::to_string(seed)) / "summary.json");
    CHECK_FALSE(own.find("interrupted")->as_bool());
  }
}

TEST_CASE("rltrain --seeds and --jobs: bad values exit 2 naming the flag") {
  TempDir dir("seeds_usage");
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"--seeds 5-1", "--seeds range '5-1' goes down (write 1-5)"},
      {"--seeds x", "--seeds expects seeds like 1-5 or 1,3,7 (integers >= 0), got 'x'"},
      {"--seeds ''", "--seeds expects seeds like 1-5 or 1,3,7, got an empty list"},
      {"--seeds 1,2,1", "--seeds lists seed 1 twice"},
      {"--seeds 1-3,", "--seeds expects seeds like 1-5 or 1,3,7"},
      {"--seeds 0-5000", "--seeds lists more than 1000 seeds"},
      {"--seeds", "--seeds needs a value"},
      {"--seeds 1-2 --jobs 0", "--jobs expects an integer in [1, 64], got '0'"},
      {"--jobs 2", "--jobs goes with --seeds"},
      {"--seeds 1-2 --set seed=3", "--set seed=3 cannot be combined with --seeds"},
      {"--seeds 1-2 --watch", "--watch cannot be combined with --seeds"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const test::AppResult r = rltrain("dqn_cartpole " + c.args, dir.path);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, c.message));
    CHECK_FALSE(fs::exists(dir.path / "runs"));  // Nothing was started.
  }
  const test::AppResult r = rltrain("--resume somewhere --seeds 1-2", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "--seeds cannot be combined with --resume"));
}

}  // namespace
}  // namespace rl

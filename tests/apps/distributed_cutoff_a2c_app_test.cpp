// DD-PPO's straggler cut-off for A2C in rltrain (docs/distributed.md), as
// distributed_cutoff_app_test.cpp checks it for PPO: a rank slowed by a test-only pause per env
// step (RLCADE_TEST_SLOW_RANK) ends its 5-step rollouts early, the updates learn from the rows
// taken, and the run still learns CartPole; without the cut-off every update is whole.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/distributed_metrics.h"
#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

// A2C CartPole (5-step rollouts of 8 envs: 40 rows per rank, 80 per whole update) in 2
// processes, rank 1 pausing 2 ms per env step, for `steps` env steps; `settings` come last.
test::AppResult train_a2c_with_slow_rank(const fs::path& run, int steps,
                                         const std::string& settings) {
  ::setenv("RLCADE_TEST_SLOW_RANK", "1:2000", 1);
  const test::AppResult result = test::run_app(
      "rltrain",
      test::shell_quoted((test::source_dir() / "configs" / "a2c_cartpole.yaml").string()) +
          " --nproc 2 --out " + test::shell_quoted(run) +
          " --set train.total_steps=" + std::to_string(steps) +
          " --set train.eval_every=0 --set train.eval_episodes=5"
          " --set train.log_every=400 --set train.checkpoint_every=0" +
          settings);
  ::unsetenv("RLCADE_TEST_SLOW_RANK");
  return result;
}

TEST_CASE("rltrain --nproc 2: A2C with the straggler cut-off cuts a slowed rank short; it learns") {
  test::TempDir dir("a2c_cutoff");
  const fs::path run = dir.path / "run";
  const test::AppResult result = train_a2c_with_slow_rank(
      run, 20000,
      " --set distributed.sync_fraction=0.5 --set distributed.min_rollout_fraction=0.4");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  // Rank 1 stops after 2 to 4 of its 5 steps: 56 to 72 rows per update, so 20000 steps take
  // more than 20000 / 80 = 250 updates, and the steps counted are not multiples of 80.
  const std::vector<double> updates = test::metric_values(run, "updates");
  const std::vector<double> steps = test::metric_values(run, "step");
  REQUIRE_FALSE(updates.empty());
  CHECK(updates.back() > 260);
  CHECK_FALSE(
      std::all_of(steps.begin(), steps.end(), [](double s) { return std::fmod(s, 80.0) == 0.0; }));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  const double total = summary.find("total_steps")->as_number();
  CHECK(total >= 20000);
  CHECK(total < 20000 + 80);
  // Random play scores about 20; 20k steps of this A2C reached 273 (seed 1).
  CHECK(summary.find("final_eval_mean")->as_number() > 60);
}

TEST_CASE("rltrain --nproc 2: A2C without the cut-off waits for a slowed rank's whole rollouts") {
  test::TempDir dir("a2c_no_cutoff");
  const fs::path run = dir.path / "run";
  const test::AppResult result = train_a2c_with_slow_rank(run, 4000, "");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  CHECK(test::metric_values(run, "updates").back() == 50);  // 4000 / 80.
}

}  // namespace
}  // namespace rl

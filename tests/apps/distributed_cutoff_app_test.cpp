// DD-PPO's straggler cut-off in rltrain (docs/distributed.md): with
// `distributed.sync_fraction` below 1, a rank slowed by a test-only pause per env step
// (RLCADE_TEST_SLOW_RANK) ends its rollouts early, training proceeds at the faster rank's pace
// and still learns, and the env steps counted are the ones taken; bad settings are refused,
// naming the key.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
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

std::string ppo_cartpole() { return (test::source_dir() / "configs" / "ppo.yaml").string(); }

// PPO CartPole in 2 processes, rank 1 pausing 2 ms per env step; `settings` (--set ...) come
// last, so they override the defaults here.
test::AppResult train_with_slow_rank(const fs::path& run, const std::string& settings) {
  ::setenv("RLCADE_TEST_SLOW_RANK", "1:2000", 1);
  const test::AppResult result =
      test::run_app("rltrain", test::shell_quoted(ppo_cartpole()) + " --nproc 2 --out " +
                                   test::shell_quoted(run) +
                                   " --set train.total_steps=40000 --set train.eval_every=0"
                                   " --set train.eval_episodes=5 --set train.log_every=512" +
                                   settings);
  ::unsetenv("RLCADE_TEST_SLOW_RANK");
  return result;
}

TEST_CASE("rltrain --nproc 2: the straggler cut-off ends a slowed rank's rollouts; it learns") {
  test::TempDir dir("cutoff");
  const fs::path run = dir.path / "run";
  const test::AppResult result = train_with_slow_rank(
      run, " --set distributed.sync_fraction=0.5 --set distributed.min_rollout_fraction=0.25");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  // Whole rollouts are 32 steps x 8 envs per rank: 512 env steps per update. Rank 1, cut after
  // 8 to 31 steps, adds fewer, so 40k steps take more than 40000 / 512 = 78 updates, and the
  // step counts are the rows the updates learned from, not multiples of 512.
  const std::vector<double> updates = test::metric_values(run, "updates");
  const std::vector<double> steps = test::metric_values(run, "step");
  REQUIRE_FALSE(updates.empty());
  CHECK(updates.back() > 90);
  const bool all_whole =
      std::all_of(steps.begin(), steps.end(), [](double s) { return std::fmod(s, 512.0) == 0.0; });
  CHECK_FALSE(all_whole);
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  const double total = summary.find("total_steps")->as_number();
  CHECK(total >= 40000);
  CHECK(total < 40000 + 512);
  // Random play scores about 20; 40k steps of PPO reach well above 100 (as without a cut-off).
  CHECK(summary.find("final_eval_mean")->as_number() > 100);
}

TEST_CASE("rltrain --nproc 2: without the cut-off a slowed rank collects whole rollouts") {
  test::TempDir dir("no_cutoff");
  const fs::path run = dir.path / "run";
  const test::AppResult result = train_with_slow_rank(run, " --set train.total_steps=8192");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  CHECK(test::metric_values(run, "updates").back() == 16);  // 8192 / 512.
}

TEST_CASE("rltrain: straggler cut-off settings are checked, naming the key") {
  test::TempDir dir("cutoff_errors");
  const auto refused = [&](const std::string& config, const std::string& settings,
                           const std::string& message) {
    const test::AppResult result = test::run_app(
        "rltrain", test::shell_quoted((test::source_dir() / "configs" / config).string()) +
                       " --nproc 2 --out " + test::shell_quoted(dir.path / "run") + settings);
    CAPTURE(result.output);
    CHECK(result.exit_code == 2);
    CHECK(test::contains(result.output, message));
  };
  refused("ppo.yaml", " --set distributed.sync_fraction=0", "distributed.sync_fraction is 0");
  refused("ppo.yaml", " --set distributed.sync_fraction=1.5", "sync_fraction");
  refused("ppo.yaml", " --set distributed.min_rollout_fraction=0",
          "distributed.min_rollout_fraction is 0");
  refused("dqn_cartpole.yaml", " --set distributed.sync_fraction=0.5",
          "agent 'dqn' has none (leave it at 1)");
  // num_minibatches 8 needs 8 rows; 1 step of 4 envs is 4.
  refused("ppo.yaml",
          " --set distributed.sync_fraction=0.5 --set distributed.min_rollout_fraction=0.01"
          " --set env.num_envs=4 --set agent.num_minibatches=8",
          "fewer than an update needs (8): raise it");
  CHECK_FALSE(fs::exists(dir.path / "run" / "summary.json"));
}

}  // namespace
}  // namespace rl

// The straggler cut-off's decision (agents/distributed/rollout_cutoff.h) and the weighted
// gradient average that unequal rollouts need, on two loopback ranks (threads).
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "agents/distributed/gloo_group.h"
#include "agents/distributed/rollout_cutoff.h"
#include "core/config.h"
#include "core/rollout_buffer.h"
#include "distributed_test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::distributed {
namespace {

using test::run_two_ranks;

constexpr int kNumSteps = 20;

// Each rank collects `rollouts` rollouts of up to kNumSteps steps; rank 1 sleeps `slow_ms` per
// step. Returns the steps each rank's rollouts ended at, [rank][rollout].
std::vector<std::vector<int>> rollout_lengths(const CutoffSettings& settings, int slow_ms,
                                              int rollouts) {
  std::vector<std::vector<int>> lengths(2);
  run_two_ranks([&](GlooGroup& group) {
    RolloutCutoff cutoff(group, settings, kNumSteps);
    for (int r = 0; r < rollouts; ++r) {
      int steps = 0;
      do {
        ++steps;
        if (group.rank() == 1) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
      } while (!cutoff.rollout_over(steps));
      lengths[group.rank()].push_back(steps);
      double rows[1] = {static_cast<double>(steps)};
      group.sum(rows);  // The update's first collective: every rank has ended its rollout.
      cutoff.next_rollout();
    }
  });
  return lengths;
}

TEST_CASE("rollout cut-off: a slowed rank is cut short after the minimum, every rollout") {
  const std::vector<std::vector<int>> lengths = rollout_lengths({0.5, 0.25}, 20, 3);
  CHECK(lengths[0] == std::vector<int>{kNumSteps, kNumSteps, kNumSteps});
  for (int steps : lengths[1]) {
    CHECK(steps >= 5);  // ceil(0.25 x 20).
    CHECK(steps < kNumSteps);
  }
}

TEST_CASE("rollout cut-off: off (sync_fraction 1) every rank collects whole rollouts") {
  const std::vector<std::vector<int>> lengths = rollout_lengths({}, 5, 2);
  CHECK(lengths[0] == std::vector<int>{kNumSteps, kNumSteps});
  CHECK(lengths[1] == std::vector<int>{kNumSteps, kNumSteps});
}

TEST_CASE("rollout cut-off: with 2 ranks, sync_fraction 0.6 waits for both (habitat-lab's rule)") {
  const std::vector<std::vector<int>> lengths = rollout_lengths({0.6, 0.25}, 5, 1);
  CHECK(lengths[1] == std::vector<int>{kNumSteps});
}

TEST_CASE("rollout cut-off: fractions outside (0, 1] are refused, naming the key") {
  const auto error_of = [](const CutoffSettings& settings) {
    try {
      check_cutoff_settings(settings, "run.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of({0.6, 0.25}) == "");
  CHECK(error_of({0.0, 0.25}).find("run.yaml: distributed.sync_fraction is 0") == 0);
  CHECK(error_of({1.5, 0.25}).find("distributed.sync_fraction is 1.5") != std::string::npos);
  CHECK(error_of({0.6, -1}).find("distributed.min_rollout_fraction is -1") != std::string::npos);
}

TEST_CASE("distributed: gradients weighted by rows equal the gradient of the ranks' union") {
  // Rank 0 has 12 rows, rank 1 has 4: the mean loss over the 16 rows.
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({16, 3}), y = torch::randn({16, 1});
  torch::manual_seed(4);
  torch::nn::Linear whole(3, 1);
  torch::mse_loss(whole->forward(x), y).backward();
  std::vector<std::vector<torch::Tensor>> results(2);
  run_two_ranks([&](GlooGroup& group) {
    torch::manual_seed(4);
    torch::nn::Linear net(3, 1);
    const int64_t start = group.rank() == 0 ? 0 : 12, rows = group.rank() == 0 ? 12 : 4;
    torch::mse_loss(net->forward(x.narrow(0, start, rows)), y.narrow(0, start, rows)).backward();
    group.average_gradients(net->parameters(), static_cast<double>(rows));
    for (const auto& p : net->parameters()) results[group.rank()].push_back(p.grad().clone());
  });
  for (int rank = 0; rank < 2; ++rank) {
    REQUIRE(results[rank].size() == 2);
    CHECK(torch::allclose(results[rank][0], whole->weight.grad(), 1e-5, 1e-6));
    CHECK(torch::allclose(results[rank][1], whole->bias.grad(), 1e-5, 1e-6));
  }
}

TEST_CASE("distributed: the store counter adds, reads and is removed") {
  std::vector<int64_t> after_both(2), after_removal(2);
  run_two_ranks([&](GlooGroup& group) {
    group.add_to_counter("test/counter", 1 + group.rank());
    double align[1] = {0};
    group.sum(align);
    after_both[group.rank()] = group.add_to_counter("test/counter", 0);
    group.sum(align);
    if (group.rank() == 0) group.remove_counter("test/counter");
    group.sum(align);
    after_removal[group.rank()] = group.add_to_counter("test/counter", 0);
  });
  CHECK(after_both == std::vector<int64_t>{3, 3});
  CHECK(after_removal == std::vector<int64_t>{0, 0});
}

// A rollout of `steps` steps of 2 envs, step t's rewards t and -t, values t / 10, env 1's
// episode ending at step 1.
RolloutBuffer rollout_of(int capacity, int steps) {
  RolloutOptions options;
  options.num_steps = capacity;
  options.num_envs = 2;
  options.gamma = 0.9;
  options.gae_lambda = 0.8;
  RolloutBuffer buffer(Space::box({1}, 0, 1, DType::kF32), Space::discrete(2), options);
  const std::vector<uint8_t> observations(2 * sizeof(float), 0);
  const std::vector<int64_t> actions = {0, 1};
  const std::vector<float> log_probs = {-0.5f, -0.7f};
  for (int t = 0; t < steps; ++t) {
    const std::vector<float> rewards = {float(t), float(-t)}, values = {t / 10.0f, t / 10.0f};
    const std::vector<uint8_t> terminated = {0, uint8_t(t == 1)}, truncated = {0, 0};
    buffer.add({.observations = observations,
                .discrete_actions = actions,
                .rewards = rewards,
                .values = values,
                .log_probs = log_probs,
                .terminated = terminated,
                .truncated = truncated});
  }
  return buffer;
}

TEST_CASE("rollout cut-off: a rollout ended early is a rollout of the steps it holds") {
  RolloutBuffer cut = rollout_of(8, 3);
  CHECK_FALSE(cut.full());
  cut.end_early();
  CHECK(cut.full());
  CHECK(cut.rows() == 6);
  const std::vector<float> last_values = {0.4f, -0.2f};
  cut.compute_advantages(last_values);
  RolloutBuffer whole = rollout_of(3, 3);  // The same 3 steps as a whole rollout.
  whole.compute_advantages(last_values);
  REQUIRE(cut.advantages().size() == 6);
  CHECK(std::vector<float>(cut.advantages().begin(), cut.advantages().end()) ==
        std::vector<float>(whole.advantages().begin(), whole.advantages().end()));
  CHECK(std::vector<float>(cut.returns().begin(), cut.returns().end()) ==
        std::vector<float>(whole.returns().begin(), whole.returns().end()));
  CHECK(cut.rewards().size() == 6);
  CHECK(cut.observations().size() == 6 * sizeof(float));
  cut.clear();  // The next rollout has the whole length again.
  CHECK(cut.rows() == 16);
  CHECK_THROWS_AS(cut.end_early(), std::logic_error);
}

TEST_CASE("rollout cut-off: RLCADE_TEST_SLOW_RANK slows the rank it names") {
  ::setenv("RLCADE_TEST_SLOW_RANK", "1:2500", 1);
  CHECK(injected_step_delay(1) == std::chrono::microseconds(2500));
  CHECK(injected_step_delay(0) == std::chrono::microseconds(0));
  ::setenv("RLCADE_TEST_SLOW_RANK", "1", 1);
  CHECK_THROWS_WITH_AS(injected_step_delay(1), doctest::Contains("expected RANK:MICROSECONDS"),
                       std::invalid_argument);
  ::unsetenv("RLCADE_TEST_SLOW_RANK");
  CHECK(injected_step_delay(1) == std::chrono::microseconds(0));
}

}  // namespace
}  // namespace rl::distributed

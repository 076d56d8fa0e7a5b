// Data-parallel DQN and SAC (agents/distributed/data_parallel.h) on two loopback ranks: the
// ranks start from rank 0's weights, learn from different replays, and stay identical because
// every optimizer step applies the gradients averaged over the ranks (LibTorch and engine
// paths); FlatOptimizer's averaging hook makes two half-batches one whole batch.
#include <torch/torch.h>

#include <cstring>
#include <map>
#include <mutex>

#include "actor_critic_util.h"
#include "agents/distributed/data_parallel.h"
#include "agents/distributed/rank_replay.h"
#include "agents/dqn/dqn_agent.h"
#include "agents/sac/sac_agent.h"
#include "core/atomic_file.h"
#include "core/rng.h"
#include "distributed_test_util.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

// Writes one random sample of the Box `space` into `out` (its bytes).
void sample_bytes(const Space& space, Rng& rng, uint8_t* out) {
  std::vector<float> values;
  sample_space(space, rng, values);
  for (size_t i = 0; i < values.size(); ++i) {
    if (space.dtype == DType::kU8) {
      out[i] = static_cast<uint8_t>(values[i] > 0.5f);
    } else {
      std::memcpy(out + i * sizeof(float), &values[i], sizeof(float));
    }
  }
}

// Feeds `steps` random transitions (a stream that differs per `data_seed`) and asks for an
// update after each, as the trainer does.
void train_on_random_data(Experiment& e, uint64_t data_seed, int64_t steps) {
  const Space& obs = e.env_spec.observation_space;
  const Space& actions = e.env_spec.action_space;
  Rng rng(data_seed);
  std::vector<uint8_t> observation(obs.bytes()), next(obs.bytes());
  std::vector<float> action_values;
  for (int64_t step = 1; step <= steps; ++step) {
    sample_bytes(obs, rng, observation.data());
    sample_bytes(obs, rng, next.data());
    const int64_t discrete = sample_space(actions, rng, action_values);
    const float reward = static_cast<float>(rng.uniform(-1.0, 1.0));
    const uint8_t terminated = rng.below(10) == 0, truncated = 0;
    TransitionBatch t;
    t.batch = 1;
    t.observations = observation;
    t.next_observations = next;
    if (actions.is_discrete()) {
      t.discrete_actions = std::span<const int64_t>(&discrete, 1);
    } else {
      t.continuous_actions = action_values;
    }
    t.rewards = std::span<const float>(&reward, 1);
    t.terminated = std::span<const uint8_t>(&terminated, 1);
    t.truncated = std::span<const uint8_t>(&truncated, 1);
    e.agent->observe(t);
    e.agent->update(step);
  }
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> result;
  for (const auto& p : parameters) result.push_back(p.detach().clone());
  return result;
}

// Builds one experiment per rank (different seeds, so different initial weights), makes them
// data-parallel, trains each on its own data, and checks that the ranks' `parameters` are
// equal after the broadcast and after training, and that training changed them.
void check_ranks_stay_identical(
    const std::string& yaml, const std::vector<std::string>& sets,
    const std::function<std::vector<torch::Tensor>(Experiment&)>& parameters) {
  // Built here, not in the rank threads: torch::manual_seed sets one generator per process.
  std::vector<Experiment> experiments;
  experiments.reserve(2);
  for (int rank = 0; rank < 2; ++rank) {
    std::vector<std::string> rank_sets = sets;
    rank_sets.push_back("seed=" + std::to_string(11 + rank));
    experiments.push_back(test::experiment_from(yaml, rank_sets));
  }
  const auto before_broadcast = copies(parameters(experiments[0]));
  REQUIRE_FALSE(torch::equal(before_broadcast[0], parameters(experiments[1])[0]));
  // Both ranks' keys exist before the threads start: they only assign, never insert.
  std::map<int, std::vector<torch::Tensor>> initial{{0, {}}, {1, {}}}, trained{{0, {}}, {1, {}}};
  std::mutex mutex;
  test::run_two_ranks([&](distributed::GlooGroup& group) {
    Experiment& e = experiments[group.rank()];
    distributed::make_data_parallel(*e.agent, group);
    auto start = copies(parameters(e));
    train_on_random_data(e, 100 + group.rank(), 300);
    std::lock_guard<std::mutex> lock(mutex);
    initial[group.rank()] = std::move(start);
    trained[group.rank()] = copies(parameters(e));
  });
  REQUIRE(trained[0].size() == trained[1].size());
  bool changed = false;
  for (size_t i = 0; i < trained[0].size(); ++i) {
    CAPTURE(i);
    // allclose: SAC's alpha is recomputed from log alpha (float) on every rank.
    CHECK(torch::allclose(initial[0][i], before_broadcast[i], 1e-6, 1e-7));
    CHECK(torch::equal(initial[1][i], initial[0][i]));
    CHECK(torch::allclose(trained[1][i], trained[0][i], 1e-6, 1e-7));
    changed = changed || !torch::equal(trained[0][i], initial[0][i]);
  }
  CHECK(changed);
}

std::vector<torch::Tensor> dqn_parameters(Experiment& e) {
  return dynamic_cast<DqnAgent&>(*e.agent).network()->parameters();
}

std::vector<torch::Tensor> sac_parameters(Experiment& e) {
  auto& sac = dynamic_cast<SacAgent&>(*e.agent);
  std::vector<torch::Tensor> result = sac.actor()->parameters();
  for (const auto& p : sac.q1()->parameters()) result.push_back(p);
  result.push_back(torch::tensor(sac.alpha()));
  return result;
}

TEST_CASE("distributed dqn: ranks start from rank 0's weights and stay identical (torch)") {
  check_ranks_stay_identical(test::chain_config(), {"agent.learning_starts=100"}, dqn_parameters);
}

TEST_CASE("distributed dqn: ranks stay identical with the CNN engine (u8 images)") {
  check_ranks_stay_identical(test::chain_config(),
                             {"env.params.image=true", "agent.cnn_channels=4",
                              "agent.cnn_hidden=32", "agent.learning_starts=100"},
                             dqn_parameters);
}

TEST_CASE("distributed sac: ranks stay identical (engine backend, Box actions)") {
  check_ranks_stay_identical(test::ac_config("test/target-v0", test::kSacTarget, 2000, 1, 4),
                             {"agent.learning_starts=100"}, sac_parameters);
}

TEST_CASE("distributed sac: ranks stay identical (torch backend, discrete actions)") {
  check_ranks_stay_identical(
      test::ac_config("test/chain-v0", "  type: sac\n  hidden: [16]\n  batch_size: 16\n", 2000, 1,
                      4),
      {"agent.learning_starts=100", "agent.backend=torch"}, sac_parameters);
}

// FlatOptimizer's hook: two ranks on half-batches take the step of one rank on the whole batch.
TEST_CASE("distributed: FlatOptimizer averaging over ranks equals the whole-batch step") {
  const auto make_net = [](uint64_t seed) {
    torch::manual_seed(seed);
    return torch::nn::Sequential(torch::nn::Linear(3, 8), torch::nn::Tanh(),
                                 torch::nn::Linear(8, 2));
  };
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({16, 3}), y = torch::randn({16, 2});
  const auto steps = [&](torch::nn::Sequential net, FlatOptimizer& optimizer,
                         const torch::Tensor& inputs, const torch::Tensor& targets) {
    for (int step = 0; step < 3; ++step) {
      optimizer.zero_grad();
      torch::mse_loss(net->forward(inputs), targets).backward();
      optimizer.step(0.5);
    }
    return copies(net->parameters());
  };
  torch::nn::Sequential whole = make_net(3);
  FlatOptimizer whole_optimizer(*whole, {});
  const auto expected = steps(whole, whole_optimizer, x, y);
  torch::nn::Sequential nets[2] = {make_net(3), make_net(3)};
  std::map<int, std::vector<torch::Tensor>> results{{0, {}}, {1, {}}};  // No insert by threads.
  std::mutex mutex;
  test::run_two_ranks([&](distributed::GlooGroup& group) {
    const int rank = group.rank();
    FlatOptimizer optimizer(*nets[rank], {});
    optimizer.average_gradients_over(&group);
    auto result = steps(nets[rank], optimizer, x.narrow(0, 8 * rank, 8), y.narrow(0, 8 * rank, 8));
    std::lock_guard<std::mutex> lock(mutex);
    results[rank] = std::move(result);
  });
  test::check_ranks_match(results, expected);
}

TEST_CASE("distributed: a rank's replay buffer comes back only at the step it was saved") {
  const Space observations = Space::box({1}, -10.f, 10.f, DType::kF32);
  ReplayOptions options;
  options.capacity = 8;
  ReplayBuffer saved(observations, Space::discrete(2), options);
  for (int i = 0; i < 5; ++i) {
    const float obs = static_cast<float>(i), next = obs + 1;
    saved.add(0, {reinterpret_cast<const uint8_t*>(&obs), 4}, i % 2, {}, 0.5f * i,
              {reinterpret_cast<const uint8_t*>(&next), 4}, false, false);
  }
  test::TempDir dir("rank_replay");
  std::filesystem::create_directories(dir.path / "checkpoints");
  ReplayBuffer restored(observations, Space::discrete(2), options);
  CHECK_FALSE(distributed::load_rank_replay(dir.str(), 1, 40, restored));  // No file yet.
  distributed::save_rank_replay(dir.str(), 1, 40, saved);
  CHECK(std::filesystem::exists(dir.path / "checkpoints" / "replay_rank1.bin"));
  CHECK_FALSE(distributed::load_rank_replay(dir.str(), 1, 48, restored));  // Another step.
  CHECK(restored.size() == 0);
  REQUIRE(distributed::load_rank_replay(dir.str(), 1, 40, restored));
  CHECK(restored.size() == 5);
  CHECK(restored.save() == saved.save());
  write_file_atomic(distributed::rank_replay_path(dir.str(), 2), "damaged");
  CHECK_THROWS_WITH(distributed::load_rank_replay(dir.str(), 2, 40, restored),
                    doctest::Contains("replay_rank2.bin: not a replay buffer saved by rltrain"));
}

}  // namespace
}  // namespace rl

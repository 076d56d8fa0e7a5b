// rl::Policy's dense engine (agents/export/dense_plan.h) against the TorchScript forward of the
// same file: on 1200 observations of the policy's env (and random legal-action masks), the
// actions are equal and continuous actions within 1e-5, for every action rule; networks without
// a plan act through TorchScript.
#include "torch_doctest.h"
// (torch_doctest.h first: see there.)
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "agents/export/policy_export.h"
#include "agents/policy.h"
#include "core/rng.h"
#include "export_test_util.h"
#include "test_util.h"

namespace rl {
namespace {

constexpr int kObservations = 1200;

// Observations of random play in `env_id` (no wrappers), batch-first bytes.
std::vector<uint8_t> record(const Space& space, const std::string& env_id, int count) {
  EnvConfig config;
  config.id = env_id;
  WrapperContext unused;
  std::unique_ptr<Env> env = make_configured_env(config, unused);
  REQUIRE(env->spec().observation_space.bytes() == space.bytes());
  std::vector<uint8_t> recorded;
  Rng rng(23);
  test::play_randomly(*env, count, 7, rng, &recorded);
  return recorded;
}

torch::Tensor observation_tensor(const Policy& policy, std::vector<uint8_t>& bytes, int count) {
  std::vector<int64_t> shape = {count};
  const Space& space = policy.observation_space();
  shape.insert(shape.end(), space.shape.begin(), space.shape.end());
  return torch::from_blob(bytes.data(), shape,
                          space.dtype == DType::kU8 ? torch::kUInt8 : torch::kFloat32);
}

// Exports `yaml`'s agent (after `warm_up` random steps of its wrapped env, so that observation
// statistics are not the initial ones), then compares rl::Policy with the script's forward.
void check_dense_engine(const std::string& yaml, int warm_up = 0) {
  test::TempDir dir("export_dense");
  std::filesystem::create_directories(dir.path);
  Experiment experiment = test::experiment_from(yaml);
  Rng rng(3);
  if (warm_up > 0) test::play_randomly(*experiment.make_env(), warm_up, 9, rng);
  const std::string path = (dir.path / "policy.pt").string();
  save_policy(export_policy(experiment), path);
  Policy policy = Policy::load(path);
  REQUIRE(std::string(policy.engine()) == "dense");
  torch::jit::Module script = torch::jit::load(path);
  std::vector<uint8_t> observations =
      record(policy.observation_space(), experiment.run().env.id, kObservations);
  const torch::Tensor obs = observation_tensor(policy, observations, kObservations);
  const Space& actions = policy.action_space();
  torch::InferenceMode inference;
  if (actions.is_discrete()) {
    std::vector<int64_t> chosen(kObservations);
    policy.act(observations, kObservations, chosen, {});
    const torch::Tensor reference = script.forward({obs}).toTensor();
    int differ = 0;
    for (int i = 0; i < kObservations; ++i) differ += chosen[i] != reference[i].item<int64_t>();
    CHECK(differ == 0);
    std::vector<uint8_t> masks = test::random_masks(kObservations, actions.n, 31, 0.5);
    policy.act(observations, kObservations, chosen, {}, masks);
    const torch::Tensor legal =
        torch::from_blob(masks.data(), {kObservations, actions.n}, torch::kUInt8);
    const torch::Tensor masked = script.forward({obs, legal}).toTensor();
    differ = 0;
    for (int i = 0; i < kObservations; ++i) {
      differ += chosen[i] != masked[i].item<int64_t>();
      CHECK(masks[i * actions.n + chosen[i]] == 1);
    }
    CHECK(differ == 0);
    // Observations at an odd address (as inside a wire frame) give the same actions.
    const size_t bytes = policy.observation_space().bytes();
    std::vector<uint8_t> shifted(1 + 10 * bytes);
    std::copy_n(observations.begin(), 10 * bytes, shifted.begin() + 1);
    std::vector<int64_t> from_shifted(10);
    policy.act(std::span<const uint8_t>(shifted).subspan(1), 10, from_shifted, {});
    for (int i = 0; i < 10; ++i) CHECK(from_shifted[i] == reference[i].item<int64_t>());
    for (int i = 0; i < 50; ++i) {  // One at a time, as the lock-step server acts.
      const auto one =
          std::span<const uint8_t>(observations)
              .subspan(i * policy.observation_space().bytes(), policy.observation_space().bytes());
      CHECK(policy.act(one).index == reference[i].item<int64_t>());
    }
  } else {
    std::vector<float> chosen(static_cast<size_t>(kObservations * actions.numel()));
    policy.act(observations, kObservations, {}, chosen);
    const torch::Tensor reference = script.forward({obs}).toTensor().contiguous();
    double worst = 0;
    for (size_t i = 0; i < chosen.size(); ++i) {
      worst = std::max(worst, std::abs(double(chosen[i]) - reference.data_ptr<float>()[i]));
    }
    MESSAGE("largest action difference " << worst);
    CHECK(worst <= 1e-5);
  }
}

TEST_CASE("Policy dense engine: DQN (argmax of Q) equals the TorchScript forward") {
  check_dense_engine(
      "name: t\nseed: 4\nenv: {id: classic/cartpole-v1}\n"
      "agent: {type: dqn, hidden: [64, 64], buffer_size: 100}\ntrain: {total_steps: 100}\n");
}

TEST_CASE("Policy dense engine: PPO discrete with normalized observations equals TorchScript") {
  check_dense_engine(
      "name: t\nseed: 5\n"
      "env: {id: classic/cartpole-v1, wrappers: [{name: normalize_observation, params: {clip: "
      "2}}]}\n"
      "agent: {type: ppo, hidden: [64, 64], activation: tanh}\ntrain: {total_steps: 1000}\n",
      500);
}

TEST_CASE("Policy dense engine: A2C with ReLU equals the TorchScript forward") {
  check_dense_engine(
      "name: t\nseed: 6\nenv: {id: classic/cartpole-v1}\n"
      "agent: {type: a2c, hidden: [32], activation: relu}\ntrain: {total_steps: 1000}\n");
}

TEST_CASE("Policy dense engine: PPO Box (mean clipped to the bounds) equals TorchScript") {
  check_dense_engine(
      "name: t\nseed: 7\nenv: {id: classic/pendulum-v1}\n"
      "agent: {type: ppo, hidden: [64, 64]}\ntrain: {total_steps: 1000}\n");
}

TEST_CASE("Policy dense engine: SAC Box (squashed mean) and discrete equal TorchScript") {
  check_dense_engine(
      "name: t\nseed: 8\nenv: {id: classic/pendulum-v1}\n"
      "agent: {type: sac, hidden: [64, 64], buffer_size: 100}\ntrain: {total_steps: 1000}\n");
  check_dense_engine(
      "name: t\nseed: 9\nenv: {id: classic/cartpole-v1}\n"
      "agent: {type: sac, hidden: [64, 64], buffer_size: 100}\ntrain: {total_steps: 1000}\n");
}

TEST_CASE("Policy dense engine: networks without a plan act through TorchScript") {
  test::TempDir dir("export_no_dense");
  std::filesystem::create_directories(dir.path);
  const std::string path = (dir.path / "policy.pt").string();
  Experiment dueling = test::experiment_from(
      "name: t\nseed: 4\nenv: {id: classic/cartpole-v1}\n"
      "agent: {type: dqn, hidden: [16], buffer_size: 100, dueling: true}\n"
      "train: {total_steps: 100}\n");
  save_policy(export_policy(dueling), path);
  CHECK(std::string(Policy::load(path).engine()) == "torchscript");
  Experiment cnn = test::experiment_from(
      "name: t\nseed: 4\nenv: {id: minatar/breakout-v1}\n"
      "agent: {type: dqn, torso: cnn, buffer_size: 100}\ntrain: {total_steps: 100}\n");
  save_policy(export_policy(cnn), path);
  CHECK(std::string(Policy::load(path).engine()) == "torchscript");
}

}  // namespace
}  // namespace rl

// Exported TorchScript policies (agents/export) against the agents they came from: on >= 1000
// recorded observations the file, loaded with torch::jit::load (C++) and torch.jit.load
// (Python, tests/agents/export_check.py), chooses the agent's greedy actions and reproduces its
// values; the Python side also exports the policy to ONNX and checks the model.
#include "torch_doctest.h"
// (torch_doctest.h first: see there.)
#include <torch/script.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agents/common/on_policy.h"
#include "agents/dqn/dqn_agent.h"
#include "agents/export/policy_export.h"
#include "agents/sac/sac_agent.h"
#include "core/rng.h"
#include "export_test_util.h"
#include "test_util.h"

namespace rl {
namespace {

constexpr int kObservations = 1200;
constexpr double kTolerance = 1e-5;

using test::source_dir;

// A fresh agent (untrained weights suffice for equality) of a shipped config. Configs with an
// eval_epsilon act randomly at times even when greedy; the tests set it to 0, since the
// exported policy is purely greedy.
Experiment experiment_of(const std::string& config, std::vector<std::string> overrides) {
  overrides.push_back("train.total_steps=1000");
  return build_experiment(
      load_config((source_dir() / "configs" / (config + ".yaml")).string(), overrides));
}

// Observations the exported policy takes (the env below any normalize_observation wrapper) and
// the same ones as the agent sees them, from random play.
struct Recorded {
  std::vector<uint8_t> policy_input, agent_input;
  Space policy_space;
};

Recorded record(Experiment& experiment, int count) {
  EnvConfig below = experiment.run().env;
  const auto& wrappers = below.wrappers;
  double clip = 0, epsilon = 0;
  for (size_t i = 0; i < wrappers.size(); ++i) {
    if (wrappers[i].name != "normalize_observation") continue;
    clip = std::get<double>(wrappers[i].params.at("clip"));
    epsilon = std::get<double>(wrappers[i].params.at("epsilon"));
    below.wrappers.resize(i);
    break;
  }
  WrapperContext unused;
  std::unique_ptr<Env> env = make_configured_env(below, unused);
  Recorded r;
  r.policy_space = env->spec().observation_space;
  Rng rng(11);
  test::play_randomly(*env, count, 5, rng, &r.policy_input);
  r.agent_input = r.policy_input;
  if (const auto& stats = experiment.wrapper_context.observation_stats) {
    const size_t dim = r.policy_space.numel();
    r.agent_input.resize(static_cast<size_t>(count) * dim * sizeof(float));
    for (int i = 0; i < count; ++i) {
      const auto* raw = reinterpret_cast<const float*>(r.policy_input.data()) + i * dim;
      auto* out = reinterpret_cast<float*>(r.agent_input.data()) + i * dim;
      stats->normalize({raw, dim}, /*update=*/false, epsilon, clip, {out, dim});
    }
  }
  return r;
}

// Plays `steps` random steps in the configured (wrapped) env so that observation statistics
// move away from their initial values.
void warm_up_statistics(Experiment& experiment, int steps) {
  Rng rng(3);
  test::play_randomly(*experiment.make_env(), steps, 9, rng);
}

torch::Tensor policy_tensor(const Recorded& r, int count) {
  std::vector<int64_t> shape = {count};
  shape.insert(shape.end(), r.policy_space.shape.begin(), r.policy_space.shape.end());
  const auto dtype = r.policy_space.dtype == DType::kU8 ? torch::kUInt8 : torch::kFloat32;
  return torch::from_blob(const_cast<uint8_t*>(r.policy_input.data()), shape, dtype).clone();
}

void write_tensor(const std::filesystem::path& path, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.contiguous();
  test::write_bytes(path, t.data_ptr(), t.numel() * t.element_size());
}

torch::Tensor call(torch::jit::Module& policy, const std::string& method,
                   std::vector<c10::IValue> args) {
  return policy.get_method(method)(std::move(args)).toTensor();
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Whether the policy's discrete actions are the agent's. Where they differ, the agent's own
// scores (Q-values or logits) of the two actions must be a near-tie (within twice the value
// tolerance, so float rounding of equally good actions explains it: the agent may compute with
// its BLAS engine, the policy with LibTorch), and such rows must stay rare (<= 1%).
bool actions_agree(const torch::Tensor& policy_actions, const torch::Tensor& agent_actions,
                   const torch::Tensor& agent_scores) {
  const torch::Tensor differ = (policy_actions != agent_actions).nonzero().reshape(-1);
  for (int64_t i = 0; i < differ.numel(); ++i) {
    const int64_t row = differ[i].item<int64_t>();
    const float chosen_by_policy = agent_scores[row][policy_actions[row]].item<float>();
    const float chosen_by_agent = agent_scores[row][agent_actions[row]].item<float>();
    if (std::abs(chosen_by_policy - chosen_by_agent) > 2 * kTolerance) return false;
  }
  MESSAGE(differ.numel() << " near-tie rows of " << agent_actions.numel());
  return differ.numel() * 100 <= agent_actions.numel();
}

// What the agent computes on the recorded observations: its greedy actions (unmasked and
// masked) and the values behind them, keyed by the policy method that must reproduce them.
struct Expected {
  torch::Tensor actions, masked_actions, masks;
  std::vector<std::pair<std::string, torch::Tensor>> values;
};

Expected agent_outputs(Experiment& experiment, const Recorded& r, int count) {
  Agent& agent = *experiment.agent;
  const Space& action_space = experiment.env_spec.action_space;
  Expected e;
  const bool discrete = action_space.is_discrete();
  if (discrete) {
    e.actions = torch::empty({count}, torch::kInt64);
    agent.act(r.agent_input, count, ActMode::kGreedy,
              {{e.actions.data_ptr<int64_t>(), static_cast<size_t>(count)}, {}});
    e.masks = torch::empty({count, action_space.n}, torch::kUInt8);
    const std::vector<uint8_t> masks = test::random_masks(count, action_space.n, 17, 0.6);
    std::memcpy(e.masks.data_ptr<uint8_t>(), masks.data(), masks.size());
    e.masked_actions = torch::empty({count}, torch::kInt64);
    agent.act(r.agent_input, count, ActMode::kGreedy,
              {{e.masked_actions.data_ptr<int64_t>(), static_cast<size_t>(count)}, {}, masks});
  } else {
    e.actions = torch::empty({count, action_space.numel()});
    agent.act(r.agent_input, count, ActMode::kGreedy,
              {{}, {e.actions.data_ptr<float>(), static_cast<size_t>(e.actions.numel())}});
  }
  torch::NoGradGuard no_grad;
  if (auto* dqn = dynamic_cast<DqnAgent*>(&agent)) {
    const std::vector<float> q = dqn->q_values(r.agent_input, count);
    e.values.emplace_back("q_values", torch::tensor(q).reshape({count, action_space.n}));
  } else if (auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent)) {
    const torch::Tensor input = on_policy->observation_input()(r.agent_input.data(), count).clone();
    const PolicyOutput out = on_policy->network()->forward(input);
    e.values.emplace_back("value", out.value);
    e.values.emplace_back(discrete ? "logits" : "mean", out.actor);
  } else if (auto* sac = dynamic_cast<SacAgent*>(&agent); sac && discrete) {
    const size_t bytes = r.agent_input.size() / count;
    torch::Tensor q = torch::empty({count, action_space.n});
    for (int i = 0; i < count; ++i) {
      const ActionValues v = sac->action_values({r.agent_input.data() + i * bytes, bytes});
      std::memcpy(q[i].data_ptr<float>(), v.values.data(), sizeof(float) * v.values.size());
    }
    e.values.emplace_back("q_values", q);
    const torch::Tensor input = sac->observation_input()(r.agent_input.data(), count).clone();
    SacActor actor = sac->actor();                          // A handle sharing the agent's network.
    e.values.emplace_back("logits", actor->logits(input));  // What it acts on.
  }
  return e;
}

// Compares the saved policy, loaded back with torch::jit::load, with the agent; then leaves
// the inputs and expected outputs in `dir` for the Python check.
void check_cpp(const std::string& path, const Recorded& r, const Expected& e, int count,
               const std::filesystem::path& dir) {
  torch::jit::Module policy = torch::jit::load(path);
  const torch::Tensor obs = policy_tensor(r, count);
  const torch::Tensor actions = call(policy, "forward", {obs});
  if (e.actions.dtype() == torch::kInt64) {
    const torch::Tensor scores = e.values.back().second;  // What the agent acts on.
    CHECK(actions_agree(actions, e.actions, scores));
    CHECK(actions_agree(call(policy, "forward", {obs, e.masks}), e.masked_actions, scores));
    CHECK(actions_agree(call(policy, "act_masked", {obs, e.masks.to(torch::kBool)}),
                        e.masked_actions, scores));
    write_tensor(dir / "legal.u8", e.masks);
    write_tensor(dir / "act_masked.i64", e.masked_actions);
    write_tensor(dir / "act.i64", e.actions);
  } else {
    CHECK(max_difference(actions, e.actions) <= kTolerance);
    write_tensor(dir / "act.f32", e.actions);
  }
  for (const auto& [method, expected] : e.values) {
    INFO(method);
    CHECK(max_difference(call(policy, method, {obs}), expected) <= kTolerance);
    write_tensor(dir / (method + ".f32"), expected);
  }
  write_tensor(dir / "obs.bin", obs);
}

// Exports `experiment`'s agent, and checks the file in C++ and Python against the agent.
void check_export(Experiment& experiment, const std::string& name) {
  test::TempDir dir("export_" + name);
  std::filesystem::create_directories(dir.path);
  const std::string path = (dir.path / "policy.pt").string();
  save_policy(export_policy(experiment), path);
  const Recorded r = record(experiment, kObservations);
  const Expected e = agent_outputs(experiment, r, kObservations);
  check_cpp(path, r, e, kObservations, dir.path);
  test::check_with_python("export_check.py", path, dir.path);
}

TEST_CASE("export: DQN with an MLP torso matches the agent in C++ and Python") {
  Experiment experiment = experiment_of("dqn_cartpole", {"agent.buffer_size=1000"});
  check_export(experiment, "dqn_mlp");
}

TEST_CASE("export: DQN with a dueling head matches the agent") {
  Experiment experiment =
      experiment_of("dqn_cartpole", {"agent.buffer_size=1000", "agent.dueling=true"});
  check_export(experiment, "dqn_dueling");
}

TEST_CASE("export: DQN with the MinAtar CNN on u8 observations matches the agent") {
  Experiment experiment =
      experiment_of("dqn_minatar_breakout", {"agent.buffer_size=1000", "agent.eval_epsilon=0"});
  REQUIRE(experiment.env_spec.observation_space.dtype == DType::kU8);
  check_export(experiment, "dqn_cnn");
}

TEST_CASE("export: DQN with the MinAtar CNN and a dueling head matches the agent") {
  Experiment experiment =
      experiment_of("dqn_minatar_breakout",
                    {"agent.buffer_size=1000", "agent.dueling=true", "agent.eval_epsilon=0"});
  check_export(experiment, "dqn_cnn_dueling");
}

TEST_CASE("export: PPO with the Nature CNN on u8 images matches the agent") {
  // Only the actor-critic torsos have the Nature CNN (DQN's CNN is MinAtar's), and it needs
  // images of at least 36x36: MinAtar's 10x10 boards are too small, the racetrack's 64x64 top
  // view is the shipped env that feeds it.
  Experiment experiment =
      experiment_of("ppo_racetrack", {"env.params.observation=image", "agent.torso=nature_cnn"});
  REQUIRE(experiment.env_spec.observation_space.shape == std::vector<int64_t>{1, 64, 64});
  check_export(experiment, "ppo_nature_cnn");
}

TEST_CASE("export: PPO with discrete actions and observation normalization matches the agent") {
  Experiment experiment = experiment_of(
      "ppo", {"env.id=classic/cartpole-v1", "env.wrappers=[{name: normalize_observation}]"});
  warm_up_statistics(experiment, 500);
  REQUIRE(experiment.wrapper_context.observation_stats->snapshot().count() > 100);
  check_export(experiment, "ppo_discrete");
}

TEST_CASE("export: SAC with agent.normalize_observations matches the agent") {
  // The setting becomes the normalize_observation wrapper, which the export applies.
  Experiment experiment = experiment_of(
      "sac_pendulum",
      {"agent.buffer_size=1000", "agent.normalize_observations=true", "agent.observation_clip=3"});
  warm_up_statistics(experiment, 500);
  REQUIRE(experiment.wrapper_context.observation_stats->snapshot().count() > 100);
  check_export(experiment, "sac_box_normalized");
}

TEST_CASE("export: PPO with the MinAtar CNN (shared torso) matches the agent") {
  Experiment experiment = experiment_of("ppo_minatar_breakout", {});
  check_export(experiment, "ppo_cnn");
}

TEST_CASE("export: PPO with Box actions matches the agent (mean clipped to the bounds)") {
  Experiment experiment = experiment_of("ppo_pendulum", {"agent.initial_log_std=0"});
  check_export(experiment, "ppo_box");
}

TEST_CASE("export: A2C matches the agent") {
  Experiment experiment = experiment_of("a2c_cartpole", {});
  check_export(experiment, "a2c");
}

TEST_CASE("export: SAC with Box actions matches the agent (squashed mean)") {
  Experiment experiment = experiment_of("sac_pendulum", {"agent.buffer_size=1000"});
  check_export(experiment, "sac_box");
}

TEST_CASE("export: SAC with discrete actions matches the agent") {
  Experiment experiment =
      experiment_of("sac_pendulum", {"agent.buffer_size=1000", "env.id=classic/cartpole-v1"});
  check_export(experiment, "sac_discrete");
}

TEST_CASE("export: the policy stores its spaces and env id as attributes") {
  Experiment experiment =
      experiment_of("dqn_minatar_breakout", {"agent.buffer_size=1000", "agent.eval_epsilon=0"});
  torch::jit::Module policy = export_policy(experiment);
  CHECK(policy.attr("rlcade_format").toStringRef() == kPolicyFormat);
  CHECK(policy.attr("agent_type").toStringRef() == "dqn");
  CHECK(policy.attr("env_id").toStringRef() == experiment.run().env.id);
  CHECK(policy.attr("observation_dtype").toStringRef() == "u8");
  CHECK(policy.attr("observation_shape").toIntVector() ==
        experiment.env_spec.observation_space.shape);
  CHECK(policy.attr("action_kind").toStringRef() == "discrete");
  CHECK(policy.attr("num_actions").toInt() == experiment.env_spec.action_space.n);
}

TEST_CASE("export: observations of the wrong shape are refused with a message") {
  Experiment experiment = experiment_of("dqn_cartpole", {"agent.buffer_size=1000"});
  torch::jit::Module policy = export_policy(experiment);
  CHECK_THROWS_WITH(policy.forward({torch::zeros({2, 5})}),
                    doctest::Contains("observations must be batch-first [B, 4]"));
}

}  // namespace
}  // namespace rl

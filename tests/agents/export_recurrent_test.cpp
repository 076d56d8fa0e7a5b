// Exported recurrent policies (PPO/A2C with agent.recurrent, agents/export/recurrent_scripts.h)
// against the agent they came from, over >= 1000 recorded steps of greedy play crossing many
// episode boundaries: the file loaded with torch::jit::load (C++), through rl::Policy, and with
// torch.jit.load (Python, tests/agents/export_recurrent_check.py, which also exports the step to
// ONNX) chooses the agent's actions and reproduces its logits (or means), values and memory.
#include "torch_doctest.h"
// (torch_doctest.h first: see there.)
#include <torch/script.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agents/common/on_policy.h"
#include "agents/export/policy_export.h"
#include "agents/policy.h"
#include "export_test_util.h"
#include "test_util.h"

namespace rl {
namespace {

constexpr int kSteps = 1200;
constexpr double kTolerance = 1e-5;

using test::source_dir;

// One stream of greedy play by the agent, with what it computed at every step.
struct Played {
  int steps = 0, episodes = 0;
  std::vector<uint8_t> observations;  // steps * observation bytes
  std::vector<uint8_t> starts;        // 1: the step opens an episode (memory reset)
  std::vector<int64_t> discrete;      // Discrete actions
  std::vector<float> continuous;      // Box actions
  std::vector<float> actor, value;    // Logits or Gaussian means; V(s)
  std::vector<float> states;          // The memory after each step
};

Played play(Experiment& experiment, int steps) {
  auto& agent = dynamic_cast<OnPolicyAgent&>(*experiment.agent);
  std::unique_ptr<Env> env = experiment.make_env();
  const Space& actions = env->spec().action_space;
  const size_t bytes = env->spec().observation_space.bytes();
  std::vector<uint8_t> obs(bytes);
  RecurrentState memory = agent.initial_state(1);
  Played p;
  p.steps = steps;
  env->reset(21, obs);
  bool start = true;
  std::vector<float> action(static_cast<size_t>(actions.is_discrete() ? 0 : actions.numel()));
  torch::NoGradGuard no_grad;
  for (int t = 0; t < steps; ++t) {
    p.observations.insert(p.observations.end(), obs.begin(), obs.end());
    p.starts.push_back(start ? 1 : 0);
    if (start) memory.reset(0);
    const torch::Tensor before = torch::tensor(memory.values).reshape({1, memory.size});
    torch::Tensor next;
    const PolicyOutput out =
        agent.network()->forward_step(agent.observation_input()(obs.data(), 1), before, next);
    const torch::Tensor actor = out.actor.contiguous();
    p.actor.insert(p.actor.end(), actor.data_ptr<float>(), actor.data_ptr<float>() + actor.numel());
    p.value.push_back(out.value.item<float>());
    int64_t index = 0;
    agent.act(obs, 1, ActMode::kGreedy,
              {{&index, actions.is_discrete() ? 1u : 0u}, action, {}, &memory});
    p.states.insert(p.states.end(), memory.values.begin(), memory.values.end());
    if (actions.is_discrete()) {
      p.discrete.push_back(index);
    } else {
      p.continuous.insert(p.continuous.end(), action.begin(), action.end());
    }
    const StepResult step = env->step(
        actions.is_discrete() ? Action::discrete(index) : Action::continuous(action), obs);
    start = step.terminated || step.truncated;
    if (start) {
      ++p.episodes;
      env->reset(static_cast<uint64_t>(100 + t), obs);
    }
  }
  return p;
}

double max_difference(const torch::Tensor& a, const float* expected) {
  const torch::Tensor t = a.contiguous().to(torch::kFloat32);
  double worst = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    worst = std::max(worst, std::abs(double(t.data_ptr<float>()[i]) - expected[i]));
  }
  return worst;
}

torch::Tensor observation(const Policy& policy, const Played& p, int t) {
  const Space& space = policy.observation_space();
  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), space.shape.begin(), space.shape.end());
  return torch::from_blob(const_cast<uint8_t*>(p.observations.data()) + t * space.bytes(), shape,
                          space.dtype == DType::kU8 ? torch::kUInt8 : torch::kFloat32)
      .clone();
}

// The file through torch::jit::load: step() from initial_state() at every episode start.
void check_script(const std::string& path, const Policy& policy, const Played& p) {
  torch::jit::Module script = torch::jit::load(path);
  const int64_t size = policy.state_size();
  const int64_t action_numel =
      policy.action_space().is_discrete() ? 1 : policy.action_space().numel();
  const int64_t actor_width = static_cast<int64_t>(p.actor.size()) / p.steps;
  torch::Tensor state;
  int action_differences = 0;
  double actor_error = 0, value_error = 0, state_error = 0, continuous_error = 0;
  for (int t = 0; t < p.steps; ++t) {
    if (p.starts[t]) state = script.get_method("initial_state")({}).toTensor();
    const torch::Tensor obs = observation(policy, p, t);
    const auto outputs = script.get_method("step_outputs")({obs, state}).toTuple()->elements();
    actor_error = std::max(actor_error,
                           max_difference(outputs[0].toTensor(), p.actor.data() + t * actor_width));
    value_error = std::max(value_error, max_difference(outputs[1].toTensor(), &p.value[t]));
    const auto stepped = script.get_method("step")({obs, state}).toTuple()->elements();
    if (policy.action_space().is_discrete()) {
      action_differences += stepped[0].toTensor().item<int64_t>() != p.discrete[t];
    } else {
      continuous_error =
          std::max(continuous_error,
                   max_difference(stepped[0].toTensor(), p.continuous.data() + t * action_numel));
    }
    state = stepped[1].toTensor();
    state_error = std::max(state_error, max_difference(state, p.states.data() + t * size));
  }
  MESSAGE("errors: actor " << actor_error << ", value " << value_error << ", memory " << state_error
                           << ", actions " << continuous_error);
  CHECK(action_differences == 0);
  CHECK(actor_error <= kTolerance);
  CHECK(value_error <= kTolerance);
  CHECK(state_error <= kTolerance);
  CHECK(continuous_error <= kTolerance);
}

// The embedding API: act() carrying the Policy's own memory, reset at episode starts.
void check_policy_api(Policy& policy, const Played& p) {
  const size_t bytes = policy.observation_space().bytes();
  const int64_t numel = policy.action_space().is_discrete() ? 1 : policy.action_space().numel();
  int action_differences = 0;
  double continuous_error = 0;
  for (int t = 0; t < p.steps; ++t) {
    if (p.starts[t]) policy.reset_state();
    const Action action =
        policy.act(std::span<const uint8_t>(p.observations).subspan(t * bytes, bytes));
    if (policy.action_space().is_discrete()) {
      action_differences += action.index != p.discrete[t];
    } else {
      for (int64_t d = 0; d < numel; ++d) {
        continuous_error = std::max(
            continuous_error, std::abs(double(action.values[d]) - p.continuous[t * numel + d]));
      }
    }
  }
  CHECK(action_differences == 0);
  CHECK(continuous_error <= kTolerance);
}

template <typename T>
void write_vector(const std::filesystem::path& path, const std::vector<T>& values) {
  test::write_bytes(path, values.data(), values.size() * sizeof(T));
}

void check_python(const std::filesystem::path& dir, const std::string& policy, const Played& p) {
  write_vector(dir / "obs.bin", p.observations);
  write_vector(dir / "starts.u8", p.starts);
  write_vector(dir / "actor.f32", p.actor);
  write_vector(dir / "value.f32", p.value);
  write_vector(dir / "state.f32", p.states);
  if (!p.discrete.empty()) write_vector(dir / "act.i64", p.discrete);
  if (!p.continuous.empty()) write_vector(dir / "act.f32", p.continuous);
  test::check_with_python("export_recurrent_check.py", policy, dir);
}

void check_recurrent_export(const std::string& config, std::vector<std::string> overrides,
                            const std::string& name) {
  overrides.push_back("train.total_steps=1000");
  Experiment experiment = build_experiment(
      load_config((source_dir() / "configs" / (config + ".yaml")).string(), overrides));
  REQUIRE(experiment.agent->recurrent());
  test::TempDir dir("export_recurrent_" + name);
  std::filesystem::create_directories(dir.path);
  const std::string path = (dir.path / "policy.pt").string();
  save_policy(export_policy(experiment), path);
  const Played played = play(experiment, kSteps);
  MESSAGE(played.episodes << " episode ends in " << played.steps << " steps");
  CHECK(played.episodes >= 3);
  Policy policy = Policy::load(path);
  CHECK(policy.recurrent());
  CHECK(policy.state_size() == experiment.agent->recurrent_state_size());
  check_script(path, policy, played);
  check_policy_api(policy, played);
  check_python(dir.path, path, played);
}

TEST_CASE("export: recurrent PPO (LSTM) matches the agent over episodes in C++ and Python") {
  check_recurrent_export("ppo_lstm_cartpole_novel", {}, "lstm");
}

TEST_CASE("export: recurrent A2C (two-layer GRU) matches the agent") {
  check_recurrent_export("a2c_cartpole", {"agent.recurrent={type: gru, hidden: 32, layers: 2}"},
                         "gru");
}

TEST_CASE("export: recurrent PPO with layers per head after the memories matches the agent") {
  check_recurrent_export("ppo_lstm_cartpole_novel", {"agent.recurrent.head_hidden=[16, 8]"},
                         "lstm_heads");
}

TEST_CASE("export: recurrent A2C with a shared GRU and ReLU layers per head matches the agent") {
  check_recurrent_export(
      "a2c_cartpole",
      {"agent.recurrent={type: gru, hidden: 32, head_hidden: [16], head_activation: relu}"},
      "gru_heads");
}

TEST_CASE("export: recurrent PPO with Box actions matches the agent") {
  check_recurrent_export("ppo_pendulum",
                         {"agent.recurrent={type: lstm, hidden: 16, layers: 2}",
                          "agent.num_minibatches=1", "agent.initial_log_std=0"},
                         "lstm_box");
}

TEST_CASE("Policy: recurrent policies carry memory per env through step(), and refuse batch act") {
  Experiment experiment = build_experiment(
      load_config((source_dir() / "configs" / "ppo_lstm_cartpole_novel.yaml").string(),
                  {"train.total_steps=1000"}));
  test::TempDir dir("export_recurrent_api");
  std::filesystem::create_directories(dir.path);
  const std::string path = (dir.path / "policy.pt").string();
  save_policy(export_policy(experiment), path);
  Policy policy = Policy::load(path);
  const Played p = play(experiment, 40);
  const size_t bytes = policy.observation_space().bytes();
  // Two envs: slot 0 replays the recorded stream, slot 1 restarts at every step.
  std::vector<float> state(static_cast<size_t>(2 * policy.state_size()), 0.f);
  Policy fresh = Policy::load(path);
  for (int t = 0; t < p.steps; ++t) {
    if (p.starts[t]) std::fill_n(state.begin(), policy.state_size(), 0.f);
    std::fill(state.begin() + policy.state_size(), state.end(), 0.f);
    std::vector<uint8_t> two(p.observations.begin() + t * bytes,
                             p.observations.begin() + (t + 1) * bytes);
    two.insert(two.end(), two.begin(), two.end());
    std::vector<int64_t> actions(2);
    policy.step(two, 2, state, actions, {});
    CHECK(actions[0] == p.discrete[t]);
    fresh.reset_state();
    CHECK(actions[1] == fresh.act(std::span<const uint8_t>(two).subspan(0, bytes)).index);
  }
  std::vector<int64_t> one(1);
  CHECK_THROWS_AS(
      policy.act(std::span<const uint8_t>(p.observations).subspan(0, bytes), 1, one, {}),
      std::logic_error);
  std::vector<float> short_state(3);
  CHECK_THROWS_WITH_AS(policy.step(std::span<const uint8_t>(p.observations).subspan(0, bytes), 1,
                                   short_state, one, {}),
                       doctest::Contains("the state needs"), std::invalid_argument);
  const std::vector<uint8_t> only_right = {0, 1};
  policy.reset_state();
  CHECK(policy.act(std::span<const uint8_t>(p.observations).subspan(0, bytes), only_right).index ==
        1);
}

}  // namespace
}  // namespace rl

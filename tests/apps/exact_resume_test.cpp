// A run killed with SIGKILL between checkpoints (RLCADE_INJECT_KILL_AT_STEP) and continued
// with --resume ends bit-identical to the same run uninterrupted: the same final weights and
// the same metrics.csv apart from its timing columns. DQN (replay buffer, epsilon schedule,
// MinAtar's sticky actions), SAC (replay, torch generator) and PPO / A2C with checkpoints at
// rollout boundaries (reward and observation normalization).
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "agents/checkpoint.h"
#include "agents/torch_doctest.h"  // First: keeps doctest's CHECK (see there).
#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::contains;
using test::shell_quoted;
using test::TempDir;

test::AppResult rltrain(const std::string& args, const std::string& env_prefix = "") {
  return test::run_app("rltrain", args, fs::temp_directory_path(), env_prefix);
}

// The agent of a checkpoint (networks, optimizer, counters, RNG states) as bytes.
std::string agent_bytes(const fs::path& checkpoint) {
  Experiment experiment = load_experiment_from_checkpoint(checkpoint.string());
  torch::serialize::OutputArchive archive;
  experiment.agent->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return std::move(bytes).str();
}

// What the agent of a checkpoint computes for a few fixed observations (greedy actions, and
// the values behind them for Discrete action spaces): equal outputs mean equal weights.
std::vector<float> agent_outputs(const fs::path& checkpoint) {
  Experiment experiment = load_experiment_from_checkpoint(checkpoint.string());
  const Space& observations = experiment.env_spec.observation_space;
  const Space& actions = experiment.env_spec.action_space;
  const int batch = 16;
  std::vector<uint8_t> input(observations.bytes() * batch);
  Rng rng(5);
  if (observations.dtype == DType::kU8) {
    for (auto& byte : input) byte = static_cast<uint8_t>(rng.below(2));
  } else {
    auto* floats = reinterpret_cast<float*>(input.data());
    for (size_t i = 0; i < input.size() / sizeof(float); ++i) {
      floats[i] = static_cast<float>(rng.uniform(-1, 1));
    }
  }
  std::vector<int64_t> discrete(actions.is_discrete() ? batch : 0);
  std::vector<float> outputs(actions.is_discrete() ? 0 : batch * actions.numel());
  experiment.agent->act(input, batch, ActMode::kGreedy, {discrete, outputs});
  for (int i = 0; i < batch && actions.is_discrete(); ++i) {
    const auto row =
        std::span<const uint8_t>(input).subspan(i * observations.bytes(), observations.bytes());
    for (float v : experiment.agent->action_values(row).values) outputs.push_back(v);
    outputs.push_back(static_cast<float>(discrete[i]));
  }
  return outputs;
}

// metrics.csv without its timing columns (wall_seconds, steps_per_second).
std::vector<std::string> metrics_without_timing(const fs::path& run) {
  std::istringstream text(read_file((run / "metrics.csv").string()));
  std::vector<std::string> rows;
  std::vector<bool> timing;
  for (std::string line; std::getline(text, line);) {
    std::istringstream cells(line);
    std::string row;
    size_t column = 0;
    for (std::string cell; std::getline(cells, cell, ','); ++column) {
      if (rows.empty()) timing.push_back(cell == "wall_seconds" || cell == "steps_per_second");
      if (column < timing.size() && !timing[column]) row += cell + ",";
    }
    rows.push_back(row);
  }
  return rows;
}

// Trains `args` once uninterrupted and once killed at `kill_at` then resumed; checks that both
// end the same: metrics, what the final agents compute and, with `same_agent_bytes`, the whole
// saved agent (LibTorch's own optimizers key their state by memory address, so agents using
// them, like A2C, differ in those bytes between processes). Returns the resumed output.
std::string check_exact_resume(const std::string& name, const std::string& args, int64_t kill_at,
                               bool same_agent_bytes = true) {
  TempDir dir(name);
  const fs::path whole = dir.path / "whole", killed = dir.path / "killed";
  const test::AppResult reference = rltrain(args + " --out " + shell_quoted(whole));
  CAPTURE(reference.output);
  REQUIRE(reference.exit_code == 0);

  const test::AppResult died =
      rltrain(args + " --out " + shell_quoted(killed),
              "env RLCADE_INJECT_KILL_AT_STEP=" + std::to_string(kill_at) + " ");
  CAPTURE(died.output);
  REQUIRE(died.exit_code == 128 + 9);  // The shell's status for a child killed by SIGKILL.
  REQUIRE_FALSE(fs::exists(killed / "checkpoints" / "final.pt"));
  const test::AppResult resumed = rltrain("--resume " + shell_quoted(killed));
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(contains(resumed.output, "envs mid-episode by replaying"));

  CHECK(metrics_without_timing(killed) == metrics_without_timing(whole));
  CHECK(agent_outputs(killed / "checkpoints" / "final.pt") ==
        agent_outputs(whole / "checkpoints" / "final.pt"));
  if (same_agent_bytes) {
    CHECK(agent_bytes(killed / "checkpoints" / "final.pt") ==
          agent_bytes(whole / "checkpoints" / "final.pt"));
  }
  return resumed.output;
}

std::string config(const char* file) { return shell_quoted(test::source_dir() / "configs" / file); }

TEST_CASE("exact resume: DQN on MinAtar Breakout killed between checkpoints") {
  const std::string output = check_exact_resume(
      "exact_dqn",
      config("dqn_minatar_breakout.yaml") +
          " --set train.total_steps=3000 --set train.checkpoint_every=1000"
          " --set train.eval_every=1000 --set train.eval_episodes=2 --set train.log_every=100"
          " --set agent.learning_starts=500 --set agent.target_update_period=200",
      2500);
  CHECK(contains(output, "replay buffer restored: 2000 transitions"));
}

TEST_CASE("exact resume: SAC on Pendulum killed between checkpoints") {
  const std::string output = check_exact_resume(
      "exact_sac",
      config("sac_pendulum.yaml") +
          " --set train.total_steps=900 --set train.checkpoint_every=300"
          " --set train.eval_every=300 --set train.eval_episodes=1 --set train.log_every=50"
          " --set agent.learning_starts=200",
      800);
  CHECK(contains(output, "replay buffer restored: 600 transitions"));
}

TEST_CASE("exact resume: PPO with normalized observations and rewards, at a rollout boundary") {
  TempDir dir("exact_ppo_config");
  const fs::path file = dir.path / "ppo.yaml";
  std::string yaml = read_file((test::source_dir() / "configs" / "ppo_pendulum.yaml").string());
  const std::string envs = "  num_envs: 4\n";
  REQUIRE(yaml.find(envs) != std::string::npos);
  yaml.replace(yaml.find(envs), envs.size(),
               envs + "  wrappers: [{name: normalize_observation}]\n");
  write_file_atomic(file.string(), yaml);
  // 4 envs x 64 steps = 256 env steps per rollout; checkpoints every 2 rollouts.
  check_exact_resume("exact_ppo",
                     shell_quoted(file) +
                         " --set agent.num_steps=64 --set agent.num_minibatches=4"
                         " --set agent.normalize_reward=true --set train.total_steps=1536"
                         " --set train.checkpoint_every=512 --set train.eval_every=512"
                         " --set train.eval_episodes=1 --set train.log_every=128",
                     1300);
}

TEST_CASE("exact resume: A2C at a rollout boundary") {
  // 8 envs x 5 steps = 40 env steps per rollout; checkpoints every 5 rollouts.
  check_exact_resume("exact_a2c",
                     config("a2c_cartpole.yaml") +
                         " --set train.total_steps=800 --set train.checkpoint_every=200"
                         " --set train.eval_every=400 --set train.eval_episodes=1"
                         " --set train.log_every=40",
                     500, /*same_agent_bytes=*/false);
}

}  // namespace
}  // namespace rl

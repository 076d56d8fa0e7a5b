// The layout of a training config (docs/configs.md):
//
//   # What this config targets and its budget.
//   name: dqn_cartpole
//   seed: 1
//   env: {id: classic/cartpole-v1, params: {...}, num_envs: 1, wrappers: [...]}
//   agent: {type: dqn, ...agent settings}
//   train: {total_steps: 50000, eval_every: 5000, eval_episodes: 10, ...}
//   target: {metric: eval_mean, threshold: 475, within_steps: 50000}  (optional; core/run_target.h)
//
// read_run_config() reads everything but the agent's own settings, which the agent's factory
// reads from `agent_section` (AgentRegistry::make) so each agent owns its settings struct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/distributed/gradient_dtype.h"
#include "core/config.h"
#include "core/params.h"
#include "core/registry.h"
#include "core/run_target.h"
#include "core/vector_env.h"
#include "core/wrappers.h"

namespace rl {

struct WrapperConfig {
  std::string name;                          // A name of wrapper_catalog().
  std::map<std::string, ParamValue> params;  // Typed by the wrapper's declared params.
};

struct EnvConfig {
  std::string id;
  std::map<std::string, ParamValue> params;  // Typed by the env's declared params.
  int num_envs = 1;
  VectorMode vector_mode = VectorMode::kSync;
  int vector_threads = 0;
  std::vector<WrapperConfig> wrappers;  // Applied in order, innermost first.
};

struct TrainConfig {
  int64_t total_steps = 50000;
  int64_t eval_every = 5000;  // Env steps between greedy evaluations; 0: only at the end.
  int64_t eval_episodes = 10;
  int64_t checkpoint_every = 10000;  // Env steps between checkpoints; 0: only at the end.
  // Newest checkpoints kept as checkpoints/step_<steps>.pt beside latest.pt, for falling back
  // when one is corrupt (agents/checkpoint_history.h); 0: only latest.pt.
  int64_t keep_checkpoints = 3;
  int64_t log_every = 1000;         // Env steps between metrics.csv rows.
  int64_t threads = 1;              // Tensor-library intra-op threads.
  bool record_eval = true;          // Record the first evaluation episode as a replay.
  int64_t eval_max_steps = 100000;  // Safety cap on one evaluation episode's length.
  bool stop_when_solved = false;    // End once an evaluation reaches the reward threshold.
  bool tensorboard = true;          // Write a TensorBoard event file in the run folder.
  // Save the replay buffer in latest.pt and its step_<steps>.pt copies when it holds less than
  // kSaveReplayLimitBytes, so --resume continues exactly (agents/checkpoint.h).
  bool save_replay = true;
  // Evaluation acts greedily (true) or samples the agent's stochastic policy (false). The
  // config's `auto` (its default) is the agent's choice: sampled for PPO/A2C, greedy for
  // DQN/SAC (RL Zoo's convention); see AgentEntry::evaluates_by_sampling.
  bool eval_deterministic = true;
};

// Replay buffers at least this large are not saved even with train.save_replay.
inline constexpr size_t kSaveReplayLimitBytes = size_t{512} << 20;

// The `distributed:` section (optional; read by multi-process training, docs/distributed.md).
struct DistributedConfig {
  // Seconds to wait for the other ranks (joining, each collective) before failing.
  double timeout_s = 60.0;
  // env.num_envs counts the envs of all ranks together, each rank running num_envs / N of
  // them (N processes; it must divide), so a rollout holds as many rows as in one process.
  // False: every rank runs num_envs envs (N times the rows per update).
  bool split_envs = false;
  // DD-PPO's straggler cut-off (ppo and a2c; agents/distributed/rollout_cutoff.h): once this
  // share of the ranks have collected their whole rollout, the others end theirs early. 1: off.
  double sync_fraction = 1.0;
  // The least share of num_steps a rank collects before the cut-off may end its rollout.
  double min_rollout_fraction = 0.25;
  // The format of the gradients' all-reduce: float32 (exact), or bfloat16 / float16, which
  // round the gradients to 16 bits before the sum (changes the numerics; docs/distributed.md).
  distributed::GradientDtype gradient_dtype = distributed::GradientDtype::kFloat32;
};

struct RunConfig {
  std::string source;  // Config file (or "checkpoint ..."), for messages.
  std::string name;
  uint64_t seed = 0;
  EnvConfig env;
  std::string agent_type;
  TrainConfig train;
  DistributedConfig distributed;
  std::optional<RunTarget> target;  // What the config claims, when it declares a target.
};

// A config being read: the document (kept alive for the sections), the run layout, and the
// agent section whose settings the agent factory reads.
struct LoadedConfig {
  ConfigDocument document;
  RunConfig run;
  ConfigSection agent_section;
};

// Reads the run layout strictly (unknown keys, types, ranges; unknown env ids, env
// parameters and wrappers are errors naming the file and line). Throws ConfigError.
LoadedConfig read_run_config(ConfigDocument document,
                             const EnvRegistry& registry = EnvRegistry::global());

// Builds one env as configured (registry env + wrappers, sharing `wrapper_context`).
std::unique_ptr<Env> make_configured_env(const EnvConfig& config, WrapperContext& wrapper_context,
                                         const EnvRegistry& registry = EnvRegistry::global());

}  // namespace rl

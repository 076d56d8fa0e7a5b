// The training loop shared by every agent: a vector env feeding the agent, metrics (CSV and
// a console progress line), periodic greedy evaluation on separate env copies (the first
// episode recorded as a replay), atomic checkpoints, resume, and a clean stop on request.
//
// A run folder holds:
//   config.yaml          the resolved config (every field with the value in use)
//   metrics.csv          one row per log_every steps (kind=train) and per evaluation (kind=eval);
//                        eval_success is a column when the env reports success
//   checkpoints/latest.pt (every checkpoint_every steps and at the end or on stop),
//   checkpoints/step_<steps>.pt (copies of the newest keep_checkpoints latest.pt files),
//   checkpoints/best.pt  (best evaluation mean), checkpoints/final.pt (end of training)
//   replays/eval_<step>.rlr, replays/best.rlr   recorded evaluation episodes
//   summary.json         env, agent, seed, total_steps, wall_seconds, steps_per_second,
//                        final_eval_mean, final_eval_std, best_eval_mean,
//                        final_eval_success, best_eval_success (null unless the env reports
//                        success), ...
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "agents/checkpoint.h"
#include "agents/experiment.h"

namespace rl {

class VectorEnv;
namespace distributed {
class Collectives;
}

// The transitions of one VectorEnv step as Agent::observe takes them, built one way wherever
// an agent learns from a vector env (the trainer, rlbench's profiles): s is a copy of the
// observations taken before the step, s' and the next legal-action masks come from
// VectorEnv::next_observation() / next_legal_actions() (the final observation, and an
// all-legal mask, where an episode ended and the env was auto-reset). The buffers are sized
// once at construction, so a step allocates nothing.
class VectorTransitions {
 public:
  explicit VectorTransitions(const VectorEnv& env);

  // Call before VectorEnv::step(): copies the observations the step starts from (s) and
  // returns the copy, for the agent to act on. Valid until the next begin_step().
  std::span<const uint8_t> begin_step(const VectorEnv& env);
  // Call after the step with the actions given to it (the span that fits the action space;
  // the other one empty). With `next_masks`, next_legal_actions holds every env's next mask
  // (Discrete action spaces only); else it is empty. The batch points into this object and
  // `env` and is valid until the next step or begin_step().
  TransitionBatch end_step(const VectorEnv& env, std::span<const int64_t> discrete_actions,
                           std::span<const float> continuous_actions, bool next_masks);

 private:
  std::vector<uint8_t> observations_;
  std::vector<uint8_t> next_observations_;
  std::vector<uint8_t> next_masks_;  // size * action_space.n (Discrete action spaces)
};

struct TrainOptions {
  std::string run_dir;  // Created if missing.
  // Continue from run_dir/checkpoints/latest.pt, or from the newest valid checkpoint when it
  // is corrupt (agents/checkpoint_history.h; the rejected files are logged).
  bool resume = false;
  std::ostream* log = nullptr;  // Progress and messages (nullptr: silent).
  bool interactive = false;     // Redraw the progress line in place (a terminal).
  // Checked every step; when it becomes true the loop checkpoints and returns.
  const std::atomic<bool>* stop_requested = nullptr;
  // Optional policy snapshots for a live viewer (rltrain --watch). Called on the training
  // thread with the agent as it is at that moment: before the first step, after every
  // evaluation, and whenever snapshot_seconds have passed since the previous call (0: only at
  // those points). It must return quickly, must not modify the experiment and must not keep
  // references to it (copy what it needs, e.g. the agent's weights).
  std::function<void(const Experiment& experiment, int64_t env_steps)> on_snapshot;
  double snapshot_seconds = 0.0;
  // Multi-process (data-parallel) training, docs/distributed.md: this process is one rank of
  // the group. Every rank runs the same loop on envs seeded apart (seed + rank * num_envs);
  // env steps count over all ranks (each loop step adds num_envs * world size); the ranks agree
  // every few steps on stopping (a signal on any rank, stop_when_solved) and pool their episode
  // statistics. Rank 0 alone writes the run folder (metrics, evaluations, checkpoints,
  // summary.json) and runs the evaluations; the other ranks only read it to resume. Null: one
  // process.
  distributed::Collectives* collectives = nullptr;
};

struct EvalResult {
  double mean = 0.0;
  double std = 0.0;
  std::vector<double> returns;
  std::vector<int64_t> lengths;
  // Envs with EnvSpec::reports_success: per episode 1 when it ended with StepResult::success
  // (an episode cut by the evaluation's max_steps counts as a failure), and their mean.
  // Otherwise empty and NaN.
  std::vector<uint8_t> successes;
  double success_rate = NAN;
};

struct TrainSummary {
  std::string run_dir;
  std::string env_id;
  std::string agent_type;
  uint64_t seed = 0;
  int64_t total_steps = 0;  // Env steps taken (all sessions).
  int64_t episodes = 0;
  double wall_seconds = 0.0;
  double steps_per_second = 0.0;
  double final_eval_mean = NAN;
  double final_eval_std = NAN;
  double best_eval_mean = NAN;
  // Success rate of the last evaluation and the highest of any (NaN unless the env reports
  // success, EnvSpec::reports_success).
  double final_eval_success = NAN;
  double best_eval_success = NAN;
  // First step at which an evaluation reached the env's reward threshold (-1: never), and
  // the training wall time at that point.
  int64_t solved_at_step = -1;
  double solved_at_seconds = NAN;
  bool interrupted = false;

  std::string to_json() const;
  std::string one_line() const;  // The final line rltrain prints.
};

// Trains `experiment` as configured. Throws std::runtime_error (I/O, checkpoint mismatch) and
// ConfigError; an interrupted run returns normally with summary.interrupted set. A write that
// fails while training (a checkpoint, metrics.csv, a replay) stops it; the error then says at
// which step and which checkpoint is intact. An env that becomes unavailable (EnvUnavailableError,
// core/env_error.h: a remote server died) stops it too, after latest.pt is written.
// For tests of resuming after a crash: with RLCADE_INJECT_KILL_AT_STEP=N in the environment the
// process kills itself with SIGKILL (as `kill -9`) in the first training step that reaches N
// env steps.
TrainSummary train(Experiment& experiment, const TrainOptions& options);

// Evaluation episodes use env seeds from run seed + kEvaluationSeedOffset on, apart from the
// training envs' seeds.
inline constexpr uint64_t kEvaluationSeedOffset = 1'000'000;

// Runs `episodes` episodes side by side on fresh env copies seeded seed, seed+1, ..., acting
// greedily or, with train.eval_deterministic false, sampling the policy from `seed`.
// If `record_path` is not empty, the first episode is saved there as a replay.
EvalResult evaluate(Experiment& experiment, int64_t episodes, uint64_t seed, int64_t max_steps,
                    const std::string& record_path = "");

}  // namespace rl

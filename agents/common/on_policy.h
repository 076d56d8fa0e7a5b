// What A2C and PPO share: their common settings, read strictly from the `agent:` section, and
// the agent base that collects n-step rollouts over the vector env and leaves the update rule
// to the concrete agent.
//
// Rollout cycle: act(kExplore) samples actions and remembers the values, log-probs and raw
// (unclipped) actions; observe() stores the step in a RolloutBuffer, folding V(final
// observation) into the reward of truncated steps; once num_steps steps are stored, update()
// computes GAE(lambda) advantages and calls learn(). A rollout in progress is not saved in
// checkpoints: a resumed run starts a fresh one.
//
// With `recurrent:` settings the network carries memory (agents/common/recurrent_core.h): the
// training envs' memory lives in a RecurrentRollout, greedy callers pass their own
// (ActionBatch::recurrent_state), and learn() re-runs whole env sequences (evaluate_sequences).
// Recurrent networks always use the LibTorch backend.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/optim/optimizer.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/actor_critic.h"
#include "agents/common/agent_util.h"
#include "agents/common/distributions.h"
#include "agents/common/nn/actor_critic_engine.h"
#include "agents/common/nn/optimizer.h"
#include "agents/common/preprocess.h"
#include "agents/common/recurrent_core.h"
#include "agents/common/recurrent_rollout.h"
#include "agents/distributed/advantage_moments.h"
#include "agents/distributed/merged_stats.h"
#include "agents/distributed/rollout_cutoff.h"
#include "core/config.h"
#include "core/rollout_buffer.h"

namespace rl {

namespace distributed {
class Collectives;
}

struct OnPolicySettings {
  // Network.
  TorsoOptions torso;
  bool shared_torso = false;     // One torso for policy and value (usual for CNNs).
  double initial_log_std = 0.0;  // Box actions: initial log standard deviation.
  RecurrentOptions recurrent;    // Memory after the torso (type none: feed-forward).

  // Rollouts and returns.
  int64_t num_steps = 128;  // Steps per env per rollout.
  double gamma = 0.99;
  double gae_lambda = 0.95;

  // Loss.
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;  // Global gradient-norm clip; 0 disables it.
  bool normalize_advantages = true;

  // Optimizer.
  OptimizerSettings optimizer{"adam", 2.5e-4, 1e-5, 0.99, 1e-5};
  bool anneal_lr = true;  // Linear decay of the learning rate to 0 over train.total_steps.

  // Preprocessing.
  double observation_scale = 0.0;  // 0: auto (1/255 for u8 pixels).
  bool normalize_reward = false;   // Scale rewards by the discounted-return std (VecNormalize).
  double reward_clip = 10.0;       // Clip of normalized rewards.
};

// Reads the common settings; `defaults` carries the agent's own defaults. Throws ConfigError.
OnPolicySettings read_on_policy_settings(ConfigSection& section, OnPolicySettings defaults);

class OnPolicyAgent : public Agent {
 public:
  OnPolicyAgent(const OnPolicySettings& settings, const AgentContext& context);

  std::string describe() const override;
  void act(std::span<const uint8_t> observations, int batch, ActMode mode,
           ActionBatch out) override;
  void seed_sampling(uint64_t seed) override { sampling_generator_ = make_generator(seed); }
  ActionValues action_values(std::span<const uint8_t> observation) override;
  int64_t recurrent_state_size() const override { return net_->state_size(); }
  ActionValues action_values_with_state(std::span<const uint8_t> observation,
                                        const RecurrentState& state) override;
  void observe(const TransitionBatch& transitions) override;
  std::map<std::string, double> update(int64_t env_steps) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // Learning rate for the update after `updates_done` updates (linear annealing).
  double learning_rate(int64_t updates_done) const;
  // The share of the run's updates still to come before update `updates_done`: 1 at the first,
  // falling linearly towards 0 (SB3's progress_remaining); what the annealed settings scale by.
  double progress_remaining(int64_t updates_done) const;
  int64_t updates_done() const { return updates_done_; }
  ActorCritic& network() { return net_; }
  const ObservationInput& observation_input() const { return input_; }
  const RolloutBuffer& rollout() const { return rollout_; }

  // Data-parallel training (DD-PPO, agents/distributed/data_parallel.h): copies rank 0's
  // weights into this agent, then averages the gradients over the ranks before every optimizer
  // step, pools the advantage-normalization statistics, merges the reward-normalization
  // statistics at every update, samples actions from a stream of its
  // own per rank and anneals the learning rate over this rank's share of the updates. Every rank
  // must call it at the same point; `collectives` must outlive the training.
  void set_collectives(distributed::Collectives* collectives);
  // DD-PPO's straggler cut-off, after set_collectives (agents/distributed/rollout_cutoff.h): a
  // rollout may end after fewer than num_steps steps; the update then learns from the rows
  // collected, bootstrapped from the values after the last step, with the gradients averaged
  // in proportion to each rank's rows, and anneals by env steps instead of updates. Throws
  // ConfigError when the shortest rollout would hold too few rows for an update, and for a
  // recurrent network (its sequences need whole rollouts).
  void enable_rollout_cutoff(const distributed::CutoffSettings& settings);

 protected:
  // One update on the full rollout_ (advantages computed). Returns its metrics.
  virtual std::map<std::string, double> learn() = 0;

  // Policy distribution terms for a batch of float observations and stored actions.
  struct Evaluation {
    torch::Tensor log_prob;  // [B]
    torch::Tensor entropy;   // [B]
    torch::Tensor value;     // [B]
  };
  // `legal_masks` (bool [B, actions], Discrete only) may be undefined: all legal.
  Evaluation evaluate_actions(const torch::Tensor& observations, const torch::Tensor& actions,
                              const torch::Tensor& legal_masks);
  // The whole rollout as tensors (aliasing the buffer's arrays where possible).
  struct RolloutTensors {
    torch::Tensor observations, actions, log_probs, values, advantages, returns;
    torch::Tensor legal_masks;  // bool [rows, actions] (Discrete actions), else undefined.
  };
  RolloutTensors rollout_tensors() const;
  // Recurrent networks: the stored memory and episode starts of the rollout (null otherwise).
  const RecurrentRollout* recurrent_rollout() const { return recurrent_.get(); }
  // Recurrent networks: re-runs the rollout sequences `ids` [count] (RecurrentRollout ids) from
  // their stored memory, with gradients. `rows` receives the rollout rows [L * count] that the
  // evaluation's entries belong to, in order (select the rest of `r` with them).
  Evaluation evaluate_sequences(const RolloutTensors& r, const int64_t* ids, int64_t count,
                                torch::Tensor& rows);
  // Clips gradients (when max_grad_norm > 0) and steps the optimizer; returns the norm before
  // clipping. `rows`: the rows the gradient is a mean over, this rank's weight in the average
  // over the ranks when the straggler cut-off makes their rollouts unequal.
  double clip_and_step(int64_t rows = 1);
  // Whether rollouts may end early (enable_rollout_cutoff): every rank must then still run
  // the same number of minibatches, of unequal sizes.
  bool rollouts_cut_off() const { return cutoff_ != nullptr; }
  // The fewest rows an update can learn from (PPO: one per minibatch).
  virtual int64_t minimum_update_rows() const { return 1; }
  // Data-parallel training: normalizes `advantages` in place to mean 0, std 1 with statistics
  // pooled over every rank's rows and returns true. Returns false (nothing done) when training
  // alone: the caller normalizes as usual.
  // After pool_epoch_advantages, takes the next pooled minibatch's statistics instead of an
  // all-reduce of its own.
  bool normalize_advantages_across_ranks(std::span<float> advantages);
  // Data-parallel training: pools the advantage statistics of every minibatch of this epoch
  // (rows order[k * per_minibatch ...] of the rollout) in one all-reduce; nothing when alone.
  void pool_epoch_advantages(const int64_t* order, int64_t rows, int64_t per_minibatch);
  // The mean of `value` over the ranks (the value itself when training alone), for decisions
  // every rank must take alike (PPO's target_kl stop).
  double mean_over_ranks(double value);

  // Switches acting, value estimates and the optimizer to the small-network engine
  // (agents/common/nn/actor_critic_engine.h) with Adam or RMSprop through a FlatOptimizer, when
  // the network allows it (ActorCriticEngine::applies); call it from
  // the constructor of an agent whose learn() has an engine path. Returns whether it did.
  bool use_engine_if_applicable();
  // The engine, or null with the LibTorch backend.
  nn::ActorCriticEngine* engine() { return engine_.get(); }
  // The whole rollout's observations as floats [rows, observation elements] (engine backend).
  const float* rollout_observation_floats();

  OnPolicySettings settings_;
  AgentContext context_;
  ObservationInput input_;
  ActorCritic net_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  RolloutBuffer rollout_;
  at::Generator generator_;
  // Draws of ActMode::kSample (evaluation), apart from the training generator_.
  at::Generator sampling_generator_;

 private:
  // Bool [batch, actions] from ActionBatch::legal_actions (undefined when empty). Throws
  // std::invalid_argument for a wrong size or a row without any legal action.
  torch::Tensor legal_mask_tensor(std::span<const uint8_t> masks, int batch) const;

  // Engine backend: acting and V(s) for `batch` observations.
  void engine_act(std::span<const uint8_t> observations, int batch, ActMode mode, ActionBatch out);
  // V(s) [batch] of raw observations into `values`, by either backend (recurrent networks:
  // from the training envs' memory after their last step).
  void estimate_values(const uint8_t* observations, int batch, float* values);
  // The network's output for float observations [B, ...]. Recurrent networks read `state` (B
  // slots; required) and leave the memory after the step in `next_state`.
  PolicyOutput policy_output(const torch::Tensor& observations, const RecurrentState* state,
                             torch::Tensor* next_state = nullptr);
  // The memory act() uses for `batch` envs: the training envs' (explore) or the caller's
  // (greedy; std::invalid_argument when missing or of the wrong size).
  RecurrentState* acting_state(ActMode mode, RecurrentState* caller, int batch);

  std::unique_ptr<nn::ActorCriticEngine> engine_;  // Null with the LibTorch backend.
  std::unique_ptr<RecurrentRollout> recurrent_;    // Null for feed-forward networks.
  std::unique_ptr<FlatOptimizer> flat_optimizer_;  // Replaces optimizer_ with the engine.
  std::vector<float> observation_floats_, rollout_floats_;
  torch::Tensor random_draws_;  // Engine acting: uniforms (Discrete) or normal noise (Box).

 protected:
  bool discrete_ = true;
  int64_t action_dim_ = 0;

 private:
  std::vector<float> action_low_, action_high_;
  std::optional<RewardNormalizer> reward_normalizer_;
  int64_t updates_done_ = 0;
  int64_t total_updates_ = 1;
  // Remembered by act(kExplore) for observe(): per env.
  std::vector<float> pending_values_, pending_log_probs_, pending_actions_;
  std::vector<int64_t> pending_discrete_;
  std::vector<uint8_t> pending_masks_;  // Discrete actions: legal-action masks (all 1 if none).
  bool pending_ = false;
  std::vector<float> rewards_, final_values_, last_values_;
  std::vector<uint8_t> episode_ends_;
  std::vector<uint8_t> last_observations_;
  distributed::Collectives* collectives_ = nullptr;  // Data-parallel training, else null.
  // Data-parallel training with normalize_reward: merges the ranks' return statistics.
  std::optional<distributed::MergedStats> reward_stats_merge_;
  distributed::EpochAdvantageMoments epoch_advantages_;  // pool_epoch_advantages' statistics.
  std::unique_ptr<distributed::RolloutCutoff> cutoff_;   // Straggler cut-off, else null.
  double progress_by_steps_ = 1.0;  // With the cut-off: 1 - env steps / total steps.
};

}  // namespace rl

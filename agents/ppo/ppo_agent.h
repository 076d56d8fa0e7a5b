// Proximal Policy Optimization (Schulman et al. 2017) as in CleanRL's ppo.py and
// ppo_continuous_action.py: clipped surrogate objective, optional value clipping, entropy
// bonus, per-minibatch advantage normalization, update_epochs x num_minibatches over each
// rollout, global gradient-norm clipping, linear learning-rate annealing, and an optional
// early stop of the update when the approximate KL to the rollout policy exceeds target_kl.
#pragma once

#include <torch/types.h>

#include <vector>

#include "agents/common/on_policy.h"

namespace rl {

struct PpoSettings {
  OnPolicySettings common;
  int64_t update_epochs = 4;    // Passes over each rollout.
  int64_t num_minibatches = 4;  // Minibatches per pass.
  double clip_coef = 0.2;       // Surrogate clipping: ratio kept in [1 - c, 1 + c].
  bool anneal_clip = false;     // Scale clip_coef linearly to 0 over the run (SB3's lin_0.2).
  bool clip_value_loss = true;  // Clip the value change around the rollout's values too.
  double target_kl = 0.0;       // Stop the update once approx KL exceeds this; 0 disables.
  // auto: the small-network engine (agents/common/nn) where it applies (separate MLP torsos, or
  // a shared minatar_cnn torso with Discrete actions; Adam); torch: always LibTorch autograd and
  // torch::optim.
  std::string backend = "auto";
  // 2: the engine computes the critic on a second thread beside the actor (acting and updates);
  // the same results bit for bit as 1. Needs the engine backend.
  int64_t learner_threads = 1;
};

// Reads the settings (unknown keys are errors). Throws ConfigError.
PpoSettings read_ppo_settings(ConfigSection& section);

// The clipped surrogate loss  mean(max(-A r, -A clip(r, 1 - c, 1 + c))), r = exp(new - old).
torch::Tensor clipped_surrogate_loss(const torch::Tensor& new_log_probs,
                                     const torch::Tensor& old_log_probs,
                                     const torch::Tensor& advantages, double clip_coef);

// What happened inside the last update (for metrics and tests).
struct PpoUpdateStats {
  double first_ratio_max_deviation = 0.0;  // max |ratio - 1| on epoch 0, minibatch 0.
  // LibTorch backend: max |V - V stored while acting| on epoch 0, minibatch 0.
  double first_value_max_deviation = 0.0;
  int64_t epochs_run = 0;
  int64_t minibatches_run = 0;
  bool stopped_early = false;  // By target_kl.
};

class PpoAgent final : public OnPolicyAgent {
 public:
  // Throws std::invalid_argument when num_minibatches exceeds the rollout's rows or the network
  // does not fit the observation space.
  PpoAgent(const PpoSettings& settings, const AgentContext& context);

  std::string type() const override { return "ppo"; }
  std::vector<std::string> metric_names() const override;
  const PpoUpdateStats& last_update() const { return last_update_; }
  const PpoSettings& settings() const { return ppo_; }
  // The surrogate clip of the next update: clip_coef, scaled by progress_remaining() with
  // anneal_clip.
  double clip_coef() const;
  // Whether the engine backend computes the network (else LibTorch autograd).
  bool uses_engine() { return engine() != nullptr; }

 protected:
  std::map<std::string, double> learn() override;
  int64_t minimum_update_rows() const override { return ppo_.num_minibatches; }

 private:
  // One update through the engine; returns the summed minibatch metrics.
  struct Totals {
    double policy_loss = 0, value_loss = 0, entropy = 0, approx_kl = 0, clip_fraction = 0,
           grad_norm = 0;
    int64_t steps = 0;
  };
  // The rows (or sequences) `units` of a rollout that an epoch's minibatches cover.
  int64_t used_rows(int64_t units, int64_t per_minibatch) const;
  Totals engine_learn();
  Totals torch_learn();
  // Copies rollout rows `index` [minibatch] into the minibatch buffers.
  void gather_minibatch(const float* observations, const int64_t* index, int64_t minibatch);

  PpoSettings ppo_;
  PpoUpdateStats last_update_;
  struct Minibatch {
    std::vector<float> observations, box_actions, log_probs, values, advantages, returns;
    std::vector<int64_t> discrete_actions;
    std::vector<uint8_t> legal;
    std::vector<float> log_prob_gradient, entropy_gradient, value_gradient;
  } minibatch_;
  // The engine's minibatch order of an epoch [rollout rows] (torch::randperm's draws).
  std::vector<int64_t> permutation_;
};

void register_ppo_agent(AgentRegistry& registry);

}  // namespace rl

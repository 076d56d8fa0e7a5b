// Soft Actor-Critic (Haarnoja et al. 2018) as in CleanRL's sac_continuous_action.py, and its
// discrete-action variant (Christodoulou 2019, CleanRL's sac_atari.py): twin critics with
// Polyak-averaged targets, the clipped double-Q soft target, delayed policy updates, automatic
// entropy tuning, and transitions from core's ReplayBuffer.
//
// Box actions are squashed to (-1, 1) by tanh and mapped affinely onto the env's bounds; the
// replay stores env actions and the critics see them mapped back to [-1, 1]. Discrete actions
// respect legal-action masks when acting; the soft targets do not see the next state's mask
// (the replay does not store masks).
#pragma once

#include <ATen/core/Generator.h>

#include <memory>

#include "agents/agent.h"
#include "agents/common/nn/optimizer.h"
#include "agents/common/nn/polyak.h"
#include "agents/common/preprocess.h"
#include "agents/sac/sac_engine.h"
#include "agents/sac/sac_networks.h"
#include "core/config.h"
#include "core/replay_buffer.h"
#include "core/rng.h"

namespace rl {

struct SacSettings {
  TorsoOptions torso{"auto", {256, 256}, "relu", 16, 128};
  double log_std_min = -5.0;
  double log_std_max = 2.0;

  double gamma = 0.99;
  double tau = 0.005;  // Target Polyak weight (1: hard copy).
  int64_t batch_size = 256;
  int64_t buffer_size = 1'000'000;
  int64_t learning_starts = 5000;  // Env steps of uniformly random actions before learning.
  int64_t train_frequency = 1;     // Env steps (summed over envs) between updates.
  int64_t gradient_steps = 1;      // Critic steps per update.
  int64_t policy_frequency = 2;    // Critic steps per round of policy updates (TD3 delay).
  int64_t target_frequency = 1;    // Critic steps between target updates.
  int64_t n_step = 1;

  double policy_lr = 3e-4;
  double q_lr = 1e-3;
  double adam_eps = 1e-8;

  double alpha = 0.2;  // Entropy coefficient (initial value when autotuned).
  bool autotune = true;
  // Box: target entropy = -target_entropy_scale * action_dim; Discrete:
  // target_entropy_scale * log(actions) (a fraction of the uniform policy's entropy).
  double target_entropy_scale = 0.0;  // 0: 1 for Box, 0.89 for Discrete (CleanRL).

  double observation_scale = 0.0;  // 0: auto (1/255 for u8 pixels).

  // auto: the small-network engine (agents/common/nn) where it applies (Box actions, MLP
  // torsos, a BLAS loaded), else LibTorch; torch: always LibTorch.
  std::string backend = "auto";
  // 2: the twin critics' passes run one critic per core (engine backend only; identical
  // results).
  int64_t learner_threads = 1;
};

// Reads the settings (unknown keys are errors). Throws ConfigError.
SacSettings read_sac_settings(ConfigSection& section);

// Where the agent's time goes, in seconds (for profiling; not saved).
struct SacTimings {
  double act = 0;        // Forward passes choosing actions.
  double sample = 0;     // Replay sampling.
  double forward = 0;    // Learning forward passes (targets, losses).
  double backward = 0;   // Backpropagation.
  double optimizer = 0;  // Optimizer steps and target updates.
};

class SacAgent final : public Agent {
 public:
  // Throws std::invalid_argument when the networks do not fit the spaces.
  SacAgent(const SacSettings& settings, const AgentContext& context);

  std::string type() const override { return "sac"; }
  std::string describe() const override;
  void act(std::span<const uint8_t> observations, int batch, ActMode mode,
           ActionBatch out) override;
  ActionValues action_values(std::span<const uint8_t> observation) override;
  void observe(const TransitionBatch& transitions) override;
  std::map<std::string, double> update(int64_t env_steps) override;
  std::vector<std::string> metric_names() const override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  ReplayBuffer* replay_buffer() override { return &replay_; }

  double alpha() const { return alpha_; }
  double target_entropy() const { return target_entropy_; }
  int64_t gradient_steps_done() const { return gradient_steps_done_; }
  const SacTimings& timings() const { return timings_; }
  // The networks and the observation input they are fed through (for export).
  const SacActor& actor() const { return actor_; }
  const SacCritic& q1() const { return q1_; }
  const SacCritic& q2() const { return q2_; }
  const ObservationInput& observation_input() const { return input_; }
  const SacSettings& settings() const { return settings_; }
  // Data-parallel training (agents/distributed/data_parallel.h): copies rank 0's networks and
  // temperature to every rank, draws rank-distinct random actions and replay samples, and
  // averages the gradients over the ranks before each optimizer step (each rank samples
  // batch_size from its own replay). Every rank must call it at the same point; `collectives`
  // must outlive the training.
  void set_collectives(distributed::Collectives* collectives);
  // Whether the engine backend computes the networks (else LibTorch autograd).
  bool uses_engine() const { return engine_ != nullptr; }

 private:
  struct Losses {
    double q = 0, actor = 0, alpha = 0, q_mean = 0, entropy = 0;
    int policy_updates = 0;
  };
  void learn_step(Losses& losses);
  void critic_step(const torch::Tensor& obs, const torch::Tensor& next_obs, Losses& losses);
  void policy_step(const torch::Tensor& obs, Losses& losses);
  // Box actions: the same steps through autograd (backend torch) or the engine.
  void box_critic_step(const torch::Tensor& obs, const torch::Tensor& next_obs, Losses& losses);
  void box_policy_step(const torch::Tensor& obs, Losses& losses);
  // The engine's steps on observations as floats [batch, observation size].
  void engine_critic_step(const float* obs, const float* next_obs, Losses& losses);
  void engine_policy_step(const float* obs, Losses& losses);
  // The alpha step from the log-probs [batch] of freshly sampled actions (Box actions).
  void alpha_step(const float* log_probs, int batch, Losses& losses);
  double current_alpha() const;  // exp(log_alpha).
  // Standard normal noise [rows, action_dim] from generator_ into `buffer` (kept allocated).
  const float* normal_noise(torch::Tensor& buffer, int rows);
  // Box actions: env bounds <-> [-1, 1].
  torch::Tensor to_unit(const torch::Tensor& env_actions) const;
  void random_actions(int batch, ActionBatch out);
  // The actor's and the critics' signatures, stored in checkpoints.
  std::string network_signature() const;

  SacSettings settings_;
  AgentContext context_;
  ObservationInput input_;
  bool discrete_ = false;
  int64_t action_dim_ = 0;
  torch::Tensor action_center_, action_scale_;  // [D]
  std::vector<float> center_, scale_;
  SacActor actor_{nullptr};
  SacCritic q1_{nullptr}, q2_{nullptr}, q1_target_{nullptr}, q2_target_{nullptr};
  // Holders of both critics' and of log_alpha's parameters, for their optimizers.
  std::shared_ptr<torch::nn::Module> critics_, alpha_parameter_;
  std::unique_ptr<FlatOptimizer> actor_optimizer_, q_optimizer_, alpha_optimizer_;
  std::unique_ptr<nn::PolyakAverager> q1_averager_, q2_averager_;
  std::unique_ptr<SacEngine> engine_;  // Null with the LibTorch backend.
  torch::Tensor log_alpha_;
  torch::Tensor act_noise_, learn_noise_;
  std::vector<float> unit_actions_, targets_, q1_gradient_, q2_gradient_, log_prob_gradient_;
  // Scaled observations for the engine (unused when they are f32 with scale 1).
  std::vector<float> observation_floats_, next_observation_floats_;
  double alpha_ = 0.2;
  double target_entropy_ = 0.0;
  ReplayBuffer replay_;
  ReplayBatch batch_;
  Rng rng_;
  at::Generator generator_;

  int64_t env_steps_ = 0;
  int64_t gradient_steps_done_ = 0;
  int64_t next_train_step_ = 0;
  SacTimings timings_;
  std::vector<float> random_values_;
};

void register_sac_agent(AgentRegistry& registry);

}  // namespace rl

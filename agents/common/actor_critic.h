// The policy-and-value network of A2C and PPO: a torso (shared by both heads, or one per head),
// optionally a recurrent core after a shared torso (agents/common/recurrent_core.h), an actor head
// (logits for Discrete actions, the Gaussian mean for Box actions, with one state-independent
// log-std parameter per action dimension) and a critic head V(s).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "agents/common/recurrent_core.h"
#include "agents/common/torso.h"

namespace rl {

struct ActorCriticOptions {
  std::vector<int64_t> observation_shape;  // Without the batch dimension.
  bool discrete = true;
  int64_t action_dim = 0;  // Actions (Discrete) or action elements (Box).
  TorsoOptions torso;
  bool shared_torso = false;     // One torso for both heads (usual for CNNs) or one each.
  double initial_log_std = 0.0;  // Box actions.
  // With a recurrent core, one torso and the core feed both heads (shared_torso is ignored).
  RecurrentOptions recurrent;
};

struct PolicyOutput {
  torch::Tensor actor;  // [B, action_dim]: logits (Discrete) or Gaussian mean (Box).
  torch::Tensor value;  // [B]
};

class ActorCriticImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument for a torso that does not fit the observation shape.
  explicit ActorCriticImpl(const ActorCriticOptions& options);

  // Float observations [B, shape...]. Feed-forward networks only (std::logic_error otherwise).
  PolicyOutput forward(const torch::Tensor& observations);
  torch::Tensor value(const torch::Tensor& observations);  // [B]

  // Recurrent networks: the core (null for feed-forward ones) and its state floats per env.
  bool recurrent() const { return !core_.is_empty(); }
  int64_t state_size() const { return recurrent() ? core_->state_size() : 0; }
  // One step of B envs: observations [B, shape...], `state` [B, state_size()] (zero where an
  // episode starts); the state after the step goes to `next_state`.
  PolicyOutput forward_step(const torch::Tensor& observations, const torch::Tensor& state,
                            torch::Tensor& next_state);
  // T steps of B envs re-run with gradients: observations [T * B, shape...] time-major, `state`
  // [B, state_size()] before the first step, `starts` float [T, B] (1: an episode starts
  // there). Outputs have T * B rows in the observations' order.
  PolicyOutput forward_sequence(const torch::Tensor& observations, const torch::Tensor& state,
                                const torch::Tensor& starts);
  // Box actions: the log-std parameter [action_dim] (undefined for Discrete actions).
  const torch::Tensor& log_std() const { return log_std_; }
  // Architecture summary, stored in checkpoints to reject loading into a different network.
  const std::string& signature() const { return signature_; }

  // The parts, for the small-network engine (agents/common/nn/actor_critic_engine.h).
  const torch::nn::Sequential& actor_torso() const { return actor_torso_; }
  const torch::nn::Sequential& critic_torso() const { return critic_torso_; }  // Null if shared.
  const torch::nn::Linear& actor_head() const { return actor_head_; }
  const torch::nn::Linear& critic_head() const { return critic_head_; }

 private:
  torch::nn::Sequential actor_torso_{nullptr};
  torch::nn::Sequential critic_torso_{nullptr};  // Null when shared.
  torch::nn::Linear actor_head_{nullptr};
  torch::nn::Linear critic_head_{nullptr};
  RecurrentCore core_{nullptr};
  torch::Tensor log_std_;
  std::string signature_;

  PolicyOutput heads(const torch::Tensor& features);
};
TORCH_MODULE(ActorCritic);

}  // namespace rl

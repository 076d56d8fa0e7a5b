// Advantage actor-critic (A2C, the synchronous variant of Mnih et al. 2016), with the defaults
// of Stable-Baselines3: 5-step rollouts over the vector env, one gradient step per rollout on
// policy-gradient + value + entropy terms, RMSprop (or Adam), gradient-norm clipping.
#pragma once

#include <string>

#include "agents/common/on_policy.h"

namespace rl {

struct A2cSettings {
  OnPolicySettings common;
  // auto: the small-network engine (agents/common/nn) where it applies (separate MLP torsos,
  // RMSprop or Adam, no recurrent core); torch: always LibTorch autograd and torch::optim.
  std::string backend = "auto";
};

// Reads the settings (unknown keys are errors). Throws ConfigError.
A2cSettings read_a2c_settings(ConfigSection& section);

class A2cAgent final : public OnPolicyAgent {
 public:
  A2cAgent(const A2cSettings& settings, const AgentContext& context);

  std::string type() const override { return "a2c"; }
  std::vector<std::string> metric_names() const override;
  // Whether the engine backend computes the network (else LibTorch autograd).
  bool uses_engine() { return engine() != nullptr; }

 protected:
  std::map<std::string, double> learn() override;

 private:
  std::map<std::string, double> torch_learn();
  std::map<std::string, double> engine_learn();

  // Engine backend: the rollout's (normalized) advantages and the loss's gradients [rows].
  std::vector<float> advantages_, log_prob_gradient_, entropy_gradient_, value_gradient_;
};

void register_a2c_agent(AgentRegistry& registry);

}  // namespace rl

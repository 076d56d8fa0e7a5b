// Advantage actor-critic (A2C, the synchronous variant of Mnih et al. 2016), with the defaults
// of Stable-Baselines3: 5-step rollouts over the vector env, one gradient step per rollout on
// policy-gradient + value + entropy terms, RMSprop (or Adam), gradient-norm clipping.
#pragma once

#include "agents/common/on_policy.h"

namespace rl {

struct A2cSettings {
  OnPolicySettings common;
};

// Reads the settings (unknown keys are errors). Throws ConfigError.
A2cSettings read_a2c_settings(ConfigSection& section);

class A2cAgent final : public OnPolicyAgent {
 public:
  A2cAgent(const A2cSettings& settings, const AgentContext& context);

  std::string type() const override { return "a2c"; }
  std::vector<std::string> metric_names() const override;

 protected:
  std::map<std::string, double> learn() override;
};

void register_a2c_agent(AgentRegistry& registry);

}  // namespace rl

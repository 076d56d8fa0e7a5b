#include "agents/distributed/data_parallel.h"

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <stdexcept>

#include "agents/common/on_policy.h"
#include "agents/dqn/dqn_agent.h"
#include "agents/sac/sac_agent.h"
#include "core/config.h"

namespace rl::distributed {

void make_data_parallel(Agent& agent, Collectives& collectives) {
  check_data_parallel(agent);
  if (auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent)) {
    on_policy->set_collectives(&collectives);
  } else if (auto* dqn = dynamic_cast<DqnAgent*>(&agent)) {
    dqn->set_collectives(&collectives);
  } else {
    dynamic_cast<SacAgent&>(agent).set_collectives(&collectives);
  }
}

bool enable_rollout_cutoff(Agent& agent, const CutoffSettings& settings) {
  if (!settings.enabled()) return false;
  auto* on_policy = dynamic_cast<OnPolicyAgent*>(&agent);
  if (!on_policy) {
    throw ConfigError("distributed.sync_fraction: agent '" + agent.type() +
                      "' collects no rollouts to cut short (ppo and a2c do): leave it at 1");
  }
  on_policy->enable_rollout_cutoff(settings);
  return true;
}

void check_data_parallel(const Agent& agent) {
  if (dynamic_cast<const OnPolicyAgent*>(&agent) || dynamic_cast<const DqnAgent*>(&agent) ||
      dynamic_cast<const SacAgent*>(&agent)) {
    return;
  }
  throw std::invalid_argument("agent '" + agent.type() +
                              "' has no multi-process training yet (ppo, a2c, dqn and sac have)");
}

void copy_from_rank0(Collectives& collectives, std::initializer_list<torch::nn::Module*> modules) {
  torch::NoGradGuard no_grad;  // The broadcast may copy into parameters that require gradients.
  for (torch::nn::Module* module : modules) {
    collectives.broadcast(module->parameters(), 0);
    collectives.broadcast(module->buffers(), 0);
  }
}

uint64_t rank_seed(uint64_t seed, int rank) {
  return rank == 0 ? seed : seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(rank));
}

}  // namespace rl::distributed

// Data-parallel training: which agents support it, how they are switched to it, and the pieces
// the agents share for it.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "agents/agent.h"
#include "agents/distributed/collectives.h"
#include "agents/distributed/rollout_cutoff.h"

namespace torch::nn {
class Module;
}

namespace rl::distributed {

// Makes `agent` train data-parallel over `collectives`: for PPO and A2C DD-PPO (see
// OnPolicyAgent::set_collectives); for DQN and SAC every rank acts and fills its own replay and
// the learners average their gradients before each optimizer step (DqnAgent::set_collectives,
// SacAgent::set_collectives). Every rank calls it at the same point, after loading a
// checkpoint. Throws std::invalid_argument naming the agent type when it has no data-parallel
// training.
void make_data_parallel(Agent& agent, Collectives& collectives);

// After make_data_parallel: turns on DD-PPO's straggler cut-off (OnPolicyAgent::
// enable_rollout_cutoff) when `settings` enable it. Returns whether it did; throws ConfigError
// for an agent without rollouts, or settings its rollouts cannot take.
bool enable_rollout_cutoff(Agent& agent, const CutoffSettings& settings);

// Throws what make_data_parallel would for an agent without data-parallel training (to refuse
// a launch before any rank connects).
void check_data_parallel(const Agent& agent);

// Copies rank 0's parameters and buffers of each module into every rank's (same architectures
// everywhere): the ranks start from identical weights.
void copy_from_rank0(Collectives& collectives, std::initializer_list<torch::nn::Module*> modules);

// A seed for rank `rank`'s random streams: `seed` itself on rank 0 (it draws what a
// one-process run draws), a distinct one on every other rank.
uint64_t rank_seed(uint64_t seed, int rank);

}  // namespace rl::distributed

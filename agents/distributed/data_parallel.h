// Data-parallel training: which agents support it and how they are switched to it.
#pragma once

#include "agents/agent.h"
#include "agents/distributed/collectives.h"

namespace rl::distributed {

// Makes `agent` train data-parallel over `collectives` (for PPO and A2C: DD-PPO, see
// OnPolicyAgent::set_collectives). Every rank calls it at the same point, after loading a
// checkpoint. Throws std::invalid_argument naming the agent type when it has no data-parallel
// training.
void make_data_parallel(Agent& agent, Collectives& collectives);

// Throws what make_data_parallel would for an agent without data-parallel training (to refuse
// a launch before any rank connects).
void check_data_parallel(const Agent& agent);

}  // namespace rl::distributed

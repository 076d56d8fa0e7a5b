#include "agents/distributed/data_parallel.h"

#include <stdexcept>

#include "agents/common/on_policy.h"

namespace rl::distributed {

void make_data_parallel(Agent& agent, Collectives& collectives) {
  check_data_parallel(agent);
  dynamic_cast<OnPolicyAgent&>(agent).set_collectives(&collectives);
}

void check_data_parallel(const Agent& agent) {
  if (dynamic_cast<const OnPolicyAgent*>(&agent)) return;
  throw std::invalid_argument("agent '" + agent.type() +
                              "' has no multi-process training yet (ppo and a2c have)");
}

}  // namespace rl::distributed

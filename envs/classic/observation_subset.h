// Partially observed variants of the classic envs: the same physics and spec, with only some
// elements of the observation kept (RL Zoo's CartPoleNoVel / PendulumNoVel drop the
// velocities, so a policy has to infer them from the observations it remembers).
#pragma once

#include <string>
#include <vector>

#include "core/registry.h"

namespace rl::classic {

// A registry entry for `id` built from `base`: the same parameters, and envs that run `base`'s
// env and observe only the observation elements at `kept` (indices into its flat Box
// observation, in order). The episode step limit moves to the outer env.
EnvEntry observation_subset_entry(const EnvEntry& base, std::string id, std::string description,
                                  std::vector<int64_t> kept);

}  // namespace rl::classic

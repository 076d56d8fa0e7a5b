// The viewer's policy for a trained agent, shared by `rlwatch runs/NAME` and `rltrain --watch`.
#pragma once

#include "agents/agent.h"
#include "render/watch_session.h"

namespace rl::apps {

// Greedy actions of `agent` (which must outlive the returned source). Discrete actions stay
// within the env's legal actions when it declares them, and the decision carries the agent's
// values behind the choice (Q-values or probabilities) for the HUD. A recurrent agent acts from
// the source's own memory of the env, reset whenever an episode starts, and the decision
// carries that memory for the HUD. Calls are not thread-safe:
// use one source per thread.
render::PolicySource greedy_policy(Agent& agent);

}  // namespace rl::apps

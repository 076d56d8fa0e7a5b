#include "apps/rlwatch/agent_loader.h"

namespace rl::watch {

// The agents library (agents/agent.h, checkpoint loading) is not available yet; once it is,
// this builds a PolicySource that runs the agent greedily and reports its Q-values or action
// probabilities for the HUD bars.
render::AgentLoader make_agent_loader() { return {}; }

}  // namespace rl::watch

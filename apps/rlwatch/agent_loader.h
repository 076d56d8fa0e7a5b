// The adapter from trained agents (agents/, LibTorch) to the viewer's PolicySource.
#pragma once

#include "render/watch_cli.h"

namespace rl::watch {

// Loads agents from run directories and checkpoints; empty when rlwatch was built without
// the agents library (then watching agents is refused with a clear message).
render::AgentLoader make_agent_loader();

}  // namespace rl::watch

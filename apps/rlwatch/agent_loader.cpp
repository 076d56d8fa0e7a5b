#include "apps/rlwatch/agent_loader.h"

#ifdef RLCADE_WITH_AGENTS

#include <iostream>
#include <memory>
#include <stdexcept>

#include "agents/checkpoint.h"
#include "agents/checkpoint_history.h"
#include "apps/common/greedy_policy.h"

namespace rl::watch {
namespace {

// The checkpoint to load for `path`: the one asked for when it verifies, else (truncated or
// corrupt) the newest valid one of its folder (latest.pt, then the step files), said on stderr
// with what is wrong with each file passed over. The run folder is left as it is.
std::string valid_checkpoint(const std::string& path, bool is_checkpoint) {
  const CheckpointChoice choice =
      choose_valid_checkpoint(is_checkpoint ? path : checkpoint_to_read(path));
  for (const std::string& line : choice.report()) std::cerr << "rlwatch: " << line << '\n';
  return choice.path;
}

render::LoadedAgent load_agent(const std::string& path, bool is_checkpoint) {
  const std::string checkpoint = valid_checkpoint(path, is_checkpoint);
  TrainerState state;
  auto experiment =
      std::make_shared<Experiment>(load_experiment_from_checkpoint(checkpoint, &state));
  render::LoadedAgent agent;
  agent.env_id = experiment->run().env.id;
  agent.env_params = experiment->run().env.params;
  agent.agent_info = experiment->agent->type();
  agent.checkpoint_info = checkpoint + " (step " + std::to_string(state.env_steps) + ")";
  agent.make_env = [experiment] { return experiment->make_env(); };
  // The policy refers to the agent; holding `experiment` keeps the agent alive with it.
  agent.policy = [experiment, policy = apps::greedy_policy(*experiment->agent)](
                     std::span<const uint8_t> observation, const Env& env) mutable {
    return policy(observation, env);
  };
  return agent;
}

}  // namespace

render::AgentLoader make_agent_loader() { return load_agent; }

}  // namespace rl::watch

#else

namespace rl::watch {

// Built without the agents library: watching agents is refused by run_watch with a message.
render::AgentLoader make_agent_loader() { return {}; }

}  // namespace rl::watch

#endif

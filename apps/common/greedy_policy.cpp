#include "apps/common/greedy_policy.h"

#include <utility>
#include <vector>

namespace rl::apps {

render::PolicySource greedy_policy(Agent& agent) {
  return [&agent, mask = std::vector<uint8_t>(), memory = agent.initial_state(1)](
             std::span<const uint8_t> observation, const Env& env) mutable {
    // A recurrent agent's memory of this env starts over with each episode.
    if (env.episode_steps() == 0) memory.reset(0);
    render::PolicyDecision decision;
    const Space& actions = env.spec().action_space;
    if (!actions.is_discrete()) {
      decision.values.resize(static_cast<size_t>(actions.numel()));
      ActionBatch batch{{}, decision.values};
      batch.recurrent_state = &memory;
      agent.act(observation, 1, ActMode::kGreedy, batch);
      decision.memory = memory.values;
      return decision;
    }
    mask.assign(static_cast<size_t>(actions.n), 1);
    const bool masked = env.legal_actions(mask);
    // The values behind the choice come from the memory before this step advances it.
    ActionValues values = agent.action_values_with_state(observation, memory);
    int64_t index = 0;
    ActionBatch batch{
        {&index, 1}, {}, masked ? std::span<const uint8_t>(mask) : std::span<const uint8_t>()};
    batch.recurrent_state = &memory;
    agent.act(observation, 1, ActMode::kGreedy, batch);
    decision.index = index;
    decision.action_values = std::move(values.values);
    decision.values_label = values.kind == "q" ? "Q-values" : values.kind;
    decision.memory = memory.values;
    return decision;
  };
}

}  // namespace rl::apps

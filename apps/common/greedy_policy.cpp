#include "apps/common/greedy_policy.h"

#include <utility>
#include <vector>

namespace rl::apps {

render::PolicySource greedy_policy(Agent& agent) {
  return [&agent, mask = std::vector<uint8_t>()](std::span<const uint8_t> observation,
                                                 const Env& env) mutable {
    render::PolicyDecision decision;
    const Space& actions = env.spec().action_space;
    if (!actions.is_discrete()) {
      decision.values.resize(static_cast<size_t>(actions.numel()));
      agent.act(observation, 1, ActMode::kGreedy, ActionBatch{{}, decision.values});
      return decision;
    }
    mask.assign(static_cast<size_t>(actions.n), 1);
    const bool masked = env.legal_actions(mask);
    int64_t index = 0;
    agent.act(
        observation, 1, ActMode::kGreedy,
        ActionBatch{
            {&index, 1}, {}, masked ? std::span<const uint8_t>(mask) : std::span<const uint8_t>()});
    decision.index = index;
    ActionValues values = agent.action_values(observation);
    decision.action_values = std::move(values.values);
    decision.values_label = values.kind == "q" ? "Q-values" : values.kind;
    return decision;
  };
}

}  // namespace rl::apps

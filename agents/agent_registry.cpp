#include <stdexcept>

#include "agents/agent.h"

namespace rl {

// Each agent family provides one registration function; add new agents here.
void register_dqn_agent(AgentRegistry& registry);
void register_a2c_agent(AgentRegistry& registry);
void register_ppo_agent(AgentRegistry& registry);
void register_sac_agent(AgentRegistry& registry);

AgentRegistry& AgentRegistry::global() {
  static AgentRegistry registry = [] {
    AgentRegistry r;
    register_dqn_agent(r);
    register_a2c_agent(r);
    register_ppo_agent(r);
    register_sac_agent(r);
    return r;
  }();
  return registry;
}

void AgentRegistry::add(AgentEntry entry) {
  if (entry.type.empty() || !entry.factory) {
    throw std::invalid_argument("agent registration needs a type name and a factory");
  }
  if (entries_.count(entry.type)) {
    throw std::invalid_argument("agent type '" + entry.type + "' is registered twice");
  }
  const std::string type = entry.type;
  entries_.emplace(type, std::move(entry));
}

const AgentEntry& AgentRegistry::find(const std::string& type) const {
  const auto it = entries_.find(type);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [name, entry] : entries_) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("unknown agent type '" + type + "'; known agents: " + known);
  }
  return it->second;
}

std::unique_ptr<Agent> AgentRegistry::make(const std::string& type, ConfigSection& settings,
                                           const AgentContext& context) const {
  const AgentEntry& entry = find(type);
  const bool discrete = context.action_space.is_discrete();
  if (discrete && !entry.discrete_actions) {
    settings.fail("", "agent '" + type + "' needs a continuous (Box) action space, but the env's " +
                          "is " + context.action_space.describe());
  }
  if (!discrete && !entry.continuous_actions) {
    settings.fail("", "agent '" + type + "' needs a discrete action space, but the env's is " +
                          context.action_space.describe());
  }
  return entry.factory(settings, context);
}

std::vector<std::string> AgentRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

}  // namespace rl

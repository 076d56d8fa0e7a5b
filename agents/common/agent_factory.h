// The AgentFactory every agent registers: read the settings, then build the agent.
#pragma once

#include <memory>
#include <stdexcept>

#include "agents/agent.h"

namespace rl {

// A factory that reads the agent's settings with `read_settings(section)`, rejects unknown keys
// (ConfigSection::finish) and constructs AgentType(settings, context). An std::invalid_argument
// from the constructor (the env's spaces do not suit the agent) becomes a ConfigError naming
// the section.
template <typename AgentType, typename ReadSettings>
AgentFactory agent_factory(ReadSettings read_settings) {
  return [read_settings](ConfigSection& section,
                         const AgentContext& context) -> std::unique_ptr<Agent> {
    const auto settings = read_settings(section);
    section.finish();
    try {
      return std::make_unique<AgentType>(settings, context);
    } catch (const std::invalid_argument& e) {
      section.fail("", e.what());
    }
  };
}

}  // namespace rl

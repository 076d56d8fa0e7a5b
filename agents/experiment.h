// An experiment: a validated config with its env spec and a freshly built agent, built either
// from a config file or from the config stored inside a checkpoint.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/run_config.h"

namespace rl {

struct Experiment {
  LoadedConfig config;
  EnvSpec env_spec;                // Of the configured env (wrappers applied).
  WrapperContext wrapper_context;  // Shared by every env copy (e.g. observation statistics).
  std::unique_ptr<Agent> agent;
  std::string resolved_yaml;  // Every field with the value in use (saved as config.yaml).

  const RunConfig& run() const { return config.run; }
  // A new env as configured, sharing wrapper_context (training and evaluation copies).
  std::unique_ptr<Env> make_env();
};

// Reads the whole config strictly (run layout, then the agent's settings), builds one env to
// learn the spaces, and builds the agent. Throws ConfigError for anything wrong in the config.
// `processes`: the number of ranks of a multi-process run; with distributed.split_envs, this
// rank's agent and training envs get env.num_envs / processes envs (ConfigError when it does
// not divide). The resolved config keeps the count of all ranks.
Experiment build_experiment(ConfigDocument document, int processes = 1);

// Loads a config file and applies "key.path=value" overrides; throws ConfigError.
ConfigDocument load_config(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace rl

// Helpers for agent tests: configs for the test chain env and temporary run folders.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "agents/experiment.h"
#include "agents/trainer.h"

namespace rl::test {

// A DQN config on test/chain-v0 (tests/agents/chain_env.cpp) with a small network. Vary it with
// --set style overrides (experiment_from).
inline std::string chain_config(int64_t total_steps = 3000) {
  return "name: chain\n"
         "seed: 3\n"
         "env:\n"
         "  id: test/chain-v0\n"
         "  params: {length: 7}\n"
         "agent:\n"
         "  type: dqn\n"
         "  hidden: [32]\n"
         "  lr: 1e-3\n"
         "  batch_size: 32\n"
         "  buffer_size: 5000\n"
         "  learning_starts: 200\n"
         "  train_frequency: 1\n"
         "  target_update_period: 100\n"
         "  exploration_steps: 1000\n"
         "train:\n"
         "  total_steps: " +
         std::to_string(total_steps) +
         "\n"
         "  eval_every: 0\n"
         "  eval_episodes: 8\n"
         "  checkpoint_every: 0\n"
         "  log_every: 100\n";
}

inline Experiment experiment_from(const std::string& yaml,
                                  const std::vector<std::string>& overrides = {}) {
  ConfigDocument document = ConfigDocument::parse(yaml, "test.yaml");
  for (const std::string& assignment : overrides) document.apply_override(assignment);
  return build_experiment(std::move(document));
}

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() /
           ("rlcade_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string str() const { return path.string(); }
};

// Trains `experiment` to its end in a scratch run folder (removed afterwards).
inline TrainSummary train_in_temp_dir(Experiment& experiment, const std::string& name) {
  TempDir dir(name);
  TrainOptions options;
  options.run_dir = dir.str();
  return train(experiment, options);
}

}  // namespace rl::test

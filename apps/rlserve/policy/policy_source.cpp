// Where rlserve --policy finds its policy: a policy file, or a run folder exported on the fly
// (kept apart from policy_service.cpp: only this file needs the LibTorch headers).
#include <unistd.h>

#include <filesystem>

#include "agents/checkpoint.h"
#include "agents/checkpoint_history.h"
#include "agents/export/policy_export.h"
#include "policy_service.h"

namespace rl::serving {
namespace {

// Exports the run's checkpoint (as rlexport does) to a temporary policy file; returns its path.
std::filesystem::path export_run(const std::string& run,
                                 const std::function<void(const std::string&)>& log) {
  const CheckpointChoice choice = choose_valid_checkpoint(checkpoint_to_read(run));
  for (const std::string& line : choice.report()) log(line);
  Experiment experiment = load_experiment_from_checkpoint(choice.path);
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("rlserve-policy-" + std::to_string(::getpid()) + ".pt");
  save_policy(export_policy(experiment), file.string());
  log("exported " + choice.path + " (" + experiment.agent->type() + " on " +
      experiment.run().env.id + ")");
  return file;
}

std::vector<Policy> load_copies(const std::string& file, int copies) {
  std::vector<Policy> policies;
  for (int i = 0; i < copies; ++i) policies.push_back(Policy::load(file));
  return policies;
}

}  // namespace

std::shared_ptr<PolicyPool> load_policy_pool(const std::string& source, int copies,
                                             const std::function<void(const std::string&)>& log) {
  if (!std::filesystem::is_directory(source)) {
    auto pool = std::make_shared<PolicyPool>(load_copies(source, copies));
    pool->set_source(source);
    return pool;
  }
  const std::filesystem::path file = export_run(source, log);
  std::vector<Policy> policies;
  try {
    policies = load_copies(file.string(), copies);
  } catch (...) {
    std::filesystem::remove(file);
    throw;
  }
  std::filesystem::remove(file);
  auto pool = std::make_shared<PolicyPool>(std::move(policies));
  pool->set_source(source);
  return pool;
}

}  // namespace rl::serving

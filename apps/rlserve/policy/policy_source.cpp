// Where rlserve --policy finds its policy: a policy file, or a run folder exported on the fly
// (kept apart from policy_service.cpp: only this file needs the LibTorch headers).
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

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

// Throws std::runtime_error naming `source` when `policy` is recurrent: an ACT request carries
// no episode boundaries at which its memory would restart, so the server refuses such policies
// rather than serve actions from a memory the client cannot control (docs/protocol.md).
void refuse_recurrent(const Policy& policy, const std::string& source) {
  if (!policy.recurrent()) return;
  throw std::runtime_error(
      source + ": a recurrent policy (" + std::to_string(policy.state_size()) +
      " floats of memory per env); rlserve --policy serves feed-forward policies only, since ACT "
      "requests carry no episode boundaries to restart the memory at. Embed it with rl::Policy "
      "(act/step, docs/export.md) or load the file's step(obs, state) directly");
}

std::vector<Policy> load_copies(const std::string& file, int copies, const std::string& source) {
  std::vector<Policy> policies;
  policies.push_back(Policy::load(file));
  refuse_recurrent(policies.front(), source);
  for (int i = 1; i < copies; ++i) policies.push_back(Policy::load(file));
  return policies;
}

}  // namespace

std::shared_ptr<PolicyPool> load_policy_pool(const std::string& source, int copies,
                                             const std::function<void(const std::string&)>& log) {
  if (!std::filesystem::is_directory(source)) {
    auto pool = std::make_shared<PolicyPool>(load_copies(source, copies, source));
    pool->set_source(source);
    return pool;
  }
  const std::filesystem::path file = export_run(source, log);
  std::vector<Policy> policies;
  try {
    policies = load_copies(file.string(), copies, source);
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

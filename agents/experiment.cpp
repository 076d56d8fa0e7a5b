#include "agents/experiment.h"

#include <stdexcept>

#include "agents/torch_setup.h"

namespace rl {

std::unique_ptr<Env> Experiment::make_env() {
  return make_configured_env(config.run.env, wrapper_context);
}

Experiment build_experiment(ConfigDocument document, int processes) {
  Experiment e{read_run_config(std::move(document)), {}, {}, nullptr, ""};
  const RunConfig& run = e.config.run;
  if (processes > 1 && run.distributed.split_envs) {
    if (run.env.num_envs % processes != 0) {
      throw ConfigError(run.source + ": distributed.split_envs: env.num_envs (" +
                        std::to_string(run.env.num_envs) + ") must be a multiple of the " +
                        std::to_string(processes) + " processes");
    }
    e.config.run.env.num_envs /= processes;
  }
  try {
    e.env_spec = e.make_env()->spec();
  } catch (const std::invalid_argument& error) {
    throw ConfigError(run.source + ": env '" + run.env.id + "' cannot be built: " + error.what());
  }
  AgentContext context;
  context.observation_space = e.env_spec.observation_space;
  context.action_space = e.env_spec.action_space;
  context.num_envs = run.env.num_envs;
  context.total_steps = run.train.total_steps;
  context.seed = run.seed;
  context.threads = static_cast<int>(run.train.threads);
  // Initialisation already runs BLAS/LAPACK (orthogonal init is a QR), whose reductions round
  // differently with another thread count: use the run's threads from here on, so that a seed
  // gives the same weights whatever OPENBLAS_NUM_THREADS the process started with.
  set_compute_threads(context.threads);
  e.agent = AgentRegistry::global().make(run.agent_type, e.config.agent_section, context);
  e.config.agent_section.finish();
  e.resolved_yaml = e.config.document.resolved_yaml();
  return e;
}

ConfigDocument load_config(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigDocument document = ConfigDocument::load_file(path);
  for (const std::string& assignment : overrides) document.apply_override(assignment);
  return document;
}

}  // namespace rl

#include "apps/rlbench/training_case.h"

#include <unistd.h>

#include <filesystem>

#include "agents/experiment.h"
#include "agents/trainer.h"
#include "core/config.h"

namespace rl::bench {

BenchResult run_training_case(const std::string& case_name, const std::string& target,
                              const std::string& config_yaml) {
  Experiment experiment = build_experiment(ConfigDocument::parse(config_yaml, "rlbench"));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("rlbench_" + case_name + "_" + std::to_string(::getpid()));
  TrainOptions train_options;
  train_options.run_dir = dir.string();
  TrainSummary summary;
  try {
    summary = train(experiment, train_options);
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  return {case_name,
          target,
          {{"steps", static_cast<double>(summary.total_steps)},
           {"wall_seconds", summary.wall_seconds},
           {"steps_per_second", summary.steps_per_second},
           {"final_eval_mean", summary.final_eval_mean}}};
}

}  // namespace rl::bench

#include "apps/rlbench/training_case.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "agents/experiment.h"
#include "agents/trainer.h"
#include "core/config.h"

namespace rl::bench {

namespace {

// Wall seconds between the first metrics.csv rows logged at steps `from` and `to`, read in one
// pass; throws std::runtime_error naming the file when either row is missing.
double seconds_between(const std::filesystem::path& metrics_csv, int64_t from, int64_t to) {
  std::ifstream in(metrics_csv);
  std::string line;
  if (!std::getline(in, line) || line.rfind("step,wall_seconds,", 0) != 0) {
    throw std::runtime_error(metrics_csv.string() + " does not start with step,wall_seconds");
  }
  std::optional<double> from_wall, to_wall;
  while ((!from_wall || !to_wall) && std::getline(in, line)) {
    const size_t comma = line.find(',');
    const int64_t step = std::stoll(line.substr(0, comma));
    std::optional<double>& wall = step == from ? from_wall : to_wall;
    if ((step == from || step == to) && !wall) wall = std::stod(line.substr(comma + 1));
  }
  if (!from_wall || !to_wall) {
    throw std::runtime_error(metrics_csv.string() + " has no row for step " +
                             std::to_string(from_wall ? to : from));
  }
  return *to_wall - *from_wall;
}

}  // namespace

std::string bench_train_section(int64_t steps, int eval_episodes, int64_t log_every) {
  return "train:\n  total_steps: " + std::to_string(steps) +
         "\n  eval_every: 0\n  eval_episodes: " + std::to_string(eval_episodes) +
         "\n  checkpoint_every: 0\n  log_every: " + std::to_string(log_every) +
         "\n  threads: 1\n  record_eval: false\n";
}

BenchResult run_training_case(const std::string& case_name, const std::string& target,
                              const std::string& config_yaml, int64_t timed_from_step) {
  Experiment experiment = build_experiment(ConfigDocument::parse(config_yaml, "rlbench"));
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("rlbench_" + case_name + "_" + std::to_string(::getpid()));
  TrainOptions train_options;
  train_options.run_dir = dir.string();
  TrainSummary summary;
  double learning_seconds = 0;
  try {
    summary = train(experiment, train_options);
    if (timed_from_step > 0) {
      learning_seconds = seconds_between(dir / "metrics.csv", timed_from_step, summary.total_steps);
    }
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  BenchResult result{case_name,
                     target,
                     {{"steps", static_cast<double>(summary.total_steps)},
                      {"wall_seconds", summary.wall_seconds},
                      {"steps_per_second", summary.steps_per_second},
                      {"final_eval_mean", summary.final_eval_mean}}};
  if (timed_from_step > 0) {
    result.metrics.emplace_back(
        "learning_steps_per_second",
        static_cast<double>(summary.total_steps - timed_from_step) / learning_seconds);
  }
  return result;
}

}  // namespace rl::bench

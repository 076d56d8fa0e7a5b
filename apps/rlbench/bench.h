// rlbench's benchmark cases. Each case lives in its own .cpp file in apps/rlbench/ and
// registers itself with RLBENCH_CASE; main.cpp selects, runs and prints them.
//
//   RLBENCH_CASE("my_case", "One line on what it measures", [](const BenchOptions& o) {
//     BenchResults results;
//     results.push_back({"my_case", "target", {{"steps_per_second", 1.0e6}}});
//     return results;
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rl::bench {

// Command-line options every case may use.
struct BenchOptions {
  std::optional<std::string> env;   // --env ID: only this env.
  std::optional<int64_t> episodes;  // --episodes N: random-play episode statistics.
  std::optional<int64_t> steps;     // --steps N: shorter/longer runs for training cases.
  std::optional<int64_t> repeat;    // --repeat K: ddppo_scaling in K alternating rounds.
  double seconds_per_env = 0.3;     // --seconds S: measuring time per env throughput row.
  uint64_t seed = 0;
};

// One result row: what was measured on which target, as named numbers (a value and,
// optionally, its standard error as "<name>_stderr").
struct BenchResult {
  std::string case_name;
  std::string target;  // Env id or setup, e.g. "classic/cartpole-v1".
  std::vector<std::pair<std::string, double>> metrics;
};
using BenchResults = std::vector<BenchResult>;

struct BenchCase {
  std::string name;
  std::string description;
  // Whether the case runs when no --case is given (long training cases may opt out).
  bool by_default = true;
  std::function<BenchResults(const BenchOptions&)> run;
};

std::vector<BenchCase>& bench_cases();

struct BenchRegistrar {
  explicit BenchRegistrar(BenchCase c) { bench_cases().push_back(std::move(c)); }
};

#define RLBENCH_CONCAT_INNER(a, b) a##b
#define RLBENCH_CONCAT(a, b) RLBENCH_CONCAT_INNER(a, b)
#define RLBENCH_CASE(...)                                  \
  static const ::rl::bench::BenchRegistrar RLBENCH_CONCAT( \
      rlbench_case_, __LINE__)(::rl::bench::BenchCase{__VA_ARGS__})

}  // namespace rl::bench

// A run's numbers depend on its config and seed, not on the BLAS thread count the process
// started with (OPENBLAS_NUM_THREADS): train.threads applies before the agent initialises.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

// metrics.csv without its wall-clock columns (wall_seconds, steps_per_second).
std::string metrics_without_timing(const fs::path& run) {
  std::istringstream lines(read_file((run / "metrics.csv").string()));
  std::string line, kept;
  while (std::getline(lines, line)) {
    const size_t first = line.find(',');
    const size_t third = line.find(',', line.find(',', first + 1) + 1);
    REQUIRE(third != std::string::npos);
    kept += line.substr(0, first) + line.substr(third) + '\n';
  }
  return kept;
}

fs::path train_with_blas_threads(const fs::path& dir, int threads) {
  const fs::path run = dir / ("blas" + std::to_string(threads));
  const std::string config =
      (test::source_dir() / "configs" / "ppo_lstm_cartpole_novel.yaml").string();
  const test::AppResult result = test::run_app(
      "rltrain",
      test::shell_quoted(config) + " --out " + test::shell_quoted(run) +
          " --set train.total_steps=4096 --set train.eval_every=0 --set train.eval_episodes=1"
          " --set train.checkpoint_every=0 --set train.tensorboard=false",
      dir, "OPENBLAS_NUM_THREADS=" + std::to_string(threads) + " ");
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return run;
}

TEST_CASE("rltrain: OPENBLAS_NUM_THREADS does not change a run's numbers") {
  test::TempDir dir("blas_threads");
  const std::string one = metrics_without_timing(train_with_blas_threads(dir.path, 1));
  const std::string two = metrics_without_timing(train_with_blas_threads(dir.path, 2));
  REQUIRE(one.find("\n4096,") != std::string::npos);
  CHECK(one == two);
}

}  // namespace
}  // namespace rl

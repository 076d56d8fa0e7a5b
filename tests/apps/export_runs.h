// A short training run for the export and policy-server app tests: a fresh, barely trained
// agent is all rlexport and rlserve --policy need.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "run_app.h"

namespace rl::test {

// Trains configs/`config`.yaml for `total_steps` env steps (no evaluation) into `dir`/run and
// returns that folder.
inline std::filesystem::path train_short_run(const TempDir& dir, const std::string& config,
                                             int total_steps) {
  const std::string path = (source_dir() / "configs" / (config + ".yaml")).string();
  const AppResult train = run_app(
      "rltrain",
      shell_quoted(path) + " --out run --set train.total_steps=" + std::to_string(total_steps) +
          " --set train.eval_every=0 --set train.eval_episodes=1",
      dir.path);
  REQUIRE_MESSAGE(train.exit_code == 0, train.output);
  return dir.path / "run";
}

}  // namespace rl::test

// rlwatch given a checkpoint or run folder whose checkpoint is truncated or corrupt: like
// rltrain --resume/--evaluate, it says what is wrong and watches the newest valid checkpoint
// of the history, naming it; with none valid it fails naming every file tried.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "apps/run_app.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

using test::contains;
using test::shell_quoted;
using Result = test::AppResult;

Result app(const std::string& name, const std::string& args) {
  return test::run_app(name, args, fs::temp_directory_path());
}

// Inverts the byte in the middle of `path` in place.
void damage_middle_byte(const fs::path& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(fs::file_size(path) / 2);
  file.seekg(middle);
  const char byte = static_cast<char>(file.get());
  file.seekp(middle);
  file.put(static_cast<char>(~byte));
}

TEST_CASE("rlwatch: a corrupt checkpoint gives way to the newest valid one, named") {
  test::TempDir dir("rlwatch_fallback");
  const fs::path run = dir.path / "run";
  const Result trained =
      app("rltrain", "dqn.yaml --out " + shell_quoted(run) +
                         " --set train.total_steps=300 --set train.eval_every=0"
                         " --set train.eval_episodes=1 --set train.checkpoint_every=100"
                         " --set agent.learning_starts=100 --set train.keep_checkpoints=2");
  CAPTURE(trained.output);
  REQUIRE(trained.exit_code == 0);
  const fs::path checkpoints = run / "checkpoints";
  const std::string latest = (checkpoints / "latest.pt").string();
  const std::string newest_step = (checkpoints / "step_000000300.pt").string();
  const std::string watch_headless = " --headless --episodes 1";

  // A truncated latest.pt, asked for by name.
  fs::resize_file(latest, fs::file_size(latest) / 2);
  const Result direct = app("rlwatch", "--checkpoint " + shell_quoted(latest) + watch_headless);
  CAPTURE(direct.output);
  CHECK(direct.exit_code == 0);
  CHECK(contains(direct.output, "rlwatch: " + latest + ": cannot read checkpoint: corrupt"));
  CHECK(contains(direct.output,
                 "rlwatch: falling back to " + newest_step + ", the newest valid checkpoint"));
  CHECK(contains(direct.output, "episode 1: return"));

  // A run folder whose best.pt fails its checksum (and latest.pt is still cut short).
  const std::string best = (checkpoints / "best.pt").string();
  damage_middle_byte(best);
  const Result folder = app("rlwatch", shell_quoted(run) + watch_headless);
  CAPTURE(folder.output);
  CHECK(folder.exit_code == 0);
  CHECK(contains(folder.output, best + ": cannot read checkpoint: corrupt: checksum mismatch"));
  CHECK(contains(folder.output, latest + ": cannot read checkpoint: corrupt"));
  CHECK(contains(folder.output, "falling back to " + newest_step));
  CHECK(contains(folder.output, "episode 1: return"));
  // Watching changes nothing in the run folder.
  CHECK(fs::exists(newest_step));
  CHECK_FALSE(fs::exists(best + ".corrupt"));

  // Nothing valid left: an error naming every file tried, and no agent.
  for (const char* name : {"step_000000300.pt", "step_000000200.pt"}) {
    damage_middle_byte(checkpoints / name);
  }
  const Result none = app("rlwatch", shell_quoted(run) + watch_headless);
  CAPTURE(none.output);
  CHECK(none.exit_code != 0);
  CHECK(contains(none.output, "no valid checkpoint to load in place of " + best));
  CHECK(contains(none.output, (checkpoints / "step_000000200.pt").string() +
                                  ": cannot read checkpoint: corrupt"));
  CHECK_FALSE(contains(none.output, "episode 1"));
}

}  // namespace
}  // namespace rl

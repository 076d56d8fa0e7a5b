// rlexport and the play_policy example, run as a user would: train briefly, export the run,
// play the exported policy; bad inputs get exit codes and messages naming the file.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "export_runs.h"
#include "run_app.h"
#include "test_support.h"

namespace rl::test {
namespace {

TEST_CASE("rlexport: a run folder exports to a policy that play_policy plays") {
  TempDir dir("rlexport_run");
  const std::filesystem::path run = train_short_run(dir, "dqn_cartpole", 500);
  const AppResult exported = run_app("rlexport", shell_quoted(run) + " --out policy.pt", dir.path);
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.output);
  CHECK(contains(exported.output, "dqn on classic/cartpole-v1"));
  CHECK(std::filesystem::file_size(dir.path / "policy.pt") > 0);

  const AppResult played = run_app("play_policy", "policy.pt 2 7", dir.path);
  INFO(played.output);
  CHECK(played.exit_code == 0);
  CHECK(contains(played.output, "episode 2: return"));
  CHECK(contains(played.output, "(dqn) on classic/cartpole-v1: mean return"));

  // A checkpoint file exports too.
  const AppResult from_checkpoint = run_app(
      "rlexport", shell_quoted(run / "checkpoints" / "latest.pt") + " --out latest.pt", dir.path);
  CHECK_MESSAGE(from_checkpoint.exit_code == 0, from_checkpoint.output);

  // A truncated checkpoint is reported and the newest intact one of the run is exported.
  const std::filesystem::path chosen =
      run / "checkpoints" /
      (std::filesystem::exists(run / "checkpoints" / "best.pt") ? "best.pt" : "final.pt");
  std::filesystem::resize_file(chosen, std::filesystem::file_size(chosen) / 2);
  const AppResult fallback =
      run_app("rlexport", shell_quoted(run) + " --out fallback.pt", dir.path);
  INFO(fallback.output);
  CHECK(fallback.exit_code == 0);
  CHECK(contains(fallback.output, chosen.filename().string()));
  CHECK(contains(fallback.output, "falling back to"));
  CHECK(std::filesystem::exists(dir.path / "fallback.pt"));
}

TEST_CASE("rlexport: bad arguments exit 2, unreadable checkpoints exit 1 naming the file") {
  TempDir dir("rlexport_bad");
  const AppResult no_out = run_app("rlexport", "somewhere", dir.path);
  CHECK(no_out.exit_code == 2);
  CHECK(contains(no_out.output, "--out"));
  CHECK(run_app("rlexport", "--help", dir.path).exit_code == 0);

  std::ofstream(dir.path / "garbage.pt") << "not a checkpoint";
  const AppResult corrupt = run_app("rlexport", "garbage.pt --out p.pt", dir.path);
  CHECK(corrupt.exit_code == 1);
  CHECK(contains(corrupt.output, "garbage.pt"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "p.pt"));

  const AppResult missing = run_app("rlexport", "nowhere --out p.pt", dir.path);
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.output, "nowhere: no such checkpoint file or run folder"));
}

TEST_CASE("play_policy: a file that is not a policy is refused naming it") {
  TempDir dir("play_bad");
  std::ofstream(dir.path / "garbage.pt") << "not a policy";
  const AppResult played = run_app("play_policy", "garbage.pt", dir.path);
  CHECK(played.exit_code == 1);
  CHECK(contains(played.output, "garbage.pt: not a TorchScript policy file"));
}

}  // namespace
}  // namespace rl::test

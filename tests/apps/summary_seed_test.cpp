// Seeds are 64-bit integers end to end: a seed beyond 2^53 (where doubles skip odd integers)
// goes from the config through training into summary.json and reads back unchanged.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdint>
#include <string>

#include "agents/trainer.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

constexpr uint64_t kSeed = 9007199254740993ull;  // 2^53 + 1: the nearest double is 2^53

TEST_CASE("summary.json: TrainSummary writes the seed as an exact integer") {
  TrainSummary summary;
  summary.seed = kSeed;
  const json::Value back = json::parse(summary.to_json());
  CHECK(back.find("seed")->as_uint64() == kSeed);
  CHECK(summary.to_json().find("\"seed\":9007199254740993") != std::string::npos);
}

TEST_CASE("rltrain: a seed beyond 2^53 reaches summary.json unchanged") {
  test::TempDir dir("summary_seed");
  const auto run = dir.path / "run";
  const pid_t pid = test::spawn_logged(
      (test::bin_dir() / "rltrain").string(),
      {"dqn.yaml", "--out", run.string(), "--set", "seed=" + std::to_string(kSeed), "--set",
       "train.total_steps=200", "--set", "train.eval_every=0", "--set", "train.eval_episodes=1",
       "--set", "agent.learning_starts=100"},
      dir.path / "log.txt");
  REQUIRE(pid > 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(read_file((dir.path / "log.txt").string()));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("seed")->as_uint64() == kSeed);
}

}  // namespace
}  // namespace rl

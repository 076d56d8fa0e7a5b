#include "agents/checkpoint.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "agents/archive_util.h"
#include "agents/checkpoint_history.h"
#include "agents/dqn/dqn_agent.h"
#include "agents/trainer.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

namespace fs = std::filesystem;
using test::chain_config;
using test::experiment_from;

// Q-values of every chain position, as the agent computes them.
std::vector<float> chain_q_values(Experiment& e) {
  const int64_t dims = e.env_spec.observation_space.shape[0];
  const int64_t length = dims - 1;
  std::vector<float> observations(2 * length * dims, 0.f);  // Every position, both goals.
  for (int64_t i = 0; i < 2 * length; ++i) {
    observations[i * dims + i % length] = 1.f;
    observations[i * dims + length] = i >= length ? 1.f : 0.f;
  }
  auto& dqn = dynamic_cast<DqnAgent&>(*e.agent);
  return dqn.q_values(std::span<const uint8_t>(reinterpret_cast<uint8_t*>(observations.data()),
                                               observations.size() * sizeof(float)),
                      static_cast<int>(2 * length));
}

std::vector<std::string> csv_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("checkpoint: save then load gives identical Q-values and counters") {
  test::TempDir dir("checkpoint_roundtrip");
  Experiment trained = experiment_from(chain_config(600));
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  const fs::path path = dir.path / "checkpoints" / "final.pt";
  REQUIRE(fs::exists(path));

  // A fresh agent from another seed starts with different weights...
  Experiment fresh = experiment_from(chain_config(600), {"seed=4"});
  CHECK(chain_q_values(fresh) != chain_q_values(trained));
  // ...and after loading computes exactly what the trained one does.
  const TrainerState state = load_checkpoint(path.string(), fresh);
  CHECK(chain_q_values(fresh) == chain_q_values(trained));
  CHECK(state.env_steps == 600);
  CHECK(state.episodes > 0);
  CHECK(dynamic_cast<DqnAgent&>(*fresh.agent).gradient_steps_done() ==
        dynamic_cast<DqnAgent&>(*trained.agent).gradient_steps_done());
  // Greedy and exploring actions (the RNG state is restored) match too.
  std::vector<uint8_t> obs(fresh.env_spec.observation_space.bytes(), 0);
  as_f32(std::span<uint8_t>(obs))[0] = 1.f;
  for (int k = 0; k < 20; ++k) {
    int64_t a = -1, b = -1;
    fresh.agent->act(obs, 1, ActMode::kExplore, {std::span<int64_t>(&a, 1), {}});
    trained.agent->act(obs, 1, ActMode::kExplore, {std::span<int64_t>(&b, 1), {}});
    CHECK(a == b);
  }

  // The checkpoint carries its config: a viewer can rebuild the agent from it alone.
  TrainerState viewer_state;
  Experiment viewer = load_experiment_from_checkpoint(path.string(), &viewer_state);
  CHECK(viewer.run().env.id == "test/chain-v0");
  CHECK(viewer_state.env_steps == 600);
  CHECK(chain_q_values(viewer) == chain_q_values(trained));
}

TEST_CASE("checkpoint: loading into a different network or a bad file fails clearly") {
  test::TempDir dir("checkpoint_mismatch");
  Experiment trained = experiment_from(chain_config(300));
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  const std::string path = (dir.path / "checkpoints" / "final.pt").string();

  Experiment wider = experiment_from(chain_config(300), {"agent.hidden=[64]"});
  try {
    load_checkpoint(path, wider);
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    CHECK(m.find(path) != std::string::npos);
    CHECK(m.find("different network") != std::string::npos);
    CHECK(m.find("mlp 8-32") != std::string::npos);
  }
  const std::string garbage = (dir.path / "garbage.pt").string();
  write_file_atomic(garbage, std::string("not a checkpoint"));
  CHECK_THROWS_WITH_AS(load_checkpoint(garbage, wider), doctest::Contains("cannot read checkpoint"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(read_checkpoint_config((dir.path / "missing.pt").string()),
                       doctest::Contains("missing.pt"), std::runtime_error);
}

TEST_CASE("resume: a stopped run continues its counters, metrics and checkpoints") {
  test::TempDir dir("resume");
  const std::string run = dir.str();
  // Session 1: stop after the first step (as Ctrl-C would), then continue to 400...
  std::atomic<bool> stop{true};
  {
    Experiment first = experiment_from(chain_config(400));
    TrainOptions options;
    options.run_dir = run;
    options.stop_requested = &stop;
    const TrainSummary s = train(first, options);
    CHECK(s.interrupted);
    CHECK(s.total_steps == 0);
    CHECK(fs::exists(dir.path / "checkpoints" / "latest.pt"));
    CHECK_FALSE(fs::exists(dir.path / "checkpoints" / "final.pt"));
  }
  stop = false;
  int64_t gradient_steps_after_400 = 0;
  {
    Experiment second = experiment_from(chain_config(400));
    TrainOptions options;
    options.run_dir = run;
    options.resume = true;
    const TrainSummary s = train(second, options);
    CHECK_FALSE(s.interrupted);
    CHECK(s.total_steps == 400);
    gradient_steps_after_400 = dynamic_cast<DqnAgent&>(*second.agent).gradient_steps_done();
    CHECK(gradient_steps_after_400 > 0);
  }
  // ...then extend the budget from the run's own config.yaml, as rltrain --resume does.
  ConfigDocument resolved = ConfigDocument::load_file((dir.path / "config.yaml").string());
  resolved.apply_override("train.total_steps=900");
  Experiment third = build_experiment(std::move(resolved));
  TrainOptions options;
  options.run_dir = run;
  options.resume = true;
  const TrainSummary s = train(third, options);
  CHECK(s.total_steps == 900);
  auto& dqn = dynamic_cast<DqnAgent&>(*third.agent);
  // Gradient steps continued from the checkpoint: more than the 400 -> 900 steps alone give.
  CHECK(dqn.gradient_steps_done() > gradient_steps_after_400);

  // metrics.csv kept one header and its steps increase across sessions.
  const auto lines = csv_lines(dir.path / "metrics.csv");
  REQUIRE(lines.size() > 3);
  CHECK(lines[0].rfind("step,", 0) == 0);
  int64_t previous = -1;
  int headers = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("step,", 0) == 0) {
      ++headers;
      continue;
    }
    const int64_t step = std::stoll(lines[i].substr(0, lines[i].find(',')));
    CHECK(step >= previous);
    previous = step;
  }
  CHECK(headers == 1);
  CHECK(previous == 900);

  const json::Value summary = json::parse(read_file((dir.path / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 900);
  CHECK(summary.find("env")->as_string() == "test/chain-v0");
  CHECK(summary.find("agent")->as_string() == "dqn");
  for (const char* key : {"seed", "wall_seconds", "steps_per_second", "final_eval_mean",
                          "final_eval_std", "best_eval_mean"}) {
    CAPTURE(key);
    REQUIRE(summary.find(key) != nullptr);
  }
  CHECK(summary.find("wall_seconds")->as_number() > 0);
  CHECK(fs::exists(dir.path / "checkpoints" / "best.pt"));
  CHECK(fs::exists(dir.path / "checkpoints" / "final.pt"));
  CHECK(fs::exists(dir.path / "replays" / "best.rlr"));
}

// A run of the chain env checkpointing every 100 steps; returns its checkpoint folder.
fs::path train_with_history(const test::TempDir& dir, int64_t total_steps,
                            const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> sets = {"train.checkpoint_every=100"};
  sets.insert(sets.end(), overrides.begin(), overrides.end());
  Experiment e = experiment_from(chain_config(total_steps), sets);
  TrainOptions options;
  options.run_dir = dir.str();
  train(e, options);
  return dir.path / "checkpoints";
}

void rewrite(const fs::path& path, const std::function<void(std::string&)>& change) {
  std::string bytes = read_file(path.string());
  change(bytes);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("checkpoint history: latest.pt plus the newest keep_checkpoints step files") {
  test::TempDir dir("checkpoint_history");
  const fs::path checkpoints = train_with_history(dir, 600, {"train.keep_checkpoints=2"});
  const std::vector<std::string> steps = step_checkpoints(checkpoints.string());
  REQUIRE(steps.size() == 2);
  CHECK(fs::path(steps[0]).filename() == "step_000000600.pt");
  CHECK(fs::path(steps[1]).filename() == "step_000000500.pt");
  CHECK(read_file(steps[0]) == read_file((checkpoints / "latest.pt").string()));
  CHECK(fs::exists(checkpoints / "final.pt"));
  for (const auto& entry : fs::directory_iterator(checkpoints)) {
    CHECK_FALSE(contains(entry.path().string(), ".tmp"));
  }

  test::TempDir none("checkpoint_no_history");
  CHECK(step_checkpoints(train_with_history(none, 300, {"train.keep_checkpoints=0"}).string())
            .empty());
  CHECK_THROWS_WITH_AS(experiment_from(chain_config(300), {"train.keep_checkpoints=1001"}),
                       doctest::Contains("keep_checkpoints"), ConfigError);
  CHECK_THROWS_AS(experiment_from(chain_config(300), {"train.keep_checkpoints=-1"}), ConfigError);
}

TEST_CASE("checkpoint: truncated and bit-flipped files are detected; pre-checksum files load") {
  test::TempDir dir("checkpoint_verify");
  const fs::path checkpoints = train_with_history(dir, 300);
  const fs::path latest = checkpoints / "latest.pt";
  const std::string intact = read_file(latest.string());
  verify_checkpoint(latest.string());

  rewrite(latest, [](std::string& b) { b.resize(b.size() - 1000); });
  std::string error = error_of([&] { verify_checkpoint(latest.string()); });
  CHECK(contains(error, latest.string() + ": cannot read checkpoint: corrupt or cut short"));
  CHECK_THROWS_AS(verify_checkpoint(latest.string()), CorruptCheckpointError);

  write_file_atomic(latest.string(), intact);
  rewrite(latest, [](std::string& b) { b[b.size() / 2] ^= 0x10; });
  error = error_of([&] { verify_checkpoint(latest.string()); });
  CHECK(contains(error, latest.string() + ": cannot read checkpoint: corrupt: checksum mismatch"));
  Experiment e = experiment_from(chain_config(300));
  CHECK_THROWS_AS(load_checkpoint(latest.string(), e), CorruptCheckpointError);

  // A file written before checksums existed (the archive alone) still loads.
  write_file_atomic(latest.string(), intact.substr(0, intact.size() - 24));
  CHECK(load_checkpoint(latest.string(), e).env_steps == 300);
}

TEST_CASE("checkpoint: a corrupt file gives way to the newest valid one; none valid is an error") {
  test::TempDir dir("checkpoint_fallback");
  const fs::path checkpoints = train_with_history(dir, 500);
  const std::string latest = (checkpoints / "latest.pt").string();
  CHECK(choose_valid_checkpoint(latest).path == latest);
  CHECK(choose_valid_checkpoint(latest).report().empty());

  rewrite(latest, [](std::string& b) { b.resize(b.size() / 3); });
  rewrite(checkpoints / "step_000000500.pt", [](std::string& b) { b[100] ^= 1; });
  const CheckpointChoice choice = choose_valid_checkpoint(latest);
  CHECK(fs::path(choice.path).filename() == "step_000000400.pt");
  REQUIRE(choice.rejected.size() == 2);
  CHECK(choice.rejected[0].path == latest);
  CHECK(fs::path(choice.rejected[1].path).filename() == "step_000000500.pt");
  const std::vector<std::string> report = choice.report();
  REQUIRE(report.size() == 3);
  CHECK(contains(report[1], "step_000000500.pt: cannot read checkpoint: corrupt: checksum"));
  CHECK(report[2] == "falling back to " + choice.path + ", the newest valid checkpoint");
  // --evaluate of best.pt falls back the same way, trying latest.pt first.
  const std::string best = (checkpoints / "best.pt").string();
  rewrite(best, [](std::string& b) { b.resize(10); });
  CHECK(choose_valid_checkpoint(best).path == choice.path);

  // Resuming sets the damaged step file aside and continues from step 400.
  Experiment resumed = experiment_from(chain_config(500), {"train.checkpoint_every=100"});
  TrainOptions options;
  options.run_dir = dir.str();
  options.resume = true;
  std::ostringstream log;
  options.log = &log;
  CHECK(train(resumed, options).total_steps == 500);
  CHECK(contains(log.str(), "resuming " + dir.str() + " at step 400"));
  CHECK(fs::exists(checkpoints / "step_000000500.pt.corrupt"));
  verify_checkpoint(latest);
  verify_checkpoint((checkpoints / "step_000000500.pt").string());

  for (const auto& file : fs::directory_iterator(checkpoints)) {
    if (file.path().extension() == ".pt") rewrite(file.path(), [](std::string& b) { b[7] ^= 1; });
  }
  const std::string error = error_of([&] { choose_valid_checkpoint(latest); });
  CHECK(contains(error, "no valid checkpoint to load in place of " + latest));
  for (const char* name : {"latest.pt:", "step_000000500.pt:", "step_000000400.pt:",
                           "step_000000300.pt:", "final.pt:"}) {
    CAPTURE(name);
    CHECK(contains(error, name) == (std::string(name) != "final.pt:"));
  }
  CHECK_THROWS_WITH_AS(choose_valid_checkpoint((checkpoints / "nope.pt").string()),
                       doctest::Contains("nope.pt: cannot read checkpoint: no such file"),
                       std::runtime_error);
}

TEST_CASE("checkpoint: a newer format version is refused naming both versions") {
  test::TempDir dir("checkpoint_newer");
  fs::create_directories(dir.path);
  torch::serialize::OutputArchive archive;
  write_string(archive, "format", "rlcade-checkpoint-7");
  const std::string newer = (dir.path / "newer.pt").string();
  archive.save_to(newer);
  std::string error = error_of([&] { verify_checkpoint(newer); });
  CHECK(contains(error, newer + ": written by a newer rlcade: checkpoint format version 7, this "
                                "build reads versions up to 1"));
  // Not corruption: no fallback to another file.
  CHECK_THROWS_WITH_AS(choose_valid_checkpoint(newer), doctest::Contains("version 7"),
                       std::runtime_error);

  const fs::path checkpoints = train_with_history(dir, 100);
  const fs::path latest = checkpoints / "latest.pt";
  rewrite(latest, [](std::string& b) { b[b.size() - 12] = 2; });  // The trailer's version.
  error = error_of([&] { verify_checkpoint(latest.string()); });
  CHECK(contains(error, "checksum trailer version 2, this build reads version 1"));
}

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST_CASE("trainer: a failed checkpoint write stops training and leaves the previous intact") {
  test::TempDir dir("checkpoint_write_failure");
  std::string error;
  {
    const ScopedEnv fail("RLCADE_INJECT_WRITE_FAILURE", "latest.pt");
    const ScopedEnv after("RLCADE_INJECT_WRITE_FAILURE_AFTER", "2");
    error = error_of([&] { train_with_history(dir, 600); });
  }
  CAPTURE(error);
  const std::string latest = (dir.path / "checkpoints" / "latest.pt").string();
  CHECK(contains(error, "cannot save checkpoint: cannot write " + latest +
                            ": No space left on device (injected"));
  CHECK(contains(error,
                 "training stopped at step 300; checkpoints/latest.pt (step 200) is "
                 "intact: continue with: rltrain --resume " +
                     dir.str()));
  Experiment e = experiment_from(chain_config(600));
  CHECK(load_checkpoint(latest, e).env_steps == 200);
  for (const auto& entry : fs::directory_iterator(dir.path / "checkpoints")) {
    CHECK_FALSE(contains(entry.path().string(), ".tmp"));
  }
  CHECK_FALSE(fs::exists(dir.path / "checkpoints" / "step_000000300.pt"));
}

}  // namespace
}  // namespace rl

#include "agents/checkpoint.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace
}  // namespace rl

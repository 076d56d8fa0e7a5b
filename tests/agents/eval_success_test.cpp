// Success rates in evaluation, metrics.csv and summary.json for envs that report success
// (EnvSpec::reports_success, the grid tasks), and their absence for envs that do not.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agents/trainer.h"
#include "core/json.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::experiment_from;

// DQN with a small MLP on grid/empty-5x5-v0 (fixed start, goal 4 steps away: forward, forward,
// right, forward, forward... the shortest path is 5 actions).
std::string empty5_config(int64_t total_steps) {
  return "name: empty5\n"
         "seed: 2\n"
         "env:\n"
         "  id: grid/empty-5x5-v0\n"
         "  num_envs: 1\n"
         "agent:\n"
         "  type: dqn\n"
         "  torso: mlp\n"
         "  hidden: [64]\n"
         "  gamma: 0.9\n"
         "  lr: 1e-3\n"
         "  batch_size: 32\n"
         "  buffer_size: 10000\n"
         "  learning_starts: 500\n"
         "  train_frequency: 1\n"
         "  target_update_period: 200\n"
         "  exploration_steps: 2000\n"
         "train:\n"
         "  total_steps: " +
         std::to_string(total_steps) +
         "\n"
         "  eval_every: 1000\n"
         "  eval_episodes: 10\n"
         "  eval_max_steps: 100\n"
         "  checkpoint_every: 0\n"
         "  log_every: 500\n"
         "  record_eval: false\n";
}

std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

json::Value read_summary(const test::TempDir& dir) {
  std::ifstream in(dir.path / "summary.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

const json::Value& field(const json::Value& object, const std::string& key) {
  const json::Value* value = object.find(key);
  REQUIRE(value != nullptr);
  return *value;
}

TEST_CASE("eval success: evaluate() judges every episode of a grid task") {
  // eval_epsilon 1: random actions, so some episodes reach the goal within 40 steps and some
  // do not. Every success pays a positive reward; every other episode returns 0.
  Experiment e = experiment_from(empty5_config(1000), {"agent.eval_epsilon=1"});
  const EvalResult result = evaluate(e, 64, 77, 40);
  REQUIRE(result.successes.size() == 64);
  int successes = 0;
  for (size_t i = 0; i < result.successes.size(); ++i) {
    CAPTURE(i);
    CHECK(result.successes[i] == (result.returns[i] > 0 ? 1 : 0));
    successes += result.successes[i];
  }
  CHECK(successes > 0);
  CHECK(successes < 64);
  CHECK(result.success_rate == doctest::Approx(successes / 64.0));

  // An env without success reporting gives none.
  Experiment chain = experiment_from(test::chain_config());
  const EvalResult plain = evaluate(chain, 4, 1, 28);
  CHECK(plain.successes.empty());
  CHECK(std::isnan(plain.success_rate));
}

TEST_CASE("eval success: rltrain logs it per evaluation and summarizes it") {
  test::TempDir dir("eval_success");
  Experiment e = experiment_from(empty5_config(4000));
  TrainOptions options;
  options.run_dir = dir.str();
  std::ostringstream log;
  options.log = &log;
  const TrainSummary summary = train(e, options);
  CHECK(summary.final_eval_success == 1.0);  // Learned: every greedy episode reaches the goal.
  CHECK(summary.best_eval_success == 1.0);
  CHECK(log.str().find(", success 1.00") != std::string::npos);
  CHECK(summary.one_line().find("success 1.00 (best 1.00)") != std::string::npos);

  const auto rows = read_csv(dir.path / "metrics.csv");
  REQUIRE(rows.size() > 1);
  const auto& header = rows[0];
  const auto column = std::find(header.begin(), header.end(), "eval_success");
  REQUIRE(column != header.end());
  const size_t success_index = column - header.begin();
  const size_t mean_index = std::find(header.begin(), header.end(), "eval_mean") - header.begin();
  int eval_rows = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    CAPTURE(r);
    REQUIRE(rows[r].size() == header.size());
    const bool eval_row = !rows[r][mean_index].empty();
    CHECK(rows[r][success_index].empty() == !eval_row);  // Filled exactly on evaluation rows.
    if (!eval_row) continue;
    ++eval_rows;
    const double rate = std::stod(rows[r][success_index]);
    CHECK(rate >= 0.0);
    CHECK(rate <= 1.0);
    // Every return is at most 1 and positive only on success: rate >= mean, and a rate of 0
    // means a mean of 0.
    const double mean = std::stod(rows[r][mean_index]);
    CHECK(rate >= mean - 1e-9);
    if (rate == 0.0) CHECK(mean == 0.0);
  }
  CHECK(eval_rows == 4);

  const json::Value json = read_summary(dir);
  CHECK(field(json, "final_eval_success").as_number() == 1.0);
  CHECK(field(json, "best_eval_success").as_number() == 1.0);

  // Resuming keeps the column and the best rate.
  Experiment more = experiment_from(empty5_config(5000));
  options.resume = true;
  options.log = nullptr;
  const TrainSummary resumed = train(more, options);
  CHECK(resumed.best_eval_success == 1.0);
  CHECK(read_csv(dir.path / "metrics.csv")[0] == header);

  // A run whose metrics.csv predates the column resumes without it.
  {
    auto old_rows = read_csv(dir.path / "metrics.csv");
    std::ofstream out(dir.path / "metrics.csv", std::ios::trunc);
    for (auto& row : old_rows) {
      row.erase(row.begin() + static_cast<std::ptrdiff_t>(success_index));
      for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << row[i];
      out << "\n";
    }
  }
  Experiment again = experiment_from(empty5_config(6000));
  CHECK_NOTHROW(train(again, options));
  const auto after = read_csv(dir.path / "metrics.csv");
  CHECK(std::find(after[0].begin(), after[0].end(), "eval_success") == after[0].end());
  CHECK(after.back().size() == after[0].size());
  CHECK(field(read_summary(dir), "final_eval_success").is_number());  // Still summarized.
}

TEST_CASE("eval success: envs without success reporting have no column and null fields") {
  test::TempDir dir("eval_no_success");
  Experiment e = experiment_from(test::chain_config(300));
  TrainOptions options;
  options.run_dir = dir.str();
  const TrainSummary summary = train(e, options);
  CHECK(std::isnan(summary.final_eval_success));
  CHECK(std::isnan(summary.best_eval_success));
  CHECK(summary.one_line().find(", success") == std::string::npos);
  const auto header = read_csv(dir.path / "metrics.csv")[0];
  CHECK(std::find(header.begin(), header.end(), "eval_success") == header.end());
  const json::Value json = read_summary(dir);
  CHECK(field(json, "final_eval_success").is_null());
  CHECK(field(json, "best_eval_success").is_null());
}

}  // namespace
}  // namespace rl

// rlreport on fixed run folders: the page's statistics equal core/run_statistics' on the same
// scores, targets are judged from each seed's evaluations, and bad input is named by file and
// line with exit code 2.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/run_statistics.h"
#include "run_app.h"

namespace rl {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::run_app;
using test::shell_quoted;
using test::TempDir;

// A run folder whose metrics.csv holds a training row and then an evaluation row per
// (step, eval_mean) pair, as the trainer writes them.
void write_run(const fs::path& dir, const std::vector<std::pair<int, double>>& evaluations) {
  fs::create_directories(dir);
  std::string csv = "step,wall_seconds,return_mean,eval_mean,eval_std\n";
  for (const auto& [step, mean] : evaluations) {
    const std::string wall = std::to_string(step / 1000.0);
    csv += std::to_string(step) + "," + wall + ",20.5,,\n";
    csv += std::to_string(step) + "," + wall + ",," + std::to_string(mean) + ",1.5\n";
  }
  write_file_atomic((dir / "metrics.csv").string(), csv);
}

// A multi-seed folder: seed-<k>/ for each of `finals` (evaluations at 1000, 2000 and 3000
// steps, the last one the final score), and its resolved config with `target_line`.
void write_seeds(const fs::path& dir, const std::vector<double>& finals,
                 const std::string& target_line) {
  for (size_t k = 0; k < finals.size(); ++k)
    write_run(dir / ("seed-" + std::to_string(k + 1)),
              {{1000, 10.0 * (k + 1)}, {2000, finals[k] / 2}, {3000, finals[k]}});
  write_file_atomic((dir / "seeds_config.yaml").string(), "name: x\n" + target_line);
}

// The number in attribute `name` of the first element carrying `anchor` (e.g.
// data-config="a" data-stat="iqm").
double attribute(const std::string& html, const std::string& anchor, const std::string& name) {
  const size_t at = html.find(anchor);
  REQUIRE_MESSAGE(at != std::string::npos, "no element with ", anchor);
  const size_t tag_end = html.find('>', at);
  const size_t value = html.find(name + "=\"", at);
  REQUIRE_MESSAGE((value != std::string::npos && value < tag_end), "no ", name, " at ", anchor);
  return std::strtod(html.c_str() + value + name.size() + 2, nullptr);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// rlreport's output on a run folder `bad` in `dir` whose metrics.csv is `csv`; it must refuse
// it with exit code 1 (a file it cannot use).
std::string csv_error(const fs::path& dir, const std::string& csv) {
  fs::create_directories(dir / "bad");
  write_file_atomic((dir / "bad" / "metrics.csv").string(), csv);
  const auto r = run_app("rlreport", "bad", dir);
  CHECK(r.exit_code == 1);
  return r.output;
}

void check_estimate(const std::string& html, const std::string& config, const std::string& stat,
                    const stats::ScoresByTask& scores, const stats::Aggregate& aggregate) {
  INFO(config, " ", stat);
  const std::string anchor = "data-config=\"" + config + "\" data-stat=\"" + stat + "\"";
  const stats::Interval ci = stats::stratified_bootstrap_interval(scores, aggregate);
  CHECK(attribute(html, anchor, "data-value") == aggregate(scores));
  CHECK(attribute(html, anchor, "data-low") == ci.low);
  CHECK(attribute(html, anchor, "data-high") == ci.high);
}

TEST_CASE("rlreport: the score table and probabilities of improvement match core statistics") {
  TempDir dir("report_stats");
  const std::vector<double> a = {412.0, 388.5, 500.0, 120.25, 455.125};
  const std::vector<double> b = {300.0, 310.5, 500.0, 290.0};
  write_seeds(dir.path / "a", a,
              "target: {metric: eval_mean, threshold: 400, within_steps: 3000, seeds: 5, "
              "of_seeds: 4}\n");
  write_seeds(dir.path / "b", b,
              "target: {metric: eval_mean, threshold: 300, within_steps: 3000, seeds: 5, "
              "of_seeds: 3}\n");
  const auto r = run_app("rlreport", "a b --out report.html --no-episodes", dir.path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string html = read_text(dir.path / "report.html");

  for (const auto& [name, finals] : {std::pair{"a", a}, std::pair{"b", b}}) {
    const stats::ScoresByTask scores = {finals};
    check_estimate(html, name, "iqm", scores, stats::aggregate_iqm);
    check_estimate(html, name, "mean", scores, stats::aggregate_mean);
    check_estimate(html, name, "median", scores, stats::aggregate_median);
    const double threshold = std::string(name) == "a" ? 400 : 300;
    check_estimate(html, name, "optimality_gap", scores, [threshold](const stats::ScoresByTask& s) {
      return stats::optimality_gap(s, threshold);
    });
  }
  CHECK(attribute(html, "data-stat=\"poi\" data-x=\"a\" data-y=\"b\"", "data-value") ==
        stats::probability_of_improvement({a}, {b}));
  CHECK(attribute(html, "data-stat=\"poi\" data-x=\"b\" data-y=\"a\"", "data-value") ==
        stats::probability_of_improvement({b}, {a}));
  // a: 412, 500 and 455.125 reach 400: 3 of 5, needs 4. b: 300, 310.5, 500: 3 of 4, needs 3
  // (and b has fewer seeds than its target's 5).
  CHECK(contains(html, "not met</span> 3/5 seeds, needs 4<"));
  CHECK(contains(
      html,
      ">met</span> 3/4 seeds, needs 3 <span class=\"note\">(incomplete: the target is about 5)"));
  CHECK(contains(html, "eval_mean &gt;= 400 within 3000 steps on 4 of 5 seeds"));
  // Self-contained: nothing to fetch, no scripts.
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "src=\"http"));
  CHECK_FALSE(contains(html, "href="));
}

TEST_CASE("rlreport: a target is judged at its budget, not by later evaluations") {
  TempDir dir("report_budget");
  write_run(dir.path / "late", {{1000, 100}, {2000, 300}, {5000, 500}});
  write_file_atomic((dir.path / "late" / "config.yaml").string(),
                    "target: {metric: eval_mean, threshold: 475, within_steps: 2000, seeds: 1, "
                    "of_seeds: 1}\n");
  const auto r = run_app("rlreport", "late --out r.html --no-episodes", dir.path);
  REQUIRE(r.exit_code == 0);
  const std::string html = read_text(dir.path / "r.html");
  CHECK(contains(html, "late: 300 at 2000 steps (not met)"));
  CHECK(contains(html, "not met</span> 0/1 seeds, needs 1<"));
  // The final score is still the last evaluation.
  CHECK(attribute(html, "data-config=\"late\" data-stat=\"mean\"", "data-value") == 500);
}

TEST_CASE("rlreport: a success target scores by eval_success; --x wall plots wall time") {
  TempDir dir("report_success");
  fs::create_directories(dir.path / "grid");
  write_file_atomic((dir.path / "grid" / "metrics.csv").string(),
                    "step,wall_seconds,eval_mean,eval_success\n"
                    "1000,2.5,0.2,0.25\n2000,5.0,0.9,0.95\n");
  write_file_atomic((dir.path / "grid" / "config.yaml").string(),
                    "target: {metric: eval_success, threshold: 0.9, within_steps: 2000, seeds: 1, "
                    "of_seeds: 1}\n");
  auto r = run_app("rlreport", "grid --out r.html --no-episodes --x wall", dir.path);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::string html = read_text(dir.path / "r.html");
  CHECK(attribute(html, "data-config=\"grid\" data-stat=\"mean\"", "data-value") == 0.95);
  CHECK(contains(html, ">met</span> 1/1 seeds"));
  CHECK(contains(html, "wall time (s)"));
  CHECK_FALSE(contains(html, "env steps"));

  r = run_app("rlreport", "grid --out r.html --no-episodes --metric eval_mean --gap-threshold 1",
              dir.path);
  REQUIRE(r.exit_code == 0);
  html = read_text(dir.path / "r.html");
  CHECK(attribute(html, "data-config=\"grid\" data-stat=\"mean\"", "data-value") == 0.9);
  CHECK(attribute(html, "data-config=\"grid\" data-stat=\"optimality_gap\"", "data-value") ==
        doctest::Approx(0.1));

  write_run(dir.path / "cartpole", {{1000, 20}});
  r = run_app("rlreport", "cartpole --metric eval_success", dir.path);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "cartpole/metrics.csv: no eval_success"));
}

TEST_CASE("rltrain checks a config's target before training") {
  TempDir dir("report_rltrain_target");
  auto r = run_app("rltrain", "dqn_cartpole --set target.of_seeds=6", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "target.of_seeds: must be at most seeds (5), got 6"));
  r = run_app("rltrain", "dqn_cartpole --set target.metric=return", dir.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.output, "target.metric"));
  CHECK_FALSE(fs::exists(dir.path / "runs"));
}

TEST_CASE("rlreport: unusable files name the file and line (exit code 1), bad arguments exit 2") {
  TempDir dir("report_errors");
  write_seeds(dir.path / "runs", {1, 2, 3}, "");
  fs::remove(dir.path / "runs" / "seed-2" / "metrics.csv");
  auto r = run_app("rlreport", "runs", dir.path);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "runs/seed-2/metrics.csv: cannot open"));
  CHECK_FALSE(fs::exists(dir.path / "report.html"));

  CHECK(contains(csv_error(dir.path, "step,wall_seconds,eval_mean\n1000,1.0,\n2000,2.0,abc\n"),
                 "bad/metrics.csv:3: column 'eval_mean': expected a number, got 'abc'"));
  CHECK(contains(csv_error(dir.path, "step,wall_seconds,eval_mean\n1000,1.0,5\n2000,2.0\n"),
                 "bad/metrics.csv:3: 2 cells, the header has 3"));
  CHECK(contains(csv_error(dir.path, "step,eval_mean\n1000,5\n"),
                 "bad/metrics.csv:1: no 'wall_seconds' column"));
  CHECK(contains(csv_error(dir.path, "step,wall_seconds,eval_mean\n1000,1.0,\n"),
                 "bad/metrics.csv: no evaluation rows"));
  CHECK(contains(csv_error(dir.path, ""), "bad/metrics.csv:1: empty file"));

  write_run(dir.path / "target", {{1000, 5}});
  write_file_atomic((dir.path / "target" / "config.yaml").string(),
                    "name: t\ntarget: {metric: eval_mean, threshold: 1, within_step: 10}\n");
  r = run_app("rlreport", "target", dir.path);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "target/config.yaml:2:"));
  CHECK(contains(r.output, "target.within_step"));

  fs::create_directories(dir.path / "empty");
  r = run_app("rlreport", "empty", dir.path);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "empty: not a run folder (no metrics.csv)"));
  const std::pair<const char*, const char*> refused[] = {
      {"--out x.html", "rlreport: missing RUN: name at least one run folder (see rlreport --help)"},
      {"runs --x time", "--x expects steps or wall, got 'time'"},
      {"runs --metric return", "--metric expects eval_mean or eval_success, got 'return'"}};
  for (const auto& [args, message] : refused) {
    r = run_app("rlreport", args, dir.path);
    INFO(std::string(args), ": ", r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, message));
  }
  r = run_app("rlreport", "--help", dir.path);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.output, "usage: rlreport RUN..."));
}

}  // namespace
}  // namespace rl

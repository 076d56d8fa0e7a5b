// core/run_statistics against numpy/scipy (tests/core/run_statistics_reference.py, run with
// Debian's /usr/bin/python3) on fixed data, and the stratified bootstrap on properties that
// hold whatever the random draws are.
#include "core/run_statistics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/rng.h"
#include "test_support.h"

namespace rl::stats {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-9;

json::Value to_json(const std::vector<double>& values) {
  json::Value array = json::Value::array();
  for (double x : values) array.push_back(x);
  return array;
}

json::Value to_json(const ScoresByTask& table) {
  json::Value array = json::Value::array();
  for (const std::vector<double>& task : table) array.push_back(to_json(task));
  return array;
}

// `n` scores spread like returns of a few hundred, with a tie when n > 2.
std::vector<double> generated_sample(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> sample;
  for (size_t i = 0; i < n; ++i) sample.push_back(200 + 100 * rng.normal());
  if (n > 2) sample[n - 1] = sample[0];
  return sample;
}

// `tasks` tasks of `runs` normalized scores around 0.8.
ScoresByTask generated_table(size_t tasks, size_t runs, uint64_t seed) {
  Rng rng(seed);
  ScoresByTask table(tasks);
  for (auto& task : table) {
    for (size_t r = 0; r < runs; ++r) task.push_back(0.8 + 0.3 * rng.normal());
  }
  return table;
}

const std::vector<std::vector<double>> kSamples = {
    {3.5},
    {1, 2},
    {5, -1, 2.5},
    {4, 1, 3, 2},
    {10, 0, 7, 7, 3},
    {500, 500, 500, 500, 500, 500},
    generated_sample(7, 1),
    generated_sample(8, 2),
    generated_sample(13, 3),
    generated_sample(50, 4),
};

const std::vector<ScoresByTask> kTables = {
    {{0.2, 0.9, 1.4, 0.5, 1.0}},
    generated_table(3, 5, 5),
    generated_table(4, 10, 6),
    generated_table(7, 3, 7),
};

constexpr double kGapThreshold = 1.0;

const ScoresByTask kImprovementX = {{1, 2, 3, 4}, {0.5, 0.5, 0.7, 0.1}, {3, 3, 3, 3}};
const ScoresByTask kImprovementY = {{2, 2, 0, 5}, {0.5, 0.5, 0.7, 0.1}, {1, 3, 4, 3}};

// Runs the Python reference on kSamples, kTables and the improvement pair; returns its output.
json::Value reference_values() {
  test::TempDir dir("run_statistics");
  json::Value input = json::Value::object();
  json::Value samples = json::Value::array();
  for (const auto& sample : kSamples) samples.push_back(to_json(sample));
  input.set("samples", samples);
  json::Value tables = json::Value::array();
  for (const auto& table : kTables) tables.push_back(to_json(table));
  input.set("tables", tables);
  input.set("gap_threshold", kGapThreshold);
  input.set("improvement", json::Value::array({to_json(kImprovementX), to_json(kImprovementY)}));
  write_file_atomic(dir.file("input.json"), json::dump(input));

  const fs::path script = test::source_dir() / "tests" / "core" / "run_statistics_reference.py";
  const std::string command = "/usr/bin/python3 '" + script.string() + "' '" +
                              dir.file("input.json") + "' '" + dir.file("output.json") + "' > '" +
                              dir.file("log.txt") + "' 2>&1";
  const int status = std::system(command.c_str());
  const std::string log = fs::exists(dir.file("log.txt")) ? read_file(dir.file("log.txt")) : "";
  INFO("reference script output (needs python3-numpy and python3-scipy, see setup.sh): ", log);
  REQUIRE(status == 0);
  return json::parse(read_file(dir.file("output.json")));
}

double field(const json::Value& object, const char* name) {
  const json::Value* value = object.find(name);
  REQUIRE(value != nullptr);
  return value->as_number();
}

TEST_CASE("run statistics: mean, median, IQM, percentiles and aggregates match numpy/scipy") {
  const json::Value reference = reference_values();
  const auto& samples = reference.find("samples")->items();
  REQUIRE(samples.size() == kSamples.size());
  for (size_t i = 0; i < kSamples.size(); ++i) {
    CAPTURE(i);
    const std::vector<double>& x = kSamples[i];
    CHECK(std::abs(mean(x) - field(samples[i], "mean")) < kTolerance);
    CHECK(std::abs(median(x) - field(samples[i], "median")) < kTolerance);
    CHECK(std::abs(interquartile_mean(x) - field(samples[i], "iqm")) < kTolerance);
    CHECK(std::abs(percentile(x, 2.5) - field(samples[i], "p2_5")) < kTolerance);
    CHECK(std::abs(percentile(x, 97.5) - field(samples[i], "p97_5")) < kTolerance);
  }
  const auto& tables = reference.find("tables")->items();
  REQUIRE(tables.size() == kTables.size());
  for (size_t i = 0; i < kTables.size(); ++i) {
    CAPTURE(i);
    CHECK(std::abs(aggregate_mean(kTables[i]) - field(tables[i], "mean")) < kTolerance);
    CHECK(std::abs(aggregate_median(kTables[i]) - field(tables[i], "median")) < kTolerance);
    CHECK(std::abs(aggregate_iqm(kTables[i]) - field(tables[i], "iqm")) < kTolerance);
    CHECK(std::abs(optimality_gap(kTables[i], kGapThreshold) - field(tables[i], "optimality_gap")) <
          kTolerance);
  }
  CHECK(std::abs(probability_of_improvement(kImprovementX, kImprovementY) -
                 field(reference, "probability_of_improvement")) < kTolerance);
}

TEST_CASE("run statistics: small cases by hand") {
  // IQM cuts floor(n / 4) from each end: nothing for n < 4, one each for 4..7.
  CHECK(interquartile_mean(std::vector<double>{1, 2, 100}) == doctest::Approx(103.0 / 3));
  CHECK(interquartile_mean(std::vector<double>{100, 1, 2, 3}) == doctest::Approx(2.5));
  CHECK(median(std::vector<double>{4, 1, 3, 2}) == 2.5);
  CHECK(percentile(std::vector<double>{1, 2, 3, 4, 5}, 0) == 1);
  CHECK(percentile(std::vector<double>{1, 2, 3, 4, 5}, 100) == 5);
  CHECK(optimality_gap({{0.5, 1.5}}, 1.0) == doctest::Approx(0.25));
  CHECK(probability_of_improvement({{2, 3}}, {{1, 2}}) == doctest::Approx(0.875));
  CHECK(probability_of_improvement({{1}, {5}}, {{1}, {4}}) == doctest::Approx(0.75));
}

TEST_CASE("run statistics: empty samples, non-finite scores and bad settings are rejected") {
  CHECK_THROWS_AS(mean(std::vector<double>{}), std::invalid_argument);
  CHECK_THROWS_AS(interquartile_mean(std::vector<double>{1, NAN}), std::invalid_argument);
  CHECK_THROWS_AS(aggregate_iqm({}), std::invalid_argument);
  CHECK_THROWS_AS(aggregate_mean({{1}, {}}), std::invalid_argument);
  CHECK_THROWS_AS(percentile(std::vector<double>{1}, 101), std::invalid_argument);
  CHECK_THROWS_AS(probability_of_improvement({{1}}, {{1}, {2}}), std::invalid_argument);
  CHECK_THROWS_AS(stratified_bootstrap_interval({{1, 2}}, aggregate_mean, {.resamples = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(stratified_bootstrap_interval({{1, 2}}, aggregate_mean, {.confidence = 1.0}),
                  std::invalid_argument);
}

TEST_CASE("run statistics: the percentile interval takes the tails of the replicates") {
  std::vector<double> replicates;
  for (int i = 0; i <= 1000; ++i) replicates.push_back(1000 - i);  // 0..1000, reversed.
  const Interval interval = percentile_interval(replicates, 0.95);
  CHECK(interval.low == doctest::Approx(25));
  CHECK(interval.high == doctest::Approx(975));
  const Interval wide = percentile_interval(replicates, 0.5);
  CHECK(wide.low == doctest::Approx(250));
  CHECK(wide.high == doctest::Approx(750));
}

TEST_CASE("run statistics: stratified bootstrap intervals hold the estimate and narrow with runs") {
  const ScoresByTask five = {generated_sample(5, 11)};
  for (const Aggregate& aggregate : {Aggregate(aggregate_mean), Aggregate(aggregate_iqm)}) {
    const Interval ci = stratified_bootstrap_interval(five, aggregate);
    CHECK(ci.low <= aggregate(five));
    CHECK(aggregate(five) <= ci.high);
    CHECK(ci.low < ci.high);
    // Within the range of the scores, and reproducible with the same seed.
    CHECK(ci.low >= *std::min_element(five[0].begin(), five[0].end()));
    CHECK(ci.high <= *std::max_element(five[0].begin(), five[0].end()));
    const Interval again = stratified_bootstrap_interval(five, aggregate);
    CHECK(again.low == ci.low);
    CHECK(again.high == ci.high);
  }
  // More runs from the same distribution: a narrower interval. (Another bootstrap seed draws
  // other replicates: with 200 runs the tails differ.)
  const ScoresByTask many = {generated_sample(200, 11)};
  const Interval narrow = stratified_bootstrap_interval(many, aggregate_mean);
  const Interval other_seed = stratified_bootstrap_interval(many, aggregate_mean, {.seed = 9});
  CHECK((other_seed.low != narrow.low || other_seed.high != narrow.high));
  const Interval wide = stratified_bootstrap_interval(five, aggregate_mean);
  CHECK(narrow.high - narrow.low < (wide.high - wide.low) / 3);
  // Constant scores, or one run: the interval is that value.
  const Interval constant = stratified_bootstrap_interval({{7, 7, 7, 7}}, aggregate_iqm);
  CHECK(constant.low == 7);
  CHECK(constant.high == 7);
  const Interval single = stratified_bootstrap_interval({{3.25}}, aggregate_mean);
  CHECK(single.low == 3.25);
  CHECK(single.high == 3.25);
}

TEST_CASE("run statistics: the bootstrap resamples within each task, never across") {
  // Task 0 is constant, so each replicate's task-0 mean is exactly 10 only if its runs are
  // drawn from task 0 alone; task 1 varies. The statistic records the task-0 mean.
  const ScoresByTask tasks = {{10, 10, 10}, {0, 100, 50, 25}};
  const Interval task0 = stratified_bootstrap_interval(
      tasks, [](const ScoresByTask& s) { return mean(s[0]) + (s[1].size() == 4 ? 0 : 1e6); });
  CHECK(task0.low == 10);
  CHECK(task0.high == 10);
  const Interval both = stratified_bootstrap_interval(tasks, aggregate_mean);
  CHECK(both.low < aggregate_mean(tasks));
  CHECK(both.high > aggregate_mean(tasks));
  CHECK(both.low >= (10 + 0) / 2.0);
  CHECK(both.high <= (10 + 100) / 2.0);
}

}  // namespace
}  // namespace rl::stats

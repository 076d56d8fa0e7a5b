#include "core/run_target.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace rl {
namespace {

// The target of a document's root, read as rltrain and rlreport read it.
std::optional<RunTarget> target_of(const std::string& yaml) {
  ConfigDocument document = ConfigDocument::parse(yaml, "t.yaml");
  ConfigSection root = document.root();
  return read_run_target(root);
}

// The message of the ConfigError reading `yaml`'s target throws ("" when none).
std::string error_of(const std::string& yaml) {
  try {
    target_of(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("a target section is read with its defaults; none is no target") {
  const auto target =
      target_of("name: x\ntarget: {metric: eval_success, threshold: 0.9, within_steps: 6e4}\n");
  REQUIRE(target);
  CHECK(target->metric == "eval_success");
  CHECK(target->threshold == 0.9);
  CHECK(target->within_steps == 60000);
  CHECK(target->seeds == 5);
  CHECK(target->of_seeds == 4);
  CHECK(describe_target(*target) == "eval_success >= 0.9 within 60000 steps on 4 of 5 seeds");
  CHECK_FALSE(target_of("name: x\n"));

  const auto negative = target_of(
      "target: {metric: eval_mean, threshold: -200, within_steps: 20000, seeds: 3, of_seeds: 3}");
  REQUIRE(negative);
  CHECK(negative->threshold == -200);
  CHECK(negative->seeds == 3);
}

TEST_CASE("a bad target is an error naming the file, line and key") {
  const std::string missing = error_of("target:\n  metric: eval_mean\n  within_steps: 10\n");
  CHECK(contains(missing, "t.yaml:"));
  CHECK(contains(missing, "target.threshold"));
  CHECK(contains(missing, "required"));
  CHECK(contains(error_of("target: {metric: eval_mean, threshold: ~, within_steps: 10}"),
                 "target.threshold"));
  CHECK(contains(error_of("target: {metric: return, threshold: 1, within_steps: 10}"),
                 "target.metric"));
  CHECK(contains(error_of("target: {metric: eval_mean, threshold: 1}"), "target.within_steps"));
  CHECK(contains(error_of("target: {metric: eval_mean, threshold: x, within_steps: 10}"),
                 "expected a number"));
  const std::string too_many = error_of(
      "target: {metric: eval_mean, threshold: 1, within_steps: 10, seeds: 3, of_seeds: 4}");
  CHECK(contains(too_many, "target.of_seeds"));
  CHECK(contains(too_many, "at most seeds (3)"));
  CHECK(contains(error_of("target: {metric: eval_success, threshold: 90, within_steps: 10}"),
                 "[0, 1]"));
  const std::string unknown =
      error_of("target: {metric: eval_mean, threshold: 1, within_steps: 10, steps: 5}");
  CHECK(contains(unknown, "t.yaml:1:"));
  CHECK(contains(unknown, "unknown key 'target.steps'"));
  CHECK(contains(error_of("target: 475"), "expected a mapping"));
}

TEST_CASE("a seed is judged by its last evaluation within the budget") {
  const RunTarget target{"eval_mean", 475, 50000, 5, 4};
  const std::vector<EvaluationPoint> late = {
      {10000, 100}, {40000, 480}, {50000, 470}, {60000, 500}};
  SeedVerdict verdict = judge_seed(target, late);
  REQUIRE(verdict.judged);
  CHECK(verdict.judged->step == 50000);  // Not 60000: past the budget.
  CHECK_FALSE(verdict.met);              // 470 at the budget, whatever came before.

  const std::vector<EvaluationPoint> solved = {{10000, 100}, {32000, 475}};
  verdict = judge_seed(target, solved);
  CHECK(verdict.met);  // A run that stopped when solved keeps its last evaluation.
  CHECK(verdict.judged->value == 475);

  const std::vector<EvaluationPoint> too_late = {{60000, 500}};
  verdict = judge_seed(target, too_late);
  CHECK_FALSE(verdict.judged);
  CHECK_FALSE(verdict.met);
}

TEST_CASE("a config meets its target when of_seeds seeds do") {
  const RunTarget target{"eval_mean", 1, 10, 5, 4};
  const SeedVerdict met{EvaluationPoint{10, 1}, true}, failed{EvaluationPoint{10, 0}, false};
  std::vector<SeedVerdict> seeds = {met, met, met, failed, met};
  TargetVerdict verdict = judge_target(target, seeds);
  CHECK(verdict.met);
  CHECK(verdict.complete);
  CHECK(verdict.seeds_met == 4);
  seeds[0] = failed;
  CHECK_FALSE(judge_target(target, seeds).met);
  seeds = {met, met, met};
  verdict = judge_target(target, seeds);
  CHECK_FALSE(verdict.met);
  CHECK_FALSE(verdict.complete);
  CHECK(verdict.seeds_judged == 3);
}

}  // namespace
}  // namespace rl

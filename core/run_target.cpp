#include "core/run_target.h"

#include <cstdio>
#include <limits>

namespace rl {

namespace {

// Fails unless `key` has a value. The key is recorded as known without a default first (the
// reader's getters with a default would record theirs), so the schema lists it as required.
void require(ConfigSection& section, const std::string& key, const std::string& doc,
             const std::string& expected) {
  const YAML::Node node = section.raw(key, doc);
  if (!node || node.IsNull()) section.fail(key, "is required (" + expected + "): " + doc);
}

}  // namespace

std::optional<RunTarget> read_run_target(ConfigSection& root) {
  if (!root.has("target")) return std::nullopt;
  ConfigSection section = root.section(
      "target", "What the config claims: metric >= threshold within_steps on of_seeds of seeds");
  RunTarget target;
  target.metric = section.get_required_choice(
      "metric", "Metric judged: the final evaluation's mean return or success rate",
      {"eval_mean", "eval_success"});
  const std::string threshold_doc = "The metric must reach at least this value";
  require(section, "threshold", threshold_doc, "a number");
  const double infinity = std::numeric_limits<double>::infinity();
  target.threshold = section.get_float("threshold", 0, threshold_doc, -infinity, infinity);
  const std::string steps_doc =
      "Env steps by which it is reached (the last evaluation at or before counts)";
  require(section, "within_steps", steps_doc, "an integer >= 1");
  target.within_steps = section.get_int("within_steps", 0, steps_doc, 1, INT64_MAX);
  target.seeds = section.get_int("seeds", target.seeds, "Seeds the claim is about", 1, 1000);
  target.of_seeds =
      section.get_int("of_seeds", target.of_seeds, "Seeds of those that must meet it", 1, 1000);
  if (target.of_seeds > target.seeds)
    section.fail("of_seeds", "must be at most seeds (" + std::to_string(target.seeds) + "), got " +
                                 std::to_string(target.of_seeds));
  if (target.metric == "eval_success" && !(target.threshold >= 0 && target.threshold <= 1))
    section.fail("threshold", "an eval_success threshold must be in [0, 1], got " +
                                  std::to_string(target.threshold));
  section.finish();
  return target;
}

SeedVerdict judge_seed(const RunTarget& target, std::span<const EvaluationPoint> evaluations) {
  SeedVerdict verdict;
  for (const EvaluationPoint& point : evaluations)
    if (point.step <= target.within_steps) verdict.judged = point;
  verdict.met = verdict.judged && verdict.judged->value >= target.threshold;
  return verdict;
}

TargetVerdict judge_target(const RunTarget& target, std::span<const SeedVerdict> seeds) {
  TargetVerdict verdict;
  for (const SeedVerdict& seed : seeds) {
    verdict.seeds_judged += 1;
    verdict.seeds_met += seed.met ? 1 : 0;
  }
  verdict.met = verdict.seeds_met >= target.of_seeds;
  verdict.complete = verdict.seeds_judged >= target.seeds;
  return verdict;
}

std::string describe_target(const RunTarget& target) {
  char threshold[32];
  std::snprintf(threshold, sizeof threshold, "%g", target.threshold);
  return target.metric + " >= " + threshold + " within " + std::to_string(target.within_steps) +
         " steps on " + std::to_string(target.of_seeds) + " of " + std::to_string(target.seeds) +
         " seeds";
}

}  // namespace rl

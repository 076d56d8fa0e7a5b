// agent.normalize_observations (PPO, A2C, SAC): the config reader turns it into the env's
// normalize_observation wrapper, so training, checkpoints, evaluation and export all see the
// one implementation: statistics learned from the acting envs only, saved and restored, frozen
// while evaluating.
#include "torch_doctest.h"
// (torch_doctest.h first: see there.)

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "agents/checkpoint.h"
#include "agents/trainer.h"
#include "core/wrappers.h"
#include "test_support.h"

namespace rl {
namespace {

std::filesystem::path source_dir() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "run through ctest, or set RLCADE_SOURCE_DIR");
  return dir;
}

ConfigDocument shipped_config(const std::string& name, const std::vector<std::string>& overrides) {
  return load_config((source_dir() / "configs" / (name + ".yaml")).string(), overrides);
}

std::string config_error(const std::string& name, const std::vector<std::string>& overrides) {
  try {
    build_experiment(shipped_config(name, overrides));
  } catch (const ConfigError& error) {
    return error.what();
  }
  FAIL("expected a ConfigError");
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// PPO on Pendulum, two rollouts of 4 envs x 64 steps, one evaluation episode at the end.
const std::vector<std::string> kSmallPpo = {"agent.normalize_observations=true",
                                            "agent.num_steps=64",
                                            "agent.num_minibatches=4",
                                            "train.total_steps=512",
                                            "train.eval_every=512",
                                            "train.eval_episodes=1",
                                            "train.checkpoint_every=512",
                                            "train.log_every=256"};

TEST_CASE("normalize_observations adds the normalize_observation wrapper outermost") {
  for (const std::string config : {"ppo_pendulum", "a2c_cartpole", "sac_pendulum"}) {
    CAPTURE(config);
    Experiment experiment = build_experiment(
        shipped_config(config, {"agent.normalize_observations=true", "agent.observation_clip=5",
                                "env.wrappers=[{name: reward_scale, params: {scale: 0.5}}]"}));
    const std::vector<WrapperConfig>& wrappers = experiment.run().env.wrappers;
    REQUIRE(wrappers.size() == 2);
    CHECK(wrappers[0].name == "reward_scale");
    CHECK(wrappers[1].name == "normalize_observation");
    CHECK(std::get<double>(wrappers[1].params.at("clip")) == 5.0);
    CHECK(std::get<double>(wrappers[1].params.at("epsilon")) == 1e-8);
    CHECK(experiment.env_spec.observation_space.dtype == DType::kF32);
    std::unique_ptr<Env> env = experiment.make_env();
    CHECK(dynamic_cast<NormalizeObservation*>(env.get()) != nullptr);  // the outermost wrapper
    REQUIRE(experiment.wrapper_context.observation_stats != nullptr);
    // The resolved config keeps the setting (not the wrapper), so it reads back the same.
    CHECK(contains(experiment.resolved_yaml, "normalize_observations: true"));
    Experiment again =
        build_experiment(ConfigDocument::parse(experiment.resolved_yaml, "resolved"));
    REQUIRE(again.run().env.wrappers.size() == 2);
    CHECK(again.run().env.wrappers[1].name == "normalize_observation");
  }
  // Off by default: no wrapper.
  CHECK(build_experiment(shipped_config("ppo_pendulum", {})).run().env.wrappers.empty());
}

TEST_CASE("normalize_observations refuses a config that also has the wrapper, and DQN") {
  const std::string both = config_error(
      "ppo_pendulum",
      {"agent.normalize_observations=true", "env.wrappers=[{name: normalize_observation}]"});
  CHECK(contains(both, "agent.normalize_observations"));
  CHECK(contains(both, "env.wrappers[0] normalizes observations already"));
  // Asking one way is fine, either way.
  CHECK_NOTHROW(build_experiment(
      shipped_config("ppo_pendulum", {"env.wrappers=[{name: normalize_observation}]"})));
  CHECK_NOTHROW(build_experiment(shipped_config(
      "ppo_pendulum",
      {"agent.normalize_observations=false", "env.wrappers=[{name: normalize_observation}]"})));
  // Only the agents that take it know the key.
  CHECK(contains(config_error("dqn_cartpole", {"agent.normalize_observations=true"}),
                 "normalize_observations"));
  CHECK(contains(config_error("ppo_pendulum", {"agent.observation_clip=0"}), "observation_clip"));
}

TEST_CASE("normalize_observations: statistics from the acting envs, kept by checkpoints") {
  test::TempDir dir("normalize_observations");
  Experiment experiment = build_experiment(shipped_config("ppo_pendulum", kSmallPpo));
  TrainOptions options;
  options.run_dir = dir.file("run");
  const TrainSummary summary = train(experiment, options);
  CHECK(summary.total_steps == 512);
  CHECK(std::isfinite(summary.final_eval_mean));
  const RunningStats trained = experiment.wrapper_context.observation_stats->snapshot();
  // Pendulum episodes last 200 steps: the 4 training envs each saw one reset and 128 steps, so
  // every observation the statistics took came from them (the 200-step evaluation episode
  // would have added 201 more had it updated them).
  CHECK(trained.count() == 4 + 512);
  CHECK(trained.dim() == 3);

  // A checkpoint restores the statistics exactly, and evaluation reads them frozen.
  Experiment loaded = load_experiment_from_checkpoint(dir.file("run/checkpoints/latest.pt"));
  REQUIRE(loaded.wrapper_context.observation_stats != nullptr);
  CHECK(loaded.wrapper_context.observation_stats->snapshot() == trained);
  const EvalResult original = evaluate(experiment, 2, 77, 1000);
  const EvalResult restored = evaluate(loaded, 2, 77, 1000);
  CHECK(original.returns == restored.returns);
  CHECK(experiment.wrapper_context.observation_stats->snapshot() == trained);
  CHECK(loaded.wrapper_context.observation_stats->snapshot() == trained);
}

TEST_CASE("normalize_observations: evaluation depends on the statistics it reads") {
  // The check above could pass if evaluation ignored the statistics; it does not: other
  // statistics give other returns.
  test::TempDir dir("normalize_observations_eval");
  Experiment experiment = build_experiment(shipped_config("ppo_pendulum", kSmallPpo));
  TrainOptions options;
  options.run_dir = dir.file("run");
  train(experiment, options);
  const EvalResult trained = evaluate(experiment, 2, 77, 1000);
  RunningStats shifted(3);
  for (int i = 0; i < 10; ++i) shifted.add(std::vector<float>{0.9f, -0.4f, 5.0f + i});
  experiment.wrapper_context.observation_stats->restore(shifted);
  CHECK(evaluate(experiment, 2, 77, 1000).returns != trained.returns);
}

}  // namespace
}  // namespace rl

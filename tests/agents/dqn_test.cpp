#include <cmath>
#include <string>

#include "agents/dqn/dqn_agent.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::chain_config;
using test::experiment_from;

std::string config_error(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    experiment_from(yaml, sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST_CASE("dqn: settings are strict about keys, types and ranges") {
  const std::string yaml = chain_config();
  std::string m = config_error(replaced(yaml, "  lr: 1e-3\n", "  learning_rate: 1e-3\n"));
  CHECK(contains(m, "test.yaml:9:3"));
  CHECK(contains(m, "unknown key 'agent.learning_rate'"));
  CHECK(contains(m, "valid keys of 'agent': adam_eps, backend, batch_size"));
  CHECK(contains(config_error(yaml, {"agent.loss=l1"}), "valid choices: huber, mse"));
  CHECK(contains(config_error(yaml, {"agent.gamma=1.5"}), "agent.gamma: must be in [0, 1]"));
  CHECK(contains(config_error(replaced(yaml, "[32]", "32")), "expected a list of integers"));
  CHECK(contains(config_error(yaml, {"agent.torso=cnn"}), "needs [channels, height, width]"));
  m = config_error(yaml, {"agent.rmsprop_momentum=0.9"});  // The chain config uses Adam.
  CHECK(contains(m, "agent.rmsprop_momentum: momentum applies to optimizer: rmsprop only"));
  CHECK(contains(config_error(yaml, {"agent.optimizer=rmsprop", "agent.rmsprop_momentum=1"}),
                 "agent.rmsprop_momentum: must be in [0, "));
  CHECK(contains(config_error(yaml, {"agent.epsilon_decay_start=later"}),
                 "valid choices: first_step, learning_starts"));
  CHECK(config_error(yaml, {"agent.optimizer=rmsprop", "agent.rmsprop_momentum=0.95"}).empty());
}

TEST_CASE("dqn: the run layout rejects unknown envs, agents and env parameters") {
  const std::string yaml = chain_config();
  std::string m = config_error(replaced(yaml, "test/chain-v0", "nope/x-v1"));
  CHECK(contains(m, "test.yaml:4:7: env.id: unknown value 'nope/x-v1'; nearest: "));
  CHECK(contains(m, "`rltrain --list` shows all"));  // the nearest ids, not all of them
  m = config_error(replaced(yaml, "type: dqn", "type: dqm"));
  CHECK(contains(m, "agent.type: unknown value 'dqm'; valid choices: "));
  CHECK(contains(m, "dqn"));
  m = config_error(yaml, {"env.params.width=2"});
  CHECK(contains(m, "unknown key 'env.params.width'"));
  CHECK(contains(m, "image, length"));
  CHECK(contains(config_error(yaml, {"env.params.length=1"}),
                 "env.params.length: must be in [3, 63]"));
  CHECK(contains(config_error(yaml, {"train.total_step=5"}), "unknown key 'train.total_step'"));
  CHECK(contains(config_error(yaml, {"env.wrappers=[{name: nope}]"}),
                 "env.wrappers[0].name: unknown value 'nope'"));
}

TEST_CASE("dqn: epsilon decays linearly over steps or a fraction of the budget") {
  Experiment steps = experiment_from(chain_config(), {"agent.epsilon_end=0.1"});
  auto& dqn = dynamic_cast<DqnAgent&>(*steps.agent);
  CHECK(dqn.epsilon(0) == doctest::Approx(1.0));
  CHECK(dqn.epsilon(500) == doctest::Approx(0.55));
  CHECK(dqn.epsilon(1000) == doctest::Approx(0.1));
  CHECK(dqn.epsilon(5000) == doctest::Approx(0.1));
  Experiment fraction = experiment_from(
      chain_config(4000),
      {"agent.exploration_steps=0", "agent.exploration_fraction=0.5", "agent.epsilon_end=0"});
  auto& by_fraction = dynamic_cast<DqnAgent&>(*fraction.agent);
  CHECK(by_fraction.epsilon(1000) == doctest::Approx(0.5));
  CHECK(by_fraction.epsilon(2000) == doctest::Approx(0.0));
  // MinAtar's schedule: epsilon_start until learning_starts, then the decay (200 -> 1200 here).
  Experiment late = experiment_from(
      chain_config(), {"agent.epsilon_decay_start=learning_starts", "agent.epsilon_end=0.1"});
  auto& from_learning = dynamic_cast<DqnAgent&>(*late.agent);
  CHECK(from_learning.epsilon(0) == doctest::Approx(1.0));
  CHECK(from_learning.epsilon(199) == doctest::Approx(1.0));
  CHECK(from_learning.epsilon(200) == doctest::Approx(1.0));
  CHECK(from_learning.epsilon(700) == doctest::Approx(0.55));
  CHECK(from_learning.epsilon(1200) == doctest::Approx(0.1));
  CHECK(from_learning.epsilon(1000) > dqn.epsilon(1000));
}

TEST_CASE("dqn: acting returns valid actions, greedy acting is deterministic") {
  Experiment e = experiment_from(chain_config());
  const size_t bytes = e.env_spec.observation_space.bytes();
  std::vector<uint8_t> observations(bytes * 3, 0);
  for (int i = 0; i < 3; ++i) as_f32(std::span<uint8_t>(observations).subspan(i * bytes))[i] = 1.f;
  std::vector<int64_t> first(3), second(3);
  e.agent->act(observations, 3, ActMode::kGreedy, {first, {}});
  e.agent->act(observations, 3, ActMode::kGreedy, {second, {}});
  CHECK(first == second);
  const auto values = e.agent->action_values(std::span<const uint8_t>(observations).first(bytes));
  CHECK(values.kind == "q");
  REQUIRE(values.values.size() == 2);
  CHECK(first[0] == (values.values[1] > values.values[0] ? 1 : 0));
  std::vector<int64_t> explore(3);
  int ones = 0;
  for (int k = 0; k < 200; ++k) {  // epsilon is 1 at step 0: uniform random actions.
    e.agent->act(observations, 3, ActMode::kExplore, {explore, {}});
    for (int64_t a : explore) {
      CHECK((a == 0 || a == 1));
      ones += static_cast<int>(a);
    }
  }
  CHECK(ones > 200);
  CHECK(ones < 400);
}

// Trains on the chain and checks that greedy evaluation walks straight to the goal.
void check_learns(const std::vector<std::string>& sets) {
  CAPTURE(sets.size());
  test::TempDir dir("dqn_learn");
  Experiment e = experiment_from(chain_config(3000), sets);
  const double optimal = *e.env_spec.reward_threshold;
  const EvalResult before = evaluate(e, 8, 99, 28);
  CHECK(before.mean < optimal);  // Not solved by chance at initialisation.
  TrainOptions options;
  options.run_dir = dir.str();
  const TrainSummary summary = train(e, options);
  CHECK(summary.total_steps == 3000);
  CHECK(summary.final_eval_mean >= optimal);
  CHECK(summary.solved_at_step > 0);
}

TEST_CASE("dqn: learns the chain with the default extensions (fixed seed, seconds)") {
  check_learns({});
}

TEST_CASE("dqn: learns with dueling, n-step, prioritized replay, RMSprop, Polyak and MSE") {
  check_learns({"agent.dueling=true", "agent.n_step=3", "agent.prioritized=true",
                "agent.optimizer=rmsprop", "agent.lr=5e-4", "agent.rmsprop_eps=1e-5",
                "agent.tau=0.5", "agent.target_update_period=20", "agent.loss=mse",
                "agent.double_dqn=false", "agent.gradient_steps=2", "agent.train_frequency=2"});
}

TEST_CASE("dqn: learns with MinAtar's optimizer and schedule (RMSprop momentum 0.95)") {
  check_learns({"agent.optimizer=rmsprop", "agent.rmsprop_momentum=0.95", "agent.lr=1e-4",
                "agent.rmsprop_eps=1e-3", "agent.epsilon_decay_start=learning_starts"});
}

TEST_CASE("dqn: learns from u8 images with the CNN torso") {
  Experiment e = experiment_from(chain_config(), {"env.params.image=true"});
  CHECK(e.agent->describe().find("cnn 1x3x7") != std::string::npos);
  check_learns({"env.params.image=true", "agent.cnn_channels=4", "agent.cnn_hidden=32"});
}

// Greedy Q-values of every chain image observation after training with `sets`.
std::vector<float> trained_q_values(const std::vector<std::string>& sets) {
  test::TempDir dir("dqn_learner_threads");
  Experiment e = experiment_from(chain_config(1500), sets);
  TrainOptions options;
  options.run_dir = dir.str();
  train(e, options);
  auto& agent = dynamic_cast<DqnAgent&>(*e.agent);
  const size_t bytes = e.env_spec.observation_space.bytes();
  std::vector<uint8_t> observations(bytes * 7, 0);
  for (int i = 0; i < 7; ++i) observations[i * bytes + i] = 1;  // Row 0 of each image.
  return agent.q_values(observations, 7);
}

TEST_CASE("dqn: learner_threads 2 trains exactly as 1 (CNN on u8 images)") {
  const std::vector<std::string> image = {"env.params.image=true", "agent.cnn_channels=4",
                                          "agent.cnn_hidden=32", "agent.prioritized=true",
                                          "agent.train_frequency=1"};
  std::vector<std::string> two_threads = image;
  two_threads.push_back("agent.learner_threads=2");
  const std::vector<float> one = trained_q_values(image);
  const std::vector<float> two = trained_q_values(two_threads);
  CHECK(one == two);  // Bit for bit: the same arithmetic, split over two threads.
  std::vector<std::string> plain_dqn = two_threads;  // The chain config uses double DQN.
  plain_dqn.push_back("agent.double_dqn=false");
  CHECK(trained_q_values(plain_dqn) != two);  // The comparison above can fail.
}

TEST_CASE("dqn: learner_threads 2 trains exactly as 1 (MLP on the engine)") {
  const std::vector<std::string> mlp = {"env.params.image=true", "agent.torso=mlp",
                                        "agent.train_frequency=1"};
  std::vector<std::string> two_threads = mlp;
  two_threads.push_back("agent.learner_threads=2");
  CHECK(trained_q_values(mlp) == trained_q_values(two_threads));
}

TEST_CASE("dqn: the engine and LibTorch backends learn the same Q-values to rounding") {
  const std::vector<std::string> mlp = {"env.params.image=true", "agent.torso=mlp"};
  std::vector<std::string> torch_backend = mlp;
  torch_backend.push_back("agent.backend=torch");
  const std::vector<float> engine = trained_q_values(mlp);
  const std::vector<float> reference = trained_q_values(torch_backend);
  REQUIRE(engine.size() == reference.size());
  for (size_t i = 0; i < engine.size(); ++i) {
    CAPTURE(i);
    CHECK(engine[i] == doctest::Approx(reference[i]).epsilon(1e-3));
  }
}

TEST_CASE("dqn: learner_threads 2 needs the engine backend") {
  CHECK(contains(config_error(chain_config(), {"agent.learner_threads=2", "agent.backend=torch"}),
                 "learner_threads: 2 needs the engine backend"));
  CHECK(config_error(chain_config(), {"agent.learner_threads=2"}).empty());
  CHECK(contains(config_error(chain_config(), {"agent.learner_threads=3"}), "learner_threads"));
}

}  // namespace
}  // namespace rl

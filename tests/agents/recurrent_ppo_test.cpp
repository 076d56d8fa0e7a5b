// Recurrent PPO and A2C (agent.recurrent): learning a memory task that feed-forward PPO cannot,
// the sequence re-run reproducing the acting log-probabilities, checkpoints, masks, and the
// memory API of Agent (RecurrentState).
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "actor_critic_util.h"
#include "agents/checkpoint.h"
#include "agents/ppo/ppo_agent.h"
#include "agents/trainer.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

using test::ac_config;
using test::experiment_from;
using test::train_in_temp_dir;

// PPO on test/recall-v0 (tests/agents/recurrent_probe_env.cpp); `recurrent` is the flow map of
// agent.recurrent, or empty for the feed-forward control.
std::string recall_config(const std::string& recurrent, int64_t total_steps,
                          const std::string& extra = "") {
  std::string agent =
      "  type: ppo\n"
      "  hidden: [32]\n"
      "  num_steps: 16\n"
      "  update_epochs: 4\n"
      "  num_minibatches: 2\n"
      "  lr: 3e-3\n"
      "  anneal_lr: false\n"
      "  gamma: 0.9\n"
      "  ent_coef: 0.01\n" +
      extra;
  if (!recurrent.empty()) agent += "  recurrent: " + recurrent + "\n";
  return ac_config("test/recall-v0", agent, total_steps, 8, 64);
}

PpoAgent& ppo(Experiment& e) { return dynamic_cast<PpoAgent&>(*e.agent); }

TEST_CASE("recurrent ppo: an LSTM learns to recall the cue; feed-forward PPO stays at chance") {
  Experiment lstm = experiment_from(recall_config("{type: lstm, hidden: 16}", 12000));
  CHECK(lstm.agent->recurrent());
  CHECK(lstm.agent->recurrent_state_size() == 32);  // h and c
  const TrainSummary remembered = train_in_temp_dir(lstm, "recurrent_recall");
  CHECK(remembered.final_eval_mean >= 0.95);

  Experiment feed_forward = experiment_from(recall_config("", 12000));
  CHECK(!feed_forward.agent->recurrent());
  const TrainSummary forgot = train_in_temp_dir(feed_forward, "recurrent_recall_ff");
  CHECK(forgot.final_eval_mean <= 0.75);
}

TEST_CASE("recurrent ppo: a GRU learns to recall the cue too") {
  Experiment gru = experiment_from(recall_config("{type: gru, hidden: 16}", 12000));
  CHECK(gru.agent->recurrent_state_size() == 16);
  CHECK(train_in_temp_dir(gru, "recurrent_recall_gru").final_eval_mean >= 0.95);
}

TEST_CASE(
    "recurrent ppo: re-running the stored sequences reproduces the acting log-probs and values") {
  // Two updates over rollouts of 16 steps with episodes of 3 steps ending inside them, in one
  // minibatch: the second's first ratios and values compare the re-run with what acting
  // computed, from the memory stored in the middle of an episode (the first rollout starts at
  // zero everywhere).
  for (const std::string& recurrent :
       {std::string("{type: lstm, hidden: 16}"), std::string("{type: gru, hidden: 8, layers: 2}"),
        std::string("{type: lstm, hidden: 16, sequence_length: 4}"),
        std::string("{type: lstm, hidden: 16, critic: true}"),
        std::string("{type: lstm, hidden: 16, head_hidden: [8]}"),
        std::string("{type: gru, hidden: 8, critic: true, head_hidden: [8, 4], "
                    "head_activation: relu}")}) {
    INFO(recurrent);
    Experiment e = experiment_from(recall_config(recurrent, 2 * 16 * 8),
                                   {"agent.num_minibatches=1", "agent.update_epochs=2"});
    train_in_temp_dir(e, "recurrent_ratio");
    REQUIRE(ppo(e).updates_done() == 2);
    CHECK(ppo(e).last_update().first_ratio_max_deviation == 0.0);
    // Values agree to rounding: the value head's product runs over another batch size.
    CHECK(ppo(e).last_update().first_value_max_deviation < 1e-6);
  }
}

TEST_CASE("recurrent ppo: settings are checked") {
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: lstm, sequence_length: 5}", 1000)),
                    doctest::Contains("recurrent.sequence_length (5) must divide num_steps (16)"));
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: lstm, sequence_length: 8}", 1000),
                                    {"agent.num_minibatches=17"}),
                    doctest::Contains("exceeds the recurrent rollout's sequences"));
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: lstn}", 1000)),
                    doctest::Contains("agent.recurrent.type"));
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: lstm, size: 3}", 1000)),
                    doctest::Contains("size"));
  CHECK_THROWS_WITH(
      experiment_from(recall_config("{type: lstm, head_hidden: [8], head_activation: elu}", 1000)),
      doctest::Contains("agent.recurrent.head_activation"));
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: lstm, head_hidden: [8, 0]}", 1000)),
                    doctest::Contains("agent.recurrent.head_hidden"));
  CHECK_THROWS_WITH(experiment_from(recall_config("{type: gru, forget_bias: 1}", 1000)),
                    doctest::Contains("agent.recurrent.forget_bias"));
  // type none is the feed-forward network.
  CHECK(!experiment_from(recall_config("{type: none}", 1000)).agent->recurrent());
}

TEST_CASE("recurrent ppo: forget_bias starts the LSTM's forget gates at the given bias") {
  Experiment e =
      experiment_from(recall_config("{type: lstm, hidden: 4, layers: 2, forget_bias: 1}", 1000));
  const auto parameters = ppo(e).network()->named_parameters();
  for (const std::string layer : {"0", "1"}) {
    const torch::Tensor input_bias = parameters["recurrent.lstm.bias_ih_l" + layer];
    // Gates i, f, g, o of 4 units each: only f (units 4-7) starts at 1.
    CHECK(torch::equal(input_bias.narrow(0, 4, 4), torch::ones({4})));
    CHECK(torch::equal(input_bias.narrow(0, 0, 4), torch::zeros({4})));
    CHECK(torch::equal(input_bias.narrow(0, 8, 8), torch::zeros({8})));
    CHECK(torch::equal(parameters["recurrent.lstm.bias_hh_l" + layer], torch::zeros({16})));
  }
  // The default keeps every bias at zero, as before the option existed.
  Experiment plain = experiment_from(recall_config("{type: lstm, hidden: 4}", 1000));
  CHECK(torch::equal(ppo(plain).network()->named_parameters()["recurrent.lstm.bias_ih_l0"],
                     torch::zeros({16})));
}

// Greedy actions and probabilities of `agent` over one recall episode per cue, from a fresh
// memory: what a checkpoint must reproduce.
std::vector<float> greedy_trace(Agent& agent) {
  std::vector<float> trace;
  for (const float cue : {-1.f, 1.f}) {
    RecurrentState memory = agent.initial_state(1);
    for (int step = 0; step < 3; ++step) {
      const float observation[2] = {step == 0 ? cue : 0.f, step == 2 ? 1.f : 0.f};
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(observation),
                                           sizeof observation);
      const ActionValues values = agent.action_values_with_state(bytes, memory);
      trace.insert(trace.end(), values.values.begin(), values.values.end());
      int64_t action = -1;
      ActionBatch batch{{&action, 1}, {}};
      batch.recurrent_state = &memory;
      agent.act(bytes, 1, ActMode::kGreedy, batch);
      trace.push_back(static_cast<float>(action));
    }
  }
  return trace;
}

TEST_CASE("recurrent ppo: a checkpoint restores the recurrent weights") {
  namespace fs = std::filesystem;
  test::TempDir dir("recurrent_checkpoint");
  Experiment trained = experiment_from(recall_config("{type: lstm, hidden: 16}", 2048));
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  const fs::path path = dir.path / "checkpoints" / "final.pt";
  REQUIRE(fs::exists(path));
  Experiment fresh = experiment_from(recall_config("{type: lstm, hidden: 16}", 2048), {"seed=9"});
  CHECK(greedy_trace(*fresh.agent) != greedy_trace(*trained.agent));
  load_checkpoint(path.string(), fresh);
  CHECK(greedy_trace(*fresh.agent) == greedy_trace(*trained.agent));
  // A network of another size is refused, naming the mismatch.
  Experiment wider = experiment_from(recall_config("{type: lstm, hidden: 24}", 2048));
  CHECK_THROWS_WITH(load_checkpoint(path.string(), wider), doctest::Contains("lstm"));
  Experiment gru = experiment_from(recall_config("{type: gru, hidden: 16}", 2048));
  CHECK_THROWS(load_checkpoint(path.string(), gru));
}

// The parameters of `net` whose names start with `prefix`, by name.
std::vector<std::string> parameter_names(const ActorCritic& net, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& parameter : net->named_parameters()) {
    if (parameter.key().rfind(prefix, 0) == 0) names.push_back(parameter.key());
  }
  return names;
}

TEST_CASE(
    "recurrent ppo: head_hidden gives actor and critic layers of their own after the memory") {
  Experiment e = experiment_from(
      recall_config("{type: lstm, hidden: 16, head_hidden: [8, 4], head_activation: relu}", 1000));
  ActorCritic& net = ppo(e).network();
  CHECK(net->signature().find("lstm 16x1 -> relu 8x4 per head") != std::string::npos);
  CHECK(e.agent->recurrent_state_size() == 32);  // The memory is unchanged: h and c.
  const auto parameters = net->named_parameters();
  CHECK(parameters["recurrent.head_actor.0.weight"].sizes() == torch::IntArrayRef({8, 16}));
  CHECK(parameters["recurrent.head_actor.2.weight"].sizes() == torch::IntArrayRef({4, 8}));
  CHECK(parameters["recurrent.head_critic.2.weight"].sizes() == torch::IntArrayRef({4, 8}));
  CHECK(parameters["actor_head.weight"].sizes() == torch::IntArrayRef({3, 4}));
  CHECK(parameters["critic_head.weight"].sizes() == torch::IntArrayRef({1, 4}));

  // Each head reads its own layers: changing the critic's moves the value, not the policy.
  const torch::Tensor observations = torch::tensor({{1.f, 0.f}, {-1.f, 0.f}});
  const torch::Tensor state = torch::zeros({2, 32});
  torch::NoGradGuard no_grad;
  torch::Tensor next;
  const PolicyOutput before = net->forward_step(observations, state, next);
  parameters["recurrent.head_critic.0.bias"].add_(0.5);
  const PolicyOutput after_critic = net->forward_step(observations, state, next);
  CHECK(torch::equal(after_critic.actor, before.actor));
  CHECK(!torch::equal(after_critic.value, before.value));
  parameters["recurrent.head_actor.0.bias"].add_(0.5);
  const PolicyOutput after_actor = net->forward_step(observations, state, next);
  CHECK(!torch::equal(after_actor.actor, before.actor));
  CHECK(torch::equal(after_actor.value, after_critic.value));

  // Without head_hidden the heads read the memory, as before the option existed.
  Experiment plain = experiment_from(recall_config("{type: lstm, hidden: 16}", 1000));
  CHECK(parameter_names(ppo(plain).network(), "recurrent.head_").empty());
  CHECK(ppo(plain).network()->named_parameters()["actor_head.weight"].size(1) == 16);
}

TEST_CASE(
    "recurrent ppo: a checkpoint restores the layers per head, and refuses a network without") {
  test::TempDir dir("recurrent_head_checkpoint");
  const std::string recurrent = "{type: lstm, hidden: 16, head_hidden: [8]}";
  Experiment trained = experiment_from(recall_config(recurrent, 2048));
  TrainOptions options;
  options.run_dir = dir.str();
  train(trained, options);
  const std::string path = (dir.path / "checkpoints" / "final.pt").string();
  Experiment fresh = experiment_from(recall_config(recurrent, 2048), {"seed=9"});
  CHECK(greedy_trace(*fresh.agent) != greedy_trace(*trained.agent));
  load_checkpoint(path, fresh);
  CHECK(greedy_trace(*fresh.agent) == greedy_trace(*trained.agent));
  Experiment plain = experiment_from(recall_config("{type: lstm, hidden: 16}", 2048));
  CHECK_THROWS_WITH(load_checkpoint(path, plain), doctest::Contains("per head"));
}

TEST_CASE("recurrent ppo: with layers per head, an LSTM still learns to recall the cue") {
  Experiment e =
      experiment_from(recall_config("{type: lstm, hidden: 16, head_hidden: [16]}", 12000));
  CHECK(train_in_temp_dir(e, "recurrent_recall_heads").final_eval_mean >= 0.95);
}

TEST_CASE("recurrent ppo: greedy acting needs the caller's memory, of the right size") {
  Experiment e = experiment_from(recall_config("{type: lstm, hidden: 16}", 1000));
  const float observation[2] = {1.f, 0.f};
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(observation),
                                       sizeof observation);
  int64_t action = -1;
  CHECK_THROWS_WITH_AS(e.agent->act(bytes, 1, ActMode::kGreedy, {{&action, 1}, {}}),
                       doctest::Contains("recurrent_state"), std::invalid_argument);
  CHECK_THROWS_AS(e.agent->action_values(bytes), std::invalid_argument);
  RecurrentState two = e.agent->initial_state(2);
  ActionBatch batch{{&action, 1}, {}};
  batch.recurrent_state = &two;
  CHECK_THROWS_WITH_AS(e.agent->act(bytes, 1, ActMode::kGreedy, batch),
                       doctest::Contains("2 slots of 32 floats; expected 1 slots of 32"),
                       std::invalid_argument);
  // The memory changes with what was seen and reset() forgets it.
  RecurrentState memory = e.agent->initial_state(1);
  batch.recurrent_state = &memory;
  e.agent->act(bytes, 1, ActMode::kGreedy, batch);
  CHECK(memory.values != std::vector<float>(32, 0.f));
  memory.reset(0);
  CHECK(memory.values == std::vector<float>(32, 0.f));
  // Feed-forward agents have no memory and ignore one.
  Experiment ff = experiment_from(recall_config("", 1000));
  CHECK(ff.agent->initial_state(3).values.empty());
  ff.agent->act(bytes, 1, ActMode::kGreedy, {{&action, 1}, {}});
}

TEST_CASE("recurrent ppo: masked actions are never taken, in training or evaluation") {
  // test/recall-v0 throws on its illegal action 2; training and evaluation run through.
  Experiment e = experiment_from(recall_config("{type: lstm, hidden: 16}", 2048));
  const TrainSummary summary = train_in_temp_dir(e, "recurrent_masks");
  CHECK(summary.final_eval_mean >= 0.0);
  const EvalResult result = evaluate(e, 32, 77, 100);
  CHECK(result.returns.size() == 32);
}

TEST_CASE("recurrent a2c: learns to recall the cue") {
  const std::string agent =
      "  type: a2c\n"
      "  hidden: [32]\n"
      "  num_steps: 8\n"
      "  lr: 3e-3\n"
      "  optimizer: adam\n"
      "  gamma: 0.9\n"
      "  ent_coef: 0.01\n"
      "  recurrent: {type: lstm, hidden: 16}\n";
  Experiment e = experiment_from(ac_config("test/recall-v0", agent, 20000, 8, 64));
  CHECK(train_in_temp_dir(e, "recurrent_a2c").final_eval_mean >= 0.95);
}

}  // namespace
}  // namespace rl

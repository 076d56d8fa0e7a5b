// SAC's engine on two threads (agent.learner_threads: 2): the twin critics run one per thread
// and every result is bit-identical to one thread, from one TwinQ pass up to a whole training
// run's checkpoint.
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

#include "actor_critic_util.h"
#include "agents/common/nn/twin_q.h"
#include "agents/sac/sac_agent.h"
#include "agents/trainer.h"
#include "core/config.h"
#include "core/thread_pool.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

// Two critics of layers [5 + 2 -> 9 -> 6 -> 1] with their own random weights.
struct Critics {
  std::vector<torch::nn::Linear> first, second;
  Critics() {
    for (auto* layers : {&first, &second}) {
      *layers = {torch::nn::Linear(7, 9), torch::nn::Linear(9, 6), torch::nn::Linear(6, 1)};
    }
  }
};

// What one forward and backward pass of `twin` gives: Q1, Q2, d loss / d action and the
// critics' parameter gradients, all flattened.
std::vector<float> twin_pass(nn::TwinQ& twin, const Critics& critics,
                             const std::vector<float>& observations,
                             const std::vector<float>& actions, int batch) {
  const nn::TwinQ::Values q = twin.forward(observations.data(), actions.data(), batch);
  std::vector<float> out(q.q1, q.q1 + batch);
  out.insert(out.end(), q.q2, q.q2 + batch);
  std::vector<float> g1(q.q1, q.q1 + batch), g2(batch);
  for (int i = 0; i < batch; ++i) g2[i] = 0.5f - q.q2[i];
  const float* action_gradient = twin.backward(
      g1.data(), g2.data(), batch, {.parameter_gradients = true, .input_gradient = true});
  out.insert(out.end(), action_gradient, action_gradient + batch * 2);
  for (const auto* layers : {&critics.first, &critics.second}) {
    for (const torch::nn::Linear& layer : *layers) {
      for (const torch::Tensor& p : {layer->weight, layer->bias}) {
        const float* g = p.grad().data_ptr<float>();
        out.insert(out.end(), g, g + p.numel());
      }
    }
  }
  return out;
}

TEST_CASE("sac threads: a TwinQ on two threads computes exactly what it does on one") {
  torch::manual_seed(4);
  const Critics critics;
  const int batch = 13;
  const torch::Tensor obs = torch::randn({batch, 5}), actions = torch::rand({batch, 2}) * 2 - 1;
  const std::vector<float> o(obs.data_ptr<float>(), obs.data_ptr<float>() + obs.numel());
  const std::vector<float> a(actions.data_ptr<float>(),
                             actions.data_ptr<float>() + actions.numel());
  nn::TwinQ one(critics.first, critics.second, nn::Activation::kRelu, 5, 2);
  nn::TwinQ two(critics.first, critics.second, nn::Activation::kRelu, 5, 2);
  ThreadPool pool(2);
  two.run_on(&pool);
  const std::vector<float> expected = twin_pass(one, critics, o, a, batch);
  for (int round = 0; round < 3; ++round) CHECK(twin_pass(two, critics, o, a, batch) == expected);
  // The comparison can fail: other actions give other values.
  std::vector<float> shifted = a;
  shifted[0] = -shifted[0];
  CHECK(twin_pass(two, critics, o, shifted, batch) != expected);
}

// The checkpoint (every weight, optimizer moment, alpha and RNG state) after a short SAC run
// on test/target-v0 with `extra` agent lines.
std::string trained_checkpoint(const std::string& extra) {
  Experiment e = test::experiment_from(
      test::ac_config("test/target-v0", std::string(test::kSacTarget) + extra, 400, 1, 4));
  auto& agent = dynamic_cast<SacAgent&>(*e.agent);
  REQUIRE(agent.uses_engine());
  test::TempDir dir("sac_threads");
  TrainOptions options;
  options.run_dir = dir.str();
  train(e, options);
  torch::serialize::OutputArchive archive;
  agent.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

TEST_CASE("sac threads: learner_threads 2 trains exactly as 1") {
  const std::string one = trained_checkpoint("");
  CHECK(trained_checkpoint("  learner_threads: 2\n") == one);
  // The comparison can fail: another update schedule trains other weights.
  CHECK(trained_checkpoint("  learner_threads: 2\n  policy_frequency: 1\n") != one);
}

TEST_CASE("sac threads: learner_threads 2 needs the engine backend") {
  const std::string yaml = test::ac_config(
      "test/target-v0", std::string(test::kSacTarget) + "  backend: torch\n  learner_threads: 2\n",
      400, 1, 4);
  CHECK_THROWS_WITH_AS(test::experiment_from(yaml),
                       doctest::Contains("learner_threads: 2 needs the engine backend"),
                       ConfigError);
}

}  // namespace
}  // namespace rl

#include "agents/common/torso.h"

#include <stdexcept>

#include "agents/common/actor_critic.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

TEST_CASE("torso: auto picks the MLP, MinAtar CNN or Nature CNN by observation shape") {
  Torso mlp = make_torso({}, {4});
  CHECK(mlp.kind == "mlp");
  CHECK(mlp.signature == "mlp 4-64-64 tanh");
  CHECK(mlp.net->forward(torch::zeros({3, 4})).sizes() == torch::IntArrayRef({3, 64}));

  Torso small = make_torso({}, {4, 10, 10});
  CHECK(small.kind == "minatar_cnn");
  CHECK(small.net->forward(torch::zeros({2, 4, 10, 10})).sizes() == torch::IntArrayRef({2, 128}));

  TorsoOptions nature;
  nature.cnn_hidden = 512;
  Torso large = make_torso(nature, {4, 84, 84});
  CHECK(large.kind == "nature_cnn");
  CHECK(large.features == 512);
  CHECK(large.net->forward(torch::zeros({2, 4, 84, 84})).sizes() == torch::IntArrayRef({2, 512}));
  // 84 -> 20 -> 9 -> 7: the dense layer takes 64 * 7 * 7 inputs, as in the Nature DQN.
  int64_t dense_inputs = 0;
  for (const auto& p : large.net->named_parameters()) {
    if (p.key() == "7.weight") dense_inputs = p.value().size(1);
  }
  CHECK(dense_inputs == 64 * 7 * 7);

  TorsoOptions too_small;
  too_small.kind = "nature_cnn";
  CHECK_THROWS_WITH_AS(make_torso(too_small, {3, 10, 10}), doctest::Contains("36x36"),
                       std::invalid_argument);
}

TEST_CASE("actor-critic: heads start near a uniform policy and separate torsos differ") {
  ActorCriticOptions options;
  options.observation_shape = {6};
  options.action_dim = 3;
  ActorCritic net(options);
  const PolicyOutput out = net->forward(torch::randn({5, 6}));
  CHECK(out.actor.sizes() == torch::IntArrayRef({5, 3}));
  CHECK(out.value.sizes() == torch::IntArrayRef({5}));
  // Actor head initialised with gain 0.01: logits are tiny, probabilities near 1/3.
  CHECK(out.actor.abs().max().item<double>() < 0.1);
  CHECK(net->named_parameters().contains("critic_torso.1.weight"));

  options.shared_torso = true;
  options.discrete = false;
  options.initial_log_std = -0.5;
  ActorCritic shared(options);
  CHECK_FALSE(shared->named_parameters().contains("critic_torso.1.weight"));
  CHECK(shared->log_std().sizes() == torch::IntArrayRef({3}));
  CHECK(shared->log_std()[0].item<double>() == doctest::Approx(-0.5));
}

}  // namespace
}  // namespace rl

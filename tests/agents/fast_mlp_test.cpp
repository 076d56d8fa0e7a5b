#include "agents/dqn/fast_mlp.h"

#include <torch/torch.h>

#include "agents/dqn/q_network.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

// FastMlp must compute what the LibTorch module computes, for plain and dueling heads.
void check_matches(bool dueling) {
  CAPTURE(dueling);
  torch::manual_seed(7);
  QNetworkOptions options;
  options.observation_shape = {2, 3};
  options.num_actions = 4;
  options.hidden = {16, 8};
  options.dueling = dueling;
  QNetwork network(options);
  FastMlp fast;
  fast.refresh(*network);
  CHECK(fast.input_size() == 6);
  torch::Tensor input = torch::randn({5, 2, 3});
  input.index_put_({0, 0, 0}, 0.f);  // Exercise the zero-skipping path.
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = network->forward(input).contiguous();
  }
  std::vector<float> q(5 * 4);
  fast.forward(input.data_ptr<float>(), 5, q.data());
  for (int i = 0; i < 20; ++i)
    CHECK(q[i] == doctest::Approx(expected.data_ptr<float>()[i]).epsilon(1e-5));

  // After the weights change, a refresh picks them up.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : network->parameters()) p.add_(0.5);
    expected = network->forward(input).contiguous();
  }
  fast.refresh(*network);
  fast.forward(input.data_ptr<float>(), 5, q.data());
  for (int i = 0; i < 20; ++i)
    CHECK(q[i] == doctest::Approx(expected.data_ptr<float>()[i]).epsilon(1e-5));
}

TEST_CASE("fast_mlp: matches the LibTorch forward pass (plain head)") { check_matches(false); }
TEST_CASE("fast_mlp: matches the LibTorch forward pass (dueling head)") { check_matches(true); }

TEST_CASE("fast_mlp: refuses a CNN network") {
  QNetworkOptions options;
  options.observation_shape = {1, 4, 4};
  options.num_actions = 2;
  options.cnn = true;
  QNetwork network(options);
  FastMlp fast;
  CHECK_THROWS_AS(fast.refresh(*network), std::logic_error);
}

}  // namespace
}  // namespace rl

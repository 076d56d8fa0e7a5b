#include "agents/common/nn/optimizer.h"

#include <torch/torch.h>

#include <sstream>

#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

torch::nn::Sequential small_net() {
  torch::manual_seed(11);
  return torch::nn::Sequential(torch::nn::Linear(3, 8), torch::nn::ReLU(), torch::nn::Linear(8, 2));
}

// Runs a few steps with FlatOptimizer and with LibTorch's optimizer on identical copies and
// checks the parameters agree.
template <typename MakeReference>
void check_matches(FlatOptimizerOptions options, double max_grad_norm,
                   MakeReference make_reference) {
  auto flat_net = small_net();
  auto ref_net = small_net();
  FlatOptimizer flat(*flat_net, options);
  auto reference = make_reference(ref_net->parameters());
  const torch::Tensor x = torch::randn({16, 3});
  const torch::Tensor y = torch::randn({16, 2});
  for (int step = 0; step < 5; ++step) {
    flat.zero_grad();
    torch::mse_loss(flat_net->forward(x), y).mul(50).backward();
    flat.step(max_grad_norm);
    reference.zero_grad();
    torch::mse_loss(ref_net->forward(x), y).mul(50).backward();
    if (max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(ref_net->parameters(), max_grad_norm);
    reference.step();
  }
  const auto a = flat_net->parameters(), b = ref_net->parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(torch::allclose(a[i], b[i], 1e-5, 1e-6));
  }
  CHECK_FALSE(torch::allclose(a[0], small_net()->parameters()[0]));  // It did move.
}

TEST_CASE("flat_optimizer: Adam matches torch::optim::Adam, with and without clipping") {
  FlatOptimizerOptions options;
  options.lr = 1e-2;
  for (double clip : {0.0, 0.5}) {
    CAPTURE(clip);
    check_matches(options, clip, [](std::vector<torch::Tensor> params) {
      return torch::optim::Adam(params, torch::optim::AdamOptions(1e-2));
    });
  }
}

TEST_CASE("flat_optimizer: RMSprop matches torch::optim::RMSprop, with and without clipping") {
  FlatOptimizerOptions options;
  options.kind = FlatOptimizerOptions::Kind::kRmsprop;
  options.lr = 1e-3;
  options.rmsprop_alpha = 0.95;
  options.rmsprop_eps = 0.01;  // Large: eps inside the root instead of outside would show.
  for (double clip : {0.0, 0.5}) {
    CAPTURE(clip);
    check_matches(options, clip, [](std::vector<torch::Tensor> params) {
      return torch::optim::RMSprop(params,
                                   torch::optim::RMSpropOptions(1e-3).alpha(0.95).eps(0.01));
    });
  }
  // Plain and centred RMSprop part ways: the centred update must not pass this test's check.
  auto plain = small_net();
  auto centred = small_net();
  FlatOptimizer a(*plain, options);
  options.kind = FlatOptimizerOptions::Kind::kCenteredRmsprop;
  FlatOptimizer b(*centred, options);
  const torch::Tensor x = torch::randn({16, 3}), y = torch::randn({16, 2});
  for (int step = 0; step < 3; ++step) {
    a.zero_grad();
    torch::mse_loss(plain->forward(x), y).backward();
    a.step(0.0);
    b.zero_grad();
    torch::mse_loss(centred->forward(x), y).backward();
    b.step(0.0);
  }
  CHECK_FALSE(torch::allclose(plain->parameters()[0], centred->parameters()[0], 1e-5, 1e-6));
  // Momentum is a centred-RMSprop option only.
  FlatOptimizerOptions bad;
  bad.kind = FlatOptimizerOptions::Kind::kRmsprop;
  bad.rmsprop_momentum = 0.5;
  CHECK_THROWS_WITH_AS(FlatOptimizer(*plain, bad), doctest::Contains("centred RMSprop only"),
                       std::invalid_argument);
}

TEST_CASE("flat_optimizer: centred RMSprop matches torch::optim::RMSprop(centered)") {
  FlatOptimizerOptions options;
  options.kind = FlatOptimizerOptions::Kind::kCenteredRmsprop;
  options.lr = 1e-3;
  options.rmsprop_alpha = 0.95;
  options.rmsprop_eps = 0.01;
  check_matches(options, 0.0, [](std::vector<torch::Tensor> params) {
    return torch::optim::RMSprop(
        params, torch::optim::RMSpropOptions(1e-3).alpha(0.95).eps(0.01).centered(true));
  });
}

TEST_CASE("flat_optimizer: centred RMSprop with momentum matches torch::optim::RMSprop") {
  FlatOptimizerOptions options;
  options.kind = FlatOptimizerOptions::Kind::kCenteredRmsprop;
  options.lr = 1e-3;
  options.rmsprop_alpha = 0.95;
  options.rmsprop_eps = 0.01;
  options.rmsprop_momentum = 0.95;
  for (double clip : {0.0, 0.5}) {
    CAPTURE(clip);
    check_matches(options, clip, [](std::vector<torch::Tensor> params) {
      return torch::optim::RMSprop(
          params,
          torch::optim::RMSpropOptions(1e-3).alpha(0.95).eps(0.01).centered(true).momentum(0.95));
    });
  }
  // Momentum changes the trajectory: the plain centred RMSprop reference must not match.
  auto with_momentum = small_net();
  auto without = small_net();
  FlatOptimizer a(*with_momentum, options);
  options.rmsprop_momentum = 0.0;
  FlatOptimizer b(*without, options);
  const torch::Tensor x = torch::randn({16, 3}), y = torch::randn({16, 2});
  for (int step = 0; step < 3; ++step) {
    a.zero_grad();
    torch::mse_loss(with_momentum->forward(x), y).backward();
    a.step(0.0);
    b.zero_grad();
    torch::mse_loss(without->forward(x), y).backward();
    b.step(0.0);
  }
  CHECK_FALSE(torch::allclose(with_momentum->parameters()[0], without->parameters()[0]));
}

TEST_CASE("flat_optimizer: momentum is validated and survives save/load") {
  auto net = small_net();
  FlatOptimizerOptions bad;
  bad.rmsprop_momentum = 0.9;  // With Adam.
  CHECK_THROWS_WITH_AS(FlatOptimizer(*net, bad), doctest::Contains("RMSprop only"),
                       std::invalid_argument);
  bad.kind = FlatOptimizerOptions::Kind::kCenteredRmsprop;
  bad.rmsprop_momentum = 1.0;
  CHECK_THROWS_WITH_AS(FlatOptimizer(*net, bad), doctest::Contains("[0, 1)"),
                       std::invalid_argument);

  FlatOptimizerOptions options;
  options.kind = FlatOptimizerOptions::Kind::kCenteredRmsprop;
  options.lr = 1e-3;
  options.rmsprop_momentum = 0.9;
  const torch::Tensor x = torch::randn({16, 3}), y = torch::randn({16, 2});
  auto train = [&](torch::nn::Sequential& model, FlatOptimizer& optimizer, int steps) {
    for (int step = 0; step < steps; ++step) {
      optimizer.zero_grad();
      torch::mse_loss(model->forward(x), y).backward();
      optimizer.step(0.0);
    }
  };
  // Three steps, save, three more on a fresh copy loaded from the archive, equals six steps.
  auto straight = small_net();
  FlatOptimizer straight_opt(*straight, options);
  train(straight, straight_opt, 6);
  auto first = small_net();
  FlatOptimizer first_opt(*first, options);
  train(first, first_opt, 3);
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    first_opt.save(archive);
    archive.save_to(bytes);
  }
  auto second = small_net();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < first->parameters().size(); ++i) {
      second->parameters()[i].copy_(first->parameters()[i]);
    }
  }
  FlatOptimizer second_opt(*second, options);
  torch::serialize::InputArchive archive;
  archive.load_from(bytes);
  second_opt.load(archive);
  train(second, second_opt, 3);
  for (size_t i = 0; i < straight->parameters().size(); ++i) {
    CHECK(torch::allclose(second->parameters()[i], straight->parameters()[i], 1e-6, 1e-7));
  }
  // State saved without momentum (momentum 0) loads with a zero buffer.
  options.rmsprop_momentum = 0.0;
  auto plain = small_net();
  FlatOptimizer plain_opt(*plain, options);
  train(plain, plain_opt, 2);
  torch::serialize::OutputArchive plain_archive;
  plain_opt.save(plain_archive);
  std::stringstream plain_bytes;
  plain_archive.save_to(plain_bytes);
  options.rmsprop_momentum = 0.9;
  auto resumed = small_net();
  FlatOptimizer resumed_opt(*resumed, options);
  torch::serialize::InputArchive plain_in;
  plain_in.load_from(plain_bytes);
  CHECK_NOTHROW(resumed_opt.load(plain_in));
}

TEST_CASE("flat_optimizer: rebind keeps values after a parameter's storage is replaced") {
  auto net = small_net();
  FlatOptimizer flat(*net, {});
  auto params = net->parameters();
  const torch::Tensor replacement = torch::full_like(params[0], 0.25);
  {
    torch::NoGradGuard no_grad;
    params[0].set_(replacement.clone());  // As Module::load does.
  }
  flat.rebind();
  CHECK(torch::allclose(net->parameters()[0], replacement));
  flat.zero_grad();
  net->forward(torch::randn({4, 3})).sum().backward();
  flat.step(0.0);
  CHECK_FALSE(torch::allclose(net->parameters()[0], replacement));  // Updates reach it again.
}

}  // namespace
}  // namespace rl

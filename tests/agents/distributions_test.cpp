#include "agents/common/distributions.h"

#include <cmath>

#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

constexpr double kPi = 3.14159265358979323846;

double normal_log_density(double x, double mean, double std) {
  const double z = (x - mean) / std;
  return -0.5 * z * z - std::log(std) - 0.5 * std::log(2 * kPi);
}

TEST_CASE("distributions: diagonal Gaussian log-prob and entropy match the closed forms") {
  const torch::Tensor mean = torch::tensor({{0.5f, -1.0f}, {2.0f, 0.0f}});
  const torch::Tensor log_std = torch::tensor({std::log(0.5f), std::log(2.0f)});
  const DiagGaussian dist(mean, log_std);
  const torch::Tensor x = torch::tensor({{0.0f, 1.0f}, {2.5f, -3.0f}});
  const torch::Tensor log_prob = dist.log_prob(x);
  CHECK(log_prob[0].item<double>() ==
        doctest::Approx(normal_log_density(0.0, 0.5, 0.5) + normal_log_density(1.0, -1.0, 2.0)));
  CHECK(log_prob[1].item<double>() ==
        doctest::Approx(normal_log_density(2.5, 2.0, 0.5) + normal_log_density(-3.0, 0.0, 2.0)));
  // Entropy of N(mu, s^2) is 0.5 log(2 pi e s^2), summed over dimensions.
  const double expected = 0.5 * std::log(2 * kPi * std::exp(1.0) * 0.25) +
                          0.5 * std::log(2 * kPi * std::exp(1.0) * 4.0);
  CHECK(dist.entropy()[0].item<double>() == doctest::Approx(expected));
  CHECK(dist.mode().equal(mean));
}

TEST_CASE("distributions: Gaussian samples have the requested mean and spread") {
  at::Generator generator = make_generator(7);
  const DiagGaussian dist(torch::full({20000, 1}, 1.5f), torch::full({1}, std::log(0.3f)));
  const torch::Tensor samples = dist.sample(generator);
  CHECK(samples.mean().item<double>() == doctest::Approx(1.5).epsilon(0.01));
  CHECK(samples.std().item<double>() == doctest::Approx(0.3).epsilon(0.03));
}

TEST_CASE("distributions: tanh-Gaussian density includes the change of variables") {
  const torch::Tensor mean = torch::tensor({{0.3f, -0.7f}});
  const torch::Tensor log_std = torch::tensor({{std::log(0.8f), std::log(1.5f)}});
  const TanhGaussian dist(mean, log_std);
  // Large |u| too, where 1 - tanh(u)^2 underflows in a naive formula.
  const double us[2] = {0.4, -9.0};
  const torch::Tensor u = torch::tensor({{static_cast<float>(us[0]), static_cast<float>(us[1])}});
  // log p(a) = sum log N(u) - log(1 - tanh(u)^2), the log-derivative of tanh written as
  // log(4) - 2 log(e^u + e^-u) to stay exact for large |u|.
  double expected = 0;
  const double means[2] = {0.3, -0.7}, stds[2] = {0.8, 1.5};
  for (int d = 0; d < 2; ++d) {
    const double log_det = std::log(4.0) - 2.0 * std::log(std::exp(us[d]) + std::exp(-us[d]));
    expected += normal_log_density(us[d], means[d], stds[d]) - log_det;
  }
  CHECK(dist.log_prob_pre_tanh(u)[0].item<double>() == doctest::Approx(expected).epsilon(1e-5));
  // For moderate u the naive formula agrees.
  const double a = std::tanh(us[0]);
  const double naive = normal_log_density(us[0], 0.3, 0.8) - std::log(1 - a * a);
  const TanhGaussian one(mean.slice(1, 0, 1), log_std.slice(1, 0, 1));
  CHECK(one.log_prob_pre_tanh(u.slice(1, 0, 1))[0].item<double>() ==
        doctest::Approx(naive).epsilon(1e-5));
}

TEST_CASE("distributions: tanh-Gaussian samples stay in (-1, 1) and carry gradients") {
  at::Generator generator = make_generator(3);
  const torch::Tensor mean = torch::zeros({64, 2}).set_requires_grad(true);
  const torch::Tensor log_std = torch::zeros({64, 2}).set_requires_grad(true);
  const auto [actions, log_prob] = TanhGaussian(mean, log_std).rsample(generator);
  CHECK(actions.abs().max().item<double>() < 1.0);
  CHECK(log_prob.sizes() == torch::IntArrayRef({64}));
  actions.sum().backward();
  CHECK(mean.grad().abs().sum().item<double>() > 0);
  CHECK(log_std.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("distributions: categorical log-probs, entropy and masks") {
  const torch::Tensor logits = torch::tensor({{1.0f, 2.0f, 3.0f}, {0.0f, 0.0f, 0.0f}});
  const Categorical dist(logits);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(dist.log_prob(torch::tensor({2, 0}, torch::kInt64))[0].item<double>() ==
        doctest::Approx(3.0 - std::log(z)));
  CHECK(dist.entropy()[1].item<double>() == doctest::Approx(std::log(3.0)));
  CHECK(dist.mode()[0].item<int64_t>() == 2);

  // Masking the best action: it gets probability 0, the mode moves, entropy covers the rest.
  const torch::Tensor mask = torch::tensor({{1, 1, 0}, {0, 1, 1}}, torch::kUInt8).to(torch::kBool);
  const Categorical masked(logits, mask);
  CHECK(masked.probs()[0][2].item<double>() == 0.0);
  CHECK(masked.mode()[0].item<int64_t>() == 1);
  CHECK(masked.entropy()[1].item<double>() == doctest::Approx(std::log(2.0)));
  CHECK(std::isfinite(masked.entropy()[0].item<double>()));
  at::Generator generator = make_generator(11);
  const Categorical wide(torch::zeros({4000, 3}),
                         torch::tensor({0, 1, 1}, torch::kBool).expand({4000, 3}));
  const torch::Tensor samples = wide.sample(generator);
  CHECK((samples == 0).sum().item<int64_t>() == 0);
  CHECK((samples == 1).sum().item<int64_t>() > 1800);
  CHECK((samples == 2).sum().item<int64_t>() > 1800);
}

}  // namespace
}  // namespace rl

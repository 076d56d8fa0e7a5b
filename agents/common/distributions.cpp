#include "agents/common/distributions.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>

#include <cmath>

namespace rl {

namespace {

constexpr double kLogTwoPi = 1.8378770664093453;  // log(2 pi)
constexpr double kLogTwo = 0.6931471805599453;
// Logit given to illegal actions: exp() of it relative to any legal logit is exactly 0 in f32,
// yet it stays finite so 0 * log p does not become NaN in the entropy.
constexpr double kIllegalLogit = -1e8;

torch::Tensor standard_normal_like(const torch::Tensor& like, at::Generator& generator) {
  return at::normal(0.0, 1.0, like.sizes(), generator, like.options());
}

}  // namespace

Categorical::Categorical(torch::Tensor logits, const torch::Tensor& legal_mask) {
  if (legal_mask.defined()) {
    logits = logits.masked_fill(legal_mask.logical_not(), kIllegalLogit);
  }
  log_probs_ = torch::log_softmax(logits, -1);
}

torch::Tensor Categorical::sample(at::Generator& generator) const {
  return torch::multinomial(log_probs_.exp(), 1, /*replacement=*/true, generator).squeeze(-1);
}

torch::Tensor Categorical::mode() const { return log_probs_.argmax(-1); }

torch::Tensor Categorical::log_prob(const torch::Tensor& actions) const {
  return log_probs_.gather(-1, actions.unsqueeze(-1)).squeeze(-1);
}

torch::Tensor Categorical::entropy() const { return -(log_probs_.exp() * log_probs_).sum(-1); }

torch::Tensor gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mean,
                                   const torch::Tensor& log_std) {
  const torch::Tensor z = (x - mean) * torch::exp(-log_std);
  return -0.5 * z * z - log_std - 0.5 * kLogTwoPi;
}

DiagGaussian::DiagGaussian(torch::Tensor mean, torch::Tensor log_std)
    : mean_(std::move(mean)), log_std_(log_std.expand_as(mean_)) {}

torch::Tensor DiagGaussian::sample(at::Generator& generator) const {
  return mean_ + log_std_.exp() * standard_normal_like(mean_, generator);
}

torch::Tensor DiagGaussian::log_prob(const torch::Tensor& actions) const {
  return gaussian_log_density(actions, mean_, log_std_).sum(-1);
}

torch::Tensor DiagGaussian::entropy() const { return (0.5 + 0.5 * kLogTwoPi + log_std_).sum(-1); }

TanhGaussian::TanhGaussian(torch::Tensor mean, torch::Tensor log_std)
    : mean_(std::move(mean)), log_std_(log_std.expand_as(mean_)) {}

torch::Tensor TanhGaussian::log_prob_pre_tanh(const torch::Tensor& u) const {
  namespace F = torch::nn::functional;
  const torch::Tensor log_det = 2.0 * (kLogTwo - u - F::softplus(-2.0 * u));
  return (gaussian_log_density(u, mean_, log_std_) - log_det).sum(-1);
}

std::pair<torch::Tensor, torch::Tensor> TanhGaussian::rsample(at::Generator& generator) const {
  const torch::Tensor noise = standard_normal_like(mean_, generator);
  const torch::Tensor u = mean_ + log_std_.exp() * noise;
  return {torch::tanh(u), log_prob_pre_tanh(u)};
}

at::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace rl

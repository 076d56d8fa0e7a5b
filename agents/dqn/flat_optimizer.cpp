#include "agents/dqn/flat_optimizer.h"

#include <torch/types.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "agents/archive_util.h"

namespace rl {

FlatOptimizer::FlatOptimizer(torch::nn::Module& module, FlatOptimizerOptions options)
    : options_(options), parameters_(module.parameters()) {
  if (!(options.rmsprop_momentum >= 0.0 && options.rmsprop_momentum < 1.0)) {
    throw std::invalid_argument("flat optimizer: RMSprop momentum must be in [0, 1), got " +
                                std::to_string(options.rmsprop_momentum));
  }
  if (options.kind == FlatOptimizerOptions::Kind::kAdam && options.rmsprop_momentum > 0) {
    throw std::invalid_argument("flat optimizer: momentum applies to RMSprop only, not Adam");
  }
  int64_t total = 0;
  for (const auto& p : parameters_) total += p.numel();
  params_ = torch::zeros({total});
  grads_ = torch::zeros({total});
  first_ = torch::zeros({total});
  second_ = torch::zeros({total});
  if (options.rmsprop_momentum > 0) momentum_ = torch::zeros({total});
  rebind();
}

void FlatOptimizer::rebind() {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : parameters_) {
    const int64_t n = p.numel();
    torch::Tensor values = params_.narrow(0, offset, n);
    values.copy_(p.detach().reshape({n}));
    p.set_data(values.view(p.sizes()));
    p.mutable_grad() = grads_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

void FlatOptimizer::step(double max_grad_norm) {
  torch::NoGradGuard no_grad;
  if (max_grad_norm > 0) {
    const double norm = grads_.norm().item<double>();
    const double coefficient = max_grad_norm / (norm + 1e-6);
    if (coefficient < 1.0) grads_.mul_(coefficient);
  }
  ++steps_;
  const double lr = options_.lr;
  if (options_.kind == FlatOptimizerOptions::Kind::kAdam) {
    const double b1 = options_.adam_beta1, b2 = options_.adam_beta2;
    first_.mul_(b1).add_(grads_, 1.0 - b1);
    second_.mul_(b2).addcmul_(grads_, grads_, 1.0 - b2);
    const double correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
    const double correction2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
    const torch::Tensor denominator =
        (second_.sqrt() / std::sqrt(correction2)).add_(options_.adam_eps);
    params_.addcdiv_(first_, denominator, -lr / correction1);
  } else {
    const double alpha = options_.rmsprop_alpha;
    second_.mul_(alpha).addcmul_(grads_, grads_, 1.0 - alpha);
    first_.mul_(alpha).add_(grads_, 1.0 - alpha);
    const torch::Tensor average =
        second_.addcmul(first_, first_, -1.0).sqrt_().add_(options_.rmsprop_eps);
    if (momentum_.defined()) {
      momentum_.mul_(options_.rmsprop_momentum).addcdiv_(grads_, average);
      params_.add_(momentum_, -lr);
    } else {
      params_.addcdiv_(grads_, average, -lr);
    }
  }
}

void FlatOptimizer::save(torch::serialize::OutputArchive& archive) const {
  archive.write("first", first_);
  archive.write("second", second_);
  if (momentum_.defined()) archive.write("momentum", momentum_);
  write_int(archive, "steps", steps_);
}

void FlatOptimizer::load(torch::serialize::InputArchive& archive) {
  torch::Tensor first, second;
  if (!archive.try_read("first", first) || !archive.try_read("second", second) ||
      first.numel() != params_.numel() || second.numel() != params_.numel()) {
    throw std::runtime_error("the optimizer state is missing or sized for another network");
  }
  torch::Tensor momentum;
  const bool has_momentum = momentum_.defined() && archive.try_read("momentum", momentum);
  if (has_momentum && momentum.numel() != params_.numel()) {
    throw std::runtime_error("the optimizer's momentum buffer is sized for another network");
  }
  torch::NoGradGuard no_grad;
  first_.copy_(first.reshape({params_.numel()}));
  second_.copy_(second.reshape({params_.numel()}));
  if (has_momentum) {
    momentum_.copy_(momentum.reshape({params_.numel()}));
  } else if (momentum_.defined()) {
    momentum_.zero_();
  }
  steps_ = read_int(archive, "steps");
}

}  // namespace rl

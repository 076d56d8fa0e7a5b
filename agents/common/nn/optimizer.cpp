#include "agents/common/nn/optimizer.h"

#include <torch/types.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "agents/archive_util.h"
#include "agents/distributed/collectives.h"
#include "agents/vector_clones.h"

namespace rl {

FlatOptimizer::FlatOptimizer(torch::nn::Module& module, FlatOptimizerOptions options)
    : options_(options), parameters_(module.parameters()) {
  if (!(options.rmsprop_momentum >= 0.0 && options.rmsprop_momentum < 1.0)) {
    throw std::invalid_argument("flat optimizer: RMSprop momentum must be in [0, 1), got " +
                                std::to_string(options.rmsprop_momentum));
  }
  if (options.kind != FlatOptimizerOptions::Kind::kCenteredRmsprop &&
      options.rmsprop_momentum > 0) {
    throw std::invalid_argument(
        "flat optimizer: momentum applies to centred RMSprop only, not Adam or plain RMSprop");
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

namespace {

// The squares of x summed in double in eight interleaved partial sums (x[i] goes to sum i % 8),
// then added in order: eight independent chains instead of one, each a vector lane.
RLCADE_VECTOR_CLONES
double sum_of_squares(const float* x, int64_t n) {
  constexpr int kLanes = 8;
  double partial[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) partial[k] += static_cast<double>(x[i + k]) * x[i + k];
  }
  for (; i < n; ++i) partial[i % kLanes] += static_cast<double>(x[i]) * x[i];
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

// One pass over the buffers per update, in float, in the order of PyTorch's per-tensor
// operations (torch.optim.Adam, torch.optim.RMSprop centered). Each gradient is first multiplied
// by `scale` (the clipping coefficient, 1 without clipping: exact) and stored back, as
// clip_grad_norm_ leaves it.
RLCADE_VECTOR_CLONES
void adam_update(float* __restrict params, float* __restrict grads, float* __restrict first,
                 float* __restrict second, int64_t n, float scale, float beta1, float beta2,
                 float step_size, float root_correction2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = grads[i] * scale;
    grads[i] = g;
    const float m = first[i] * beta1 + (1.f - beta1) * g;
    const float v = second[i] * beta2 + (1.f - beta2) * g * g;
    first[i] = m;
    second[i] = v;
    params[i] -= step_size * m / (std::sqrt(v) / root_correction2 + eps);
  }
}

// torch.optim.RMSprop (centered=False, momentum 0): addcdiv(p, g, sqrt(sq) + eps, -lr).
RLCADE_VECTOR_CLONES
void rmsprop_update(float* __restrict params, float* __restrict grads,
                    float* __restrict mean_square, int64_t n, float scale, float alpha, float lr,
                    float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = grads[i] * scale;
    grads[i] = g;
    const float square = mean_square[i] * alpha + (1.f - alpha) * g * g;
    mean_square[i] = square;
    params[i] += -lr * g / (std::sqrt(square) + eps);
  }
}

RLCADE_VECTOR_CLONES
void centered_rmsprop_update(float* __restrict params, float* __restrict grads,
                             float* __restrict mean, float* __restrict mean_square,
                             float* __restrict momentum, int64_t n, float scale, float alpha,
                             float lr, float eps, float momentum_decay) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = grads[i] * scale;
    grads[i] = g;
    const float square = mean_square[i] * alpha + (1.f - alpha) * g * g;
    const float average = mean[i] * alpha + (1.f - alpha) * g;
    mean_square[i] = square;
    mean[i] = average;
    const float scaled = g / (std::sqrt(square - average * average) + eps);
    if (momentum) {
      momentum[i] = momentum[i] * momentum_decay + scaled;
      params[i] -= lr * momentum[i];
    } else {
      params[i] -= lr * scaled;
    }
  }
}

}  // namespace

double FlatOptimizer::step(double max_grad_norm) {
  if (collectives_) collectives_->average_gradients(parameters_);
  const int64_t n = params_.numel();
  float* grads = grads_.data_ptr<float>();
  double norm = 0;
  float scale = 1.f;  // The clipping coefficient, applied in the update's pass.
  if (max_grad_norm > 0) {
    norm = std::sqrt(sum_of_squares(grads, n));
    const double coefficient = max_grad_norm / (norm + 1e-6);
    if (coefficient < 1.0) scale = static_cast<float>(coefficient);
  }
  ++steps_;
  const double steps = static_cast<double>(steps_);
  if (options_.kind == FlatOptimizerOptions::Kind::kAdam) {
    const double b1 = options_.adam_beta1, b2 = options_.adam_beta2;
    adam_update(params_.data_ptr<float>(), grads, first_.data_ptr<float>(),
                second_.data_ptr<float>(), n, scale, static_cast<float>(b1), static_cast<float>(b2),
                static_cast<float>(options_.lr / (1.0 - std::pow(b1, steps))),
                static_cast<float>(std::sqrt(1.0 - std::pow(b2, steps))),
                static_cast<float>(options_.adam_eps));
    return norm;
  }
  if (options_.kind == FlatOptimizerOptions::Kind::kRmsprop) {
    rmsprop_update(params_.data_ptr<float>(), grads, second_.data_ptr<float>(), n, scale,
                   static_cast<float>(options_.rmsprop_alpha), static_cast<float>(options_.lr),
                   static_cast<float>(options_.rmsprop_eps));
    return norm;
  }
  centered_rmsprop_update(
      params_.data_ptr<float>(), grads, first_.data_ptr<float>(), second_.data_ptr<float>(),
      momentum_.defined() ? momentum_.data_ptr<float>() : nullptr, n, scale,
      static_cast<float>(options_.rmsprop_alpha), static_cast<float>(options_.lr),
      static_cast<float>(options_.rmsprop_eps), static_cast<float>(options_.rmsprop_momentum));
  return norm;
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

#include "agents/sac/sac_engine.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "agents/common/nn/blas.h"
#include "agents/sac/sac_losses.h"

namespace rl {

namespace {

std::vector<torch::nn::Linear> critic_layers(SacCriticImpl& critic) {
  std::vector<torch::nn::Linear> layers = nn::mlp_layers(critic.torso()).linears;
  layers.push_back(critic.head());
  return layers;
}

}  // namespace

bool SacEngine::applies(const Networks& n) {
  if (!blas_available() || n.actor.discrete()) return false;
  for (const SacCriticImpl* critic : {&n.q1, &n.q2, &n.q1_target, &n.q2_target}) {
    if (!nn::is_plain_mlp(critic->torso())) return false;
  }
  return nn::is_plain_mlp(n.actor.torso());
}

SacEngine::SacEngine(const Networks& n, int observation_size, int action_size, double log_std_min,
                     double log_std_max)
    : observation_size_(observation_size),
      action_size_(action_size),
      squash_(log_std_min, log_std_max) {
  if (!applies(n)) {
    throw std::invalid_argument("the SAC engine needs Box actions, MLP torsos and a loaded BLAS");
  }
  const nn::MlpLayers actor = nn::mlp_layers(n.actor.torso());
  torso_ = nn::DenseStack(actor.linears, actor.activation, actor.activation);
  mean_head_ = nn::DenseStack({n.actor.mean_head()}, nn::Activation::kNone);
  log_std_head_ = nn::DenseStack({n.actor.log_std_head()}, nn::Activation::kNone);
  const nn::Activation activation = nn::mlp_layers(n.q1.torso()).activation;
  critics_ = nn::TwinQ(critic_layers(n.q1), critic_layers(n.q2), activation, observation_size,
                       action_size);
  targets_ = nn::TwinQ(critic_layers(n.q1_target), critic_layers(n.q2_target), activation,
                       observation_size, action_size);
  if (torso_.input_size() != observation_size || mean_head_.output_size() != action_size) {
    throw std::invalid_argument("the SAC engine's actor does not fit the observation or action");
  }
}

void SacEngine::set_threads(int threads) {
  if (threads != 1 && threads != 2) {
    throw std::invalid_argument("the SAC engine runs on 1 or 2 threads, not " +
                                std::to_string(threads));
  }
  pool_ = threads == 2 ? std::make_unique<ThreadPool>(2) : nullptr;
  critics_.run_on(pool_.get());
  targets_.run_on(pool_.get());
}

void SacEngine::reserve(int batch) {
  const size_t rows = static_cast<size_t>(batch);
  const size_t elements = rows * action_size_;
  if (log_probs_.size() >= rows) return;
  actions_.resize(elements);
  log_probs_.resize(rows);
  targets_values_.resize(rows);
  q1_gradient_.resize(rows);
  q2_gradient_.resize(rows);
  log_prob_gradient_.resize(rows);
  mean_gradient_.resize(elements);
  raw_log_std_gradient_.resize(elements);
  feature_gradient_.resize(rows * torso_.output_size());
}

void SacEngine::sample_policy(const float* observations, const float* noise, int batch) {
  const float* features = torso_.forward(observations, batch);
  const float* mean = mean_head_.forward(features, batch);
  const float* raw_log_std = log_std_head_.forward(features, batch);
  squash_.sample(mean, raw_log_std, noise, batch, action_size_, actions_.data(), log_probs_.data());
}

void SacEngine::act(const float* observations, int batch, const float* noise, float* actions) {
  reserve(batch);
  if (noise) {
    sample_policy(observations, noise, batch);
    std::copy_n(actions_.data(), static_cast<size_t>(batch) * action_size_, actions);
    return;
  }
  const float* mean = mean_head_.forward(torso_.forward(observations, batch), batch);
  nn::TanhGaussianHead::mode(mean, batch, action_size_, actions);
}

double SacEngine::critic_gradients(const float* observations, const float* next_observations,
                                   const float* actions, const float* rewards,
                                   const float* discounts, const float* next_noise, float alpha,
                                   int batch, double* q1_mean) {
  reserve(batch);
  sample_policy(next_observations, next_noise, batch);
  const nn::TwinQ::Values next = targets_.forward(next_observations, actions_.data(), batch);
  sac::soft_targets(rewards, discounts, next.q1, next.q2, log_probs_.data(), alpha, batch,
                    targets_values_.data());
  const nn::TwinQ::Values q = critics_.forward(observations, actions, batch);
  const double loss = sac::critic_loss(q.q1, q.q2, targets_values_.data(), batch,
                                       q1_gradient_.data(), q2_gradient_.data());
  double sum = 0;
  for (int i = 0; i < batch; ++i) sum += q.q1[i];
  *q1_mean = sum / batch;
  critics_.backward(q1_gradient_.data(), q2_gradient_.data(), batch,
                    {.parameter_gradients = true, .input_gradient = false});
  return loss;
}

double SacEngine::actor_gradients(const float* observations, const float* noise, float alpha,
                                  int batch, const float** log_probs) {
  reserve(batch);
  sample_policy(observations, noise, batch);
  const nn::TwinQ::Values q = critics_.forward(observations, actions_.data(), batch);
  const double loss =
      sac::actor_loss(q.q1, q.q2, log_probs_.data(), alpha, batch, q1_gradient_.data(),
                      q2_gradient_.data(), log_prob_gradient_.data());
  // Through the critics to the actions only: the critics' own gradients are not wanted.
  const float* action_gradient =
      critics_.backward(q1_gradient_.data(), q2_gradient_.data(), batch,
                        {.parameter_gradients = false, .input_gradient = true});
  squash_.backward(action_gradient, log_prob_gradient_.data(), mean_gradient_.data(),
                   raw_log_std_gradient_.data());
  const nn::BackwardMode heads{.parameter_gradients = true, .input_gradient = true};
  const float* from_mean = mean_head_.backward(mean_gradient_.data(), batch, heads);
  const float* from_log_std = log_std_head_.backward(raw_log_std_gradient_.data(), batch, heads);
  const size_t features = static_cast<size_t>(batch) * torso_.output_size();
  for (size_t i = 0; i < features; ++i) feature_gradient_[i] = from_mean[i] + from_log_std[i];
  torso_.backward(feature_gradient_.data(), batch,
                  {.parameter_gradients = true, .input_gradient = false});
  *log_probs = log_probs_.data();
  return loss;
}

}  // namespace rl

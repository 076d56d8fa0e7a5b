#include "agents/common/nn/actor_critic_engine.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "agents/common/nn/blas.h"

namespace rl::nn {

namespace {

DenseStack torso_and_head(const torch::nn::Sequential& torso, const torch::nn::Linear& head) {
  MlpLayers layers = mlp_layers(torso);
  layers.linears.push_back(head);
  return DenseStack(std::move(layers.linears), layers.activation, Activation::kNone);
}

float* log_std_gradient_buffer(const torch::Tensor& log_std) {
  torch::Tensor& grad = const_cast<torch::Tensor&>(log_std).mutable_grad();
  if (!grad.defined()) grad = torch::zeros_like(log_std);
  return grad.data_ptr<float>();
}

// Acting batches below this many rows run on one thread even with set_threads(2): handing a
// 64-row forward pass to the second thread cost more than it saved (rlbench
// ppo_pendulum_rltools_2threads on the shared 2-core machine).
constexpr int kMinParallelActingRows = 512;

void run_pair(ThreadPool* pool, const std::function<void()>& actor,
              const std::function<void()>& critic) {
  if (!pool) {
    actor();
    critic();
    return;
  }
  pool->parallel_for(2, [&](int task) { task == 0 ? actor() : critic(); });
}

}  // namespace

bool ActorCriticEngine::applies(const ActorCriticImpl& net) {
  return (blas_available() && net.critic_torso() && is_plain_mlp(net.actor_torso()) &&
          is_plain_mlp(net.critic_torso())) ||
         ConvActorCritic::applies(net);
}

ActorCriticEngine::ActorCriticEngine(ActorCriticImpl& net, bool discrete, int64_t action_dim,
                                     const std::vector<int64_t>& observation_shape)
    : net_(net),
      discrete_(discrete),
      action_dim_(action_dim),
      categorical_(action_dim),
      gaussian_(action_dim) {
  if (discrete && ConvActorCritic::applies(net)) {
    conv_ = std::make_unique<ConvActorCritic>(net, action_dim, observation_shape);
    return;
  }
  if (!applies(net)) {
    throw std::invalid_argument(
        "the actor-critic engine needs separate MLP torsos (or a shared MinAtar CNN with "
        "Discrete actions) and a loaded BLAS");
  }
  actor_ = torso_and_head(net.actor_torso(), net.actor_head());
  critic_ = torso_and_head(net.critic_torso(), net.critic_head());
  if (actor_.output_size() != action_dim || discrete != !net.log_std().defined()) {
    throw std::invalid_argument("the actor-critic engine's network does not fit the actions");
  }
}

void ActorCriticEngine::set_threads(int threads) {
  if (threads != 1 && threads != 2) {
    throw std::invalid_argument("the actor-critic engine runs on 1 or 2 threads, not " +
                                std::to_string(threads));
  }
  if (conv_ && threads == 2) {
    throw std::invalid_argument("the engine's MinAtar CNN actor-critic runs on one thread");
  }
  pool_ = threads == 2 ? std::make_unique<ThreadPool>(2) : nullptr;
}

void ActorCriticEngine::actor_and_critic(const std::function<void()>& actor,
                                         const std::function<void()>& critic, int acting_batch) {
  const bool small_acting = acting_batch > 0 && acting_batch < kMinParallelActingRows;
  run_pair(small_acting ? nullptr : pool_.get(), actor, critic);
}

void ActorCriticEngine::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  const size_t rows = static_cast<size_t>(batch);
  log_probs_.resize(rows);
  entropies_.resize(rows);
  values_.resize(rows);
  value_gradient_.resize(rows);
  head_gradient_.resize(rows * action_dim_);
}

const float* ActorCriticEngine::values(const float* observations, int batch) {
  if (conv_) return conv_->values(observations, batch);
  reserve(batch);
  const float* v = critic_.forward(observations, batch);
  std::copy_n(v, batch, values_.data());
  return values_.data();
}

void ActorCriticEngine::act_discrete(const float* observations, int batch, const uint8_t* legal,
                                     const float* uniforms, int64_t* actions, float* log_probs,
                                     float* values) {
  if (conv_) return conv_->act(observations, batch, legal, uniforms, actions, log_probs, values);
  actor_and_critic(
      [&] {
        categorical_.forward(actor_.forward(observations, batch), legal, batch);
        categorical_.sample(uniforms, batch, actions, log_probs);
      },
      [&] {
        if (values) std::copy_n(critic_.forward(observations, batch), batch, values);
      },
      batch);
}

void ActorCriticEngine::act_box(const float* observations, int batch, const float* noise,
                                float* actions, float* log_probs, float* values) {
  const float* log_std = net_.log_std().data_ptr<float>();
  actor_and_critic(
      [&] {
        gaussian_.sample(actor_.forward(observations, batch), log_std, noise, batch, actions,
                         log_probs);
      },
      [&] {
        if (values) std::copy_n(critic_.forward(observations, batch), batch, values);
      },
      batch);
}

ActorCriticEngine::Evaluation ActorCriticEngine::evaluate(const float* observations,
                                                          const int64_t* discrete_actions,
                                                          const float* box_actions,
                                                          const uint8_t* legal, int batch) {
  if (conv_) {
    const ConvActorCritic::Terms terms =
        conv_->evaluate(observations, discrete_actions, legal, batch);
    return {terms.log_probs, terms.entropies, terms.values};
  }
  reserve(batch);
  const float* log_std = discrete_ ? nullptr : net_.log_std().data_ptr<float>();
  const auto actor = [&] {
    const float* head = actor_.forward(observations, batch);
    if (discrete_) {
      categorical_.forward(head, legal, batch);
      categorical_.evaluate(discrete_actions, batch, log_probs_.data(), entropies_.data());
    } else {
      gaussian_.evaluate(head, log_std, box_actions, batch, log_probs_.data(), entropies_.data());
    }
    mean_ = head;
  };
  actor_and_critic(
      actor, [&] { std::copy_n(critic_.forward(observations, batch), batch, values_.data()); });
  discrete_actions_ = discrete_actions;
  box_actions_ = box_actions;
  return {log_probs_.data(), entropies_.data(), values_.data()};
}

bool ActorCriticEngine::set_gradients_ready(ConvActorCritic::GradientsReady hook) {
  if (!conv_) return false;
  conv_->set_gradients_ready(std::move(hook));
  return true;
}

void ActorCriticEngine::backward(const float* log_prob_gradient, const float* entropy_gradient,
                                 const float* value_gradient, int batch) {
  if (conv_) return conv_->backward(log_prob_gradient, entropy_gradient, value_gradient, batch);
  const BackwardMode parameters_only{.parameter_gradients = true, .input_gradient = false};
  // Gradient buffers are created here, on the calling thread, before the passes write them.
  float* log_std_gradient = discrete_ ? nullptr : log_std_gradient_buffer(net_.log_std());
  const auto actor = [&] {
    if (discrete_) {
      categorical_.backward(discrete_actions_, log_prob_gradient, entropy_gradient, batch,
                            head_gradient_.data());
    } else {
      gaussian_.backward(mean_, net_.log_std().data_ptr<float>(), box_actions_, log_prob_gradient,
                         entropy_gradient, batch, head_gradient_.data(), log_std_gradient);
    }
    actor_.backward(head_gradient_.data(), batch, parameters_only);
  };
  actor_and_critic(actor, [&] {
    std::copy_n(value_gradient, batch, value_gradient_.data());
    critic_.backward(value_gradient_.data(), batch, parameters_only);
  });
}

}  // namespace rl::nn

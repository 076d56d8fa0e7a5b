#include "agents/dqn/q_compute.h"

#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <vector>

#include "agents/common/nn/blas.h"
#include "agents/common/nn/conv_stack.h"
#include "agents/common/nn/dense_stack.h"
#include "agents/common/nn/q_heads.h"

namespace rl {

namespace {

class TorchQCompute final : public QCompute {
 public:
  explicit TorchQCompute(const ObservationInput& input) : input_(input) {}

  void q_values(QNetworkImpl& network, const uint8_t* observations, int batch, float* q) override {
    torch::InferenceMode inference;
    const torch::Tensor values = network.forward(input_(observations, batch)).contiguous();
    std::copy(values.data_ptr<float>(), values.data_ptr<float>() + values.numel(), q);
  }

  void forward_for_gradient(QNetworkImpl& online, const uint8_t* observations, int batch) override {
    q_all_ = online.forward(input_(observations, batch));
  }

  TdLoss td_gradient(QNetworkImpl& online, const TdBatch& td, float* abs_td_errors) override {
    const int batch = td.size;
    // from_blob wants non-const pointers; the tensors are only read.
    const torch::Tensor actions =
        torch::from_blob(const_cast<int64_t*>(td.actions), {batch, 1}, torch::kInt64);
    const torch::Tensor targets = torch::from_blob(const_cast<float*>(td.targets), {batch});
    const torch::Tensor q = q_all_.gather(1, actions).squeeze(1);
    namespace F = torch::nn::functional;
    const torch::Tensor elementwise =
        td.huber
            ? F::smooth_l1_loss(q, targets, F::SmoothL1LossFuncOptions().reduction(torch::kNone))
            : (q - targets).pow(2);
    const torch::Tensor loss =
        td.weights
            ? (elementwise * torch::from_blob(const_cast<float*>(td.weights), {batch})).mean()
            : elementwise.mean();
    for (torch::Tensor& parameter : online.parameters()) {
      if (parameter.grad().defined()) parameter.mutable_grad().zero_();
    }
    loss.backward();
    const torch::Tensor td_error = (q.detach() - targets).abs().contiguous();
    std::copy(td_error.data_ptr<float>(), td_error.data_ptr<float>() + batch, abs_td_errors);
    return {loss.item<double>(), q.detach().mean().item<double>()};
  }

  bool runs_beside_another() const override { return false; }
  std::string backend() const override { return "torch"; }

 private:
  ObservationInput input_;
  torch::Tensor q_all_;  // The online network's Q of the batch being learned, with its graph.
};

// One MLP Q-network on the engine: the torso's DenseStack (absent without hidden layers), the
// Q (or advantage) head and, when dueling, the value head; with the buffers of one forward
// pass and its backward pass.
class MlpQ {
 public:
  explicit MlpQ(const QNetworkImpl& network)
      : head_({network.head()}, nn::Activation::kNone), actions_(network.head()->weight.size(0)) {
    if (!network.torso_linears().empty()) {
      torso_.emplace(network.torso_linears(), nn::Activation::kRelu, nn::Activation::kRelu);
    }
    if (network.value()) value_.emplace(std::vector{network.value()}, nn::Activation::kNone);
  }

  // Q-values [batch, actions] of float inputs; the buffer lives until the next forward().
  const float* forward(const float* input, int batch) {
    // Acting evaluates one row per env: below a few rows dot products beat BLAS calls.
    constexpr int kRowsByDotProducts = 4;
    const auto layer = [batch](nn::DenseStack& stack, const float* x) {
      return batch <= kRowsByDotProducts ? stack.forward_rows(x, batch) : stack.forward(x, batch);
    };
    const float* features = torso_ ? layer(*torso_, input) : input;
    const float* head = layer(head_, features);
    if (!value_) return head;
    reserve(batch);
    nn::dueling_combine(head, layer(*value_, features), batch, actions_, q_.data());
    return q_.data();
  }

  // Parameter gradients from d loss / d Q [batch, actions] (overwritten) of the last forward().
  void backward(float* dq, int batch) {
    const nn::BackwardMode head_mode{.parameter_gradients = true,
                                     .input_gradient = torso_.has_value()};
    const float* d_features = nullptr;
    if (value_) {
      reserve(batch);
      nn::dueling_backward(dq, batch, actions_, dq, d_value_.data());
      const float* from_value = value_->backward(d_value_.data(), batch, head_mode);
      const float* from_head = head_.backward(dq, batch, head_mode);
      if (torso_) {
        const size_t n = static_cast<size_t>(batch) * torso_->output_size();
        std::copy(from_head, from_head + n, d_features_.begin());
        for (size_t i = 0; i < n; ++i) d_features_[i] += from_value[i];
        d_features = d_features_.data();
      }
    } else {
      d_features = head_.backward(dq, batch, head_mode);
    }
    if (!torso_) return;
    // DenseStack::backward may overwrite its argument: hand it a buffer of ours.
    float* d_torso = const_cast<float*>(d_features);
    torso_->backward(d_torso, batch, {.parameter_gradients = true, .input_gradient = false});
  }

 private:
  void reserve(int batch) {
    if (batch <= capacity_) return;
    capacity_ = batch;
    q_.resize(static_cast<size_t>(batch) * actions_);
    d_value_.resize(batch);
    if (torso_) d_features_.resize(static_cast<size_t>(batch) * torso_->output_size());
  }

  std::optional<nn::DenseStack> torso_;
  nn::DenseStack head_;
  std::optional<nn::DenseStack> value_;
  int64_t actions_;
  int capacity_ = 0;
  std::vector<float> q_, d_value_, d_features_;  // Dueling only.
};

// MLP Q-networks on the engine.
class EngineMlpQCompute final : public QCompute {
 public:
  EngineMlpQCompute(const QNetworkImpl& network, const ObservationInput& input)
      : input_(input), gradient_(network), actions_(network.head()->weight.size(0)) {}

  void q_values(QNetworkImpl& network, const uint8_t* observations, int batch, float* q) override {
    const float* values =
        evaluator(network).forward(input_.floats(observations, batch, input_buffer_), batch);
    std::copy(values, values + static_cast<size_t>(batch) * actions_, q);
  }

  void forward_for_gradient(QNetworkImpl&, const uint8_t* observations, int batch) override {
    q_ = gradient_.forward(input_.floats(observations, batch, gradient_input_), batch);
    prepared_batch_ = batch;
  }

  TdLoss td_gradient(QNetworkImpl&, const TdBatch& td, float* abs_td_errors) override {
    if (td.size != prepared_batch_ || td.size <= 0) {
      throw std::logic_error("dqn engine: td_gradient needs forward_for_gradient on that batch");
    }
    prepared_batch_ = 0;
    dq_.resize(static_cast<size_t>(td.size) * actions_);
    const TdLoss loss = nn::td_loss_gradient(q_, actions_, td, dq_.data(), abs_td_errors);
    gradient_.backward(dq_.data(), td.size);
    return loss;
  }

  bool runs_beside_another() const override { return true; }
  std::string backend() const override { return "engine"; }

 private:
  // The forward-only stacks of `network` (the online or the target network), built at its
  // first use; their buffers are apart from the gradient pass's.
  MlpQ& evaluator(const QNetworkImpl& network) {
    for (auto& [owner, q] : evaluators_) {
      if (owner == &network) return *q;
    }
    for (auto& [owner, q] : evaluators_) {
      if (owner) continue;
      owner = &network;
      return q.emplace(network);
    }
    throw std::logic_error("dqn engine: more than two networks evaluated");
  }

  ObservationInput input_;
  MlpQ gradient_;  // The online network's pass that is differentiated.
  int64_t actions_;
  std::array<std::pair<const QNetworkImpl*, std::optional<MlpQ>>, 2> evaluators_{};
  std::vector<float> input_buffer_, gradient_input_;
  const float* q_ = nullptr;  // Q of the prepared batch (gradient_'s buffer).
  int prepared_batch_ = 0;
  std::vector<float> dq_;
};

nn::ConvQLayers conv_layers(const QNetworkImpl& network) {
  return {network.conv(), network.cnn_hidden(), network.head()};
}

// Non-dueling CNN Q-networks on u8 observations on the engine.
class EngineCnnQCompute final : public QCompute {
 public:
  EngineCnnQCompute(const QNetworkImpl& network, const ObservationInput& input)
      : cnn_(conv_layers(network), network.observation_shape(), static_cast<float>(input.scale())) {
  }

  void q_values(QNetworkImpl& network, const uint8_t* observations, int batch, float* q) override {
    cnn_.forward(conv_layers(network), observations, batch, q);
  }
  void forward_for_gradient(QNetworkImpl& online, const uint8_t* observations, int batch) override {
    cnn_.prepare_gradient(conv_layers(online), observations, batch);
  }
  TdLoss td_gradient(QNetworkImpl& online, const TdBatch& td, float* abs_td_errors) override {
    return cnn_.td_backward(conv_layers(online), td, abs_td_errors);
  }
  bool runs_beside_another() const override { return true; }
  std::string backend() const override { return "engine"; }

 private:
  nn::ConvStack cnn_;
};

bool cnn_engine_applies(const QNetworkImpl& network, const Space& observations) {
  return !network.is_mlp() && !network.value() && observations.dtype == DType::kU8 &&
         nn::ConvStack::supports(conv_layers(network));
}

}  // namespace

bool engine_applies(const QNetworkImpl& network, const Space& observations) {
  return (network.is_mlp() && blas_available()) || cnn_engine_applies(network, observations);
}

std::unique_ptr<QCompute> make_q_compute(const QNetworkImpl& network, const Space& observations,
                                         const ObservationInput& input, bool use_engine) {
  if (use_engine && network.is_mlp() && blas_available()) {
    return std::make_unique<EngineMlpQCompute>(network, input);
  }
  if (use_engine && cnn_engine_applies(network, observations)) {
    return std::make_unique<EngineCnnQCompute>(network, input);
  }
  return std::make_unique<TorchQCompute>(input);
}

}  // namespace rl

#include "agents/dqn/q_compute.h"

#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <algorithm>
#include <vector>

#include "agents/dqn/fast_cnn.h"
#include "agents/dqn/fast_mlp.h"

namespace rl {

namespace {

class TorchQCompute final : public QCompute {
 public:
  TorchQCompute(const QNetworkImpl& network, const ObservationInput& input)
      : input_(input), mlp_(network.is_mlp()) {}

  void q_values(QNetworkImpl& network, const uint8_t* observations, int batch, float* q) override {
    torch::InferenceMode inference;
    const torch::Tensor values = network.forward(input_(observations, batch)).contiguous();
    std::copy(values.data_ptr<float>(), values.data_ptr<float>() + values.numel(), q);
  }

  void acting_q_values(QNetworkImpl& online, const uint8_t* observations, int batch,
                       float* q) override {
    // Beyond a few rows a batched matrix product beats FastMlp's row-by-row loops.
    constexpr int kFastMlpBatchLimit = 16;
    if (!mlp_ || batch > kFastMlpBatchLimit) return q_values(online, observations, batch, q);
    if (fast_mlp_stale_) {
      fast_mlp_.refresh(online);
      fast_mlp_stale_ = false;
    }
    fast_mlp_.forward(input_.floats(observations, batch, input_buffer_), batch, q);
  }

  void online_changed() override { fast_mlp_stale_ = true; }

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

 private:
  ObservationInput input_;
  bool mlp_;
  FastMlp fast_mlp_;
  bool fast_mlp_stale_ = true;  // The online network changed since fast_mlp_ was filled.
  std::vector<float> input_buffer_;
  torch::Tensor q_all_;  // The online network's Q of the batch being learned, with its graph.
};

class FastCnnQCompute final : public QCompute {
 public:
  FastCnnQCompute(const QNetworkImpl& network, const ObservationInput& input)
      : cnn_(network, static_cast<float>(input.scale())) {}

  void q_values(QNetworkImpl& network, const uint8_t* observations, int batch, float* q) override {
    cnn_.forward(network, observations, batch, q);
  }
  void forward_for_gradient(QNetworkImpl& online, const uint8_t* observations, int batch) override {
    cnn_.prepare_gradient(online, observations, batch);
  }
  TdLoss td_gradient(QNetworkImpl& online, const TdBatch& td, float* abs_td_errors) override {
    return cnn_.td_backward(online, td, abs_td_errors);
  }
  bool runs_beside_another() const override { return true; }

 private:
  FastCnn cnn_;
};

}  // namespace

std::unique_ptr<QCompute> make_q_compute(const QNetworkImpl& network, const Space& observations,
                                         const ObservationInput& input) {
  if (observations.dtype == DType::kU8 && FastCnn::supports(network)) {
    return std::make_unique<FastCnnQCompute>(network, input);
  }
  return std::make_unique<TorchQCompute>(network, input);
}

}  // namespace rl

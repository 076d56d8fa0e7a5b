#include "agents/common/nn/conv_stack.h"

#include <stdexcept>

namespace rl::nn {

namespace {

ConvTorsoLayers checked_torso_layers(const ConvQLayers& layers) {
  if (!ConvStack::supports(layers)) {
    throw std::invalid_argument(
        "ConvStack needs conv, hidden and head layers of the MinAtar shape and a loaded BLAS");
  }
  return {layers.conv, layers.hidden};
}

}  // namespace

bool ConvStack::supports(const ConvQLayers& layers) {
  return layers.head && ConvTorso::supports(torso_layers(layers));
}

ConvStack::ConvStack(const ConvQLayers& layers, const std::vector<int64_t>& observation_shape,
                     float observation_scale)
    : torso_(checked_torso_layers(layers), observation_shape, observation_scale),
      actions_(layers.head->weight.size(0)) {
  if (layers.head->weight.size(1) != torso_.hidden_units()) {
    throw std::invalid_argument("ConvStack: the Q head does not take the hidden layer's outputs");
  }
}

void ConvStack::reserve(int batch) {
  if (batch <= capacity_) return;
  capacity_ = batch;
  q_.resize(static_cast<size_t>(batch * actions_));
  dq_.resize(q_.size());
}

void ConvStack::forward(const ConvQLayers& layers, const uint8_t* observations, int batch,
                        float* q) {
  const float* hidden_t = torso_.forward(torso_layers(layers), observations, batch);
  linear_head_forward(hidden_t, torso_.hidden_units(), batch, layers.head->weight.data_ptr<float>(),
                      layers.head->bias.data_ptr<float>(), actions_, q);
}

TdLoss ConvStack::td_gradient(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors) {
  prepare_gradient(layers, td.observations, td.size);
  return td_backward(layers, td, abs_td_errors);
}

void ConvStack::prepare_gradient(const ConvQLayers& layers, const uint8_t* observations,
                                 int batch) {
  reserve(batch);  // Before taking q_.data().
  forward(layers, observations, batch, q_.data());
  prepared_batch_ = batch;
}

TdLoss ConvStack::td_backward(const ConvQLayers& layers, const TdBatch& td, float* abs_td_errors) {
  if (td.size != prepared_batch_ || td.size <= 0) {
    throw std::logic_error("ConvStack::td_backward needs prepare_gradient() on the same batch");
  }
  prepared_batch_ = 0;
  const int batch = td.size;
  const TdLoss loss = td_loss_gradient(q_.data(), actions_, td, dq_.data(), abs_td_errors);
  // The hidden layer's output is the torso's last forward: prepare_gradient()'s batch.
  linear_head_backward(torso_.hidden_output(), torso_.hidden_units(), batch,
                       layers.head->weight.data_ptr<float>(), actions_, dq_.data(),
                       defined_gradient(layers.head->weight), defined_gradient(layers.head->bias),
                       torso_.hidden_gradient(), /*accumulate=*/false);
  torso_.backward(torso_layers(layers), batch);
  return loss;
}

}  // namespace rl::nn

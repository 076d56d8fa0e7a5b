#include "agents/common/recurrent_sequence.h"

#include <torch/autograd.h>

#include <memory>
#include <stdexcept>

namespace rl {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Keeps the layer (and with it the activations backward needs) in the autograd context.
struct LayerHolder : torch::CustomClassHolder {
  LayerHolder(nn::RecurrentLayer::Cell cell, int64_t input, int64_t hidden)
      : layer(cell, input, hidden) {}
  nn::RecurrentLayer layer;
};

nn::RecurrentWeights weights_of(const variable_list& p) {
  return {p[0].data_ptr<float>(), p[1].data_ptr<float>(), p[2].data_ptr<float>(),
          p[3].data_ptr<float>()};
}

struct RecurrentSequenceFunction : torch::autograd::Function<RecurrentSequenceFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& h0, const torch::Tensor& c0,
                               const torch::Tensor& starts, int64_t cell, const torch::Tensor& w_ih,
                               const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                               const torch::Tensor& b_hh) {
    const torch::Tensor x = input.contiguous();
    const int64_t steps = x.size(0), batch = x.size(1), hidden = w_hh.size(1);
    auto holder = c10::make_intrusive<LayerHolder>(static_cast<nn::RecurrentLayer::Cell>(cell),
                                                   x.size(2), hidden);
    const variable_list p{w_ih.contiguous(), w_hh.contiguous(), b_ih.contiguous(),
                          b_hh.contiguous()};
    torch::Tensor y = torch::empty({steps, batch, hidden}, torch::kFloat32);
    holder->layer.forward(weights_of(p), steps, batch, x.data_ptr<float>(), h0.data_ptr<float>(),
                          c0.data_ptr<float>(), starts.data_ptr<float>(), y.data_ptr<float>(),
                          nullptr, nullptr);
    // The layer points into x and starts: they stay alive with the context.
    ctx->saved_data["x"] = x;
    ctx->saved_data["starts"] = starts;
    ctx->saved_data["layer"] = c10::IValue::make_capsule(holder);
    ctx->save_for_backward(p);
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list p = ctx->get_saved_variables();
    auto holder =
        c10::static_intrusive_pointer_cast<LayerHolder>(ctx->saved_data["layer"].toCapsule());
    const torch::Tensor x = ctx->saved_data["x"].toTensor();
    const torch::Tensor dy = grad_outputs[0].contiguous();
    variable_list grads;
    for (const torch::Tensor& parameter : p) grads.push_back(torch::zeros_like(parameter));
    torch::Tensor dx = torch::empty_like(x);
    holder->layer.backward(weights_of(p), dy.data_ptr<float>(),
                           {grads[0].data_ptr<float>(), grads[1].data_ptr<float>(),
                            grads[2].data_ptr<float>(), grads[3].data_ptr<float>()},
                           dx.data_ptr<float>());
    return {dx,       torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            grads[0], grads[1],        grads[2],        grads[3]};
  }
};

}  // namespace

torch::Tensor recurrent_layer_sequence(nn::RecurrentLayer::Cell cell, const torch::Tensor& input,
                                       const torch::Tensor& h0, const torch::Tensor& c0,
                                       const torch::Tensor& starts,
                                       const std::vector<torch::Tensor>& parameters) {
  if (parameters.size() != 4 || input.dim() != 3 || starts.dim() != 2 ||
      starts.size(0) != input.size(0) || starts.size(1) != input.size(1)) {
    throw std::invalid_argument(
        "recurrent sequence: expected input [T, B, in], starts [T, B] and 4 parameters");
  }
  return RecurrentSequenceFunction::apply(
      input.to(torch::kFloat32), h0.contiguous(), c0.contiguous(), starts.contiguous(),
      static_cast<int64_t>(cell), parameters[0], parameters[1], parameters[2], parameters[3]);
}

}  // namespace rl

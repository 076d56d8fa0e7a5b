// The memory of recurrent actor-critic agents: an LSTM or GRU between the feed-forward torso
// and the policy and value heads (CleanRL's ppo_atari_lstm.py layout), with its state kept as a
// flat float row per env so that callers can hold it (agents/agent.h, RecurrentState).
//
// State layout of one env row: LSTM [h of layer 0..L-1, then c of layer 0..L-1], each `hidden`
// floats; GRU [h of layer 0..L-1]. With a separate critic memory (`critic: true`, SB3's
// enable_critic_lstm), the critic's rows of the same layout follow the actor's. Zero is the
// state at an episode's start.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace rl {

struct RecurrentOptions {
  std::string type = "none";    // none | lstm | gru
  int64_t hidden = 128;         // Units per layer.
  int64_t layers = 1;           // Stacked layers.
  int64_t sequence_length = 0;  // Truncation of back-propagation through time; 0: the rollout.
  bool critic = false;          // A memory of its own for the value head (else shared).
  // Units of the layers each head gets after the memory; empty: the heads read the memory.
  std::vector<int64_t> head_hidden;
  std::string head_activation = "tanh";  // tanh | relu, after each of those layers.
  // Initial bias of the LSTM's forget gate (Jozefowicz et al. 2015 use 1: the cell keeps its
  // contents at first); every other bias starts at zero. LSTM only.
  double forget_bias = 0.0;
  bool enabled() const { return type != "none"; }
};

// Reads the `recurrent:` mapping of an agent section ({type, hidden, layers, sequence_length,
// critic, head_hidden, head_activation, forget_bias});
// absent means type none. Throws ConfigError.
RecurrentOptions read_recurrent_options(ConfigSection& agent_section);

class RecurrentCoreImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument when `options` is not enabled.
  RecurrentCoreImpl(const RecurrentOptions& options, int64_t input_features);

  int64_t hidden() const { return options_.hidden; }
  bool separate_critic() const { return options_.critic; }
  // Whether the outputs are split between the heads: the actor's head_features() first, then
  // the critic's (with a separate critic memory or with layers per head); else both heads read
  // the same head_features() outputs.
  bool split_outputs() const { return options_.critic || !options_.head_hidden.empty(); }
  // Features each head reads: the last of head_hidden, else hidden.
  int64_t head_features() const {
    return options_.head_hidden.empty() ? options_.hidden : options_.head_hidden.back();
  }
  // Output features per env: head_features(), twice when split_outputs().
  int64_t output_features() const { return head_features() * (split_outputs() ? 2 : 1); }
  // The layers per head after the memory (Linear, activation, ...); null without head_hidden.
  const torch::nn::Sequential& actor_head_layers() const { return actor_head_layers_; }
  const torch::nn::Sequential& critic_head_layers() const { return critic_head_layers_; }
  int64_t state_size() const;     // Floats per env row.
  std::string signature() const;  // e.g. "lstm 128x1 -> tanh 64 per head", stored in checkpoints.

  // One step of B envs: features [B, input], state [B, state_size()] -> output [B,
  // output_features()]; the state after the step goes to `next_state` [B, state_size()].
  torch::Tensor step(const torch::Tensor& features, const torch::Tensor& state,
                     torch::Tensor& next_state);

  // T steps of B envs, time-major: features [T, B, input], `state` [B, state_size()] before the
  // first step, `starts` float [T, B] (1 where an episode starts at that step: the state is
  // zeroed before it). Returns the outputs [T, B, output_features()], the same as step() gives
  // while acting, with gradients through the whole sequence (to the features and the parameters,
  // not the stored state). Runs each layer over all T steps on BLAS (recurrent_sequence.h).
  torch::Tensor sequence(const torch::Tensor& features, const torch::Tensor& state,
                         const torch::Tensor& starts);

 private:
  // One of the memories (the actor's, or the critic's): an LSTM or a GRU module.
  struct Memory {
    torch::nn::LSTM lstm{nullptr};
    torch::nn::GRU gru{nullptr};
  };
  Memory make_memory(const std::string& name, int64_t input_features);
  int64_t memory_state_size() const;  // Floats per env row of one memory.
  // Without gradients (acting) step_memory runs the step on BLAS (nn::RecurrentLayer, the
  // kernel the training re-run uses, so that acting and re-run agree); with them, torch's module.
  torch::Tensor step_memory(Memory& memory, const torch::Tensor& features,
                            const torch::Tensor& state, torch::Tensor& next_state);
  torch::Tensor step_memory_blas(const Memory& memory, const torch::Tensor& features,
                                 const torch::Tensor& state, torch::Tensor& next_state);
  torch::Tensor sequence_memory(const Memory& memory, const torch::Tensor& features,
                                const torch::Tensor& state, const torch::Tensor& starts);
  torch::nn::Sequential make_head_layers(const std::string& name);
  // Fills the forget-gate slice of every LSTM layer's bias_ih with `value`.
  void set_forget_bias(double value);
  // The outputs from the memories' outputs (the same tensor twice for a shared memory), the
  // head layers applied to each when present, joined along the last dimension when split.
  torch::Tensor outputs(const torch::Tensor& actor, const torch::Tensor& critic);
  // torch's parameters of `layer`: weight_ih, weight_hh, bias_ih, bias_hh.
  static std::vector<torch::Tensor> layer_parameters(const Memory& memory, int64_t layer);

  RecurrentOptions options_;
  Memory actor_, critic_;  // critic_ is empty without a separate critic memory.
  torch::nn::Sequential actor_head_layers_{nullptr}, critic_head_layers_{nullptr};
};
TORCH_MODULE(RecurrentCore);

}  // namespace rl

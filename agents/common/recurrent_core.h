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
  bool enabled() const { return type != "none"; }
};

// Reads the `recurrent:` mapping of an agent section ({type, hidden, layers, sequence_length,
// critic});
// absent means type none. Throws ConfigError.
RecurrentOptions read_recurrent_options(ConfigSection& agent_section);

class RecurrentCoreImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument when `options` is not enabled.
  RecurrentCoreImpl(const RecurrentOptions& options, int64_t input_features);

  int64_t hidden() const { return options_.hidden; }
  bool separate_critic() const { return options_.critic; }
  // Output features per env: hidden, or 2 * hidden with a separate critic memory (the actor's
  // outputs, then the critic's).
  int64_t output_features() const { return options_.hidden * (options_.critic ? 2 : 1); }
  int64_t state_size() const;     // Floats per env row.
  std::string signature() const;  // e.g. "lstm 128x1", stored in checkpoints.

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
  // torch's parameters of `layer`: weight_ih, weight_hh, bias_ih, bias_hh.
  static std::vector<torch::Tensor> layer_parameters(const Memory& memory, int64_t layer);

  RecurrentOptions options_;
  Memory actor_, critic_;  // critic_ is empty without a separate critic memory.
};
TORCH_MODULE(RecurrentCore);

}  // namespace rl

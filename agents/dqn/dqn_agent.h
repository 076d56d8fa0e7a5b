// Deep Q-learning (Mnih et al. 2015) with the usual extensions, each switchable from YAML:
// Double DQN, dueling heads, n-step returns, prioritized replay, Polyak or hard target
// updates, Huber or MSE loss, gradient-norm clipping, Adam or centred RMSprop.
//
// Action masks: act() respects ActionBatch::legal_actions (greedy = argmax over the legal
// actions, exploration = uniform over them). The replay stores each transition's next-state
// mask (TransitionBatch::next_legal_actions), and once masks have been seen the TD targets take
// the max (double DQN: the argmax) over the next state's legal actions only. Truncated
// transitions bootstrap over all actions: the final state's mask is gone after the auto-reset.
#pragma once

#include <memory>

#include "agents/agent.h"
#include "agents/dqn/dqn_settings.h"
#include "agents/dqn/fast_cnn.h"
#include "agents/dqn/fast_mlp.h"
#include "agents/dqn/flat_optimizer.h"
#include "agents/dqn/q_network.h"
#include "core/replay_buffer.h"
#include "core/rng.h"
#include "core/thread_pool.h"

namespace rl {

class DqnAgent final : public Agent {
 public:
  // Throws std::invalid_argument when the action space is not Discrete or the observation
  // space does not suit the chosen torso.
  DqnAgent(const DqnSettings& settings, const AgentContext& context);

  std::string type() const override { return "dqn"; }
  std::string describe() const override;
  void act(std::span<const uint8_t> observations, int batch, ActMode mode,
           ActionBatch out) override;
  ActionValues action_values(std::span<const uint8_t> observation) override;
  void observe(const TransitionBatch& transitions) override;
  std::map<std::string, double> update(int64_t env_steps) override;
  std::vector<std::string> metric_names() const override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // Exploration epsilon after `env_steps` steps: epsilon_start until the decay starts (step 0
  // or learning_starts, per epsilon_decay_start), then linear to epsilon_end.
  double epsilon(int64_t env_steps) const;
  // Q-values of `batch` observations, [batch, actions] row-major (greedy inference).
  std::vector<float> q_values(std::span<const uint8_t> observations, int batch);
  // The values TD targets bootstrap from for `batch` next observations: max_a Q_target(s', a),
  // or Q_target(s', argmax_a Q_online(s', a)) with double DQN, a ranging over the legal actions
  // of `next_legal` (batch * actions bytes; empty: all actions). learn_step() uses the same
  // computation with the replayed masks once masks_targets().
  std::vector<float> bootstrap_values(std::span<const uint8_t> next_observations,
                                      std::span<const uint8_t> next_legal, int batch);
  // Whether observe() has received legal-action masks, so TD targets are masked.
  bool masks_targets() const { return masks_seen_; }
  const DqnSettings& settings() const { return settings_; }
  int64_t gradient_steps_done() const { return gradient_steps_done_; }

 private:
  // Float network input for `batch` raw observations (no copy for f32 without scaling).
  torch::Tensor to_input(const uint8_t* data, int batch) const;
  // Q-values for acting, [batch, actions] in q_buffer_: FastMlp for small MLP batches,
  // network_q() otherwise.
  const float* compute_q(std::span<const uint8_t> observations, int batch);
  // Q-values of `network` (online or target) into q: with `cnn` when not null, else LibTorch.
  void network_q(QNetworkImpl& network, const uint8_t* observations, int batch, float* q,
                 FastCnn* cnn);
  // One gradient step on a sampled batch; returns {loss, mean Q}.
  std::pair<double, double> learn_step(double beta);
  // The loss gradient on batch_ against targets_ into the parameters' gradients, |TD errors|
  // into td_errors_; return {loss, mean Q}. FastCnn's (after its prepare_gradient() on batch_)
  // or LibTorch autograd's.
  std::pair<double, double> cnn_gradient(int batch);
  std::pair<double, double> torch_gradient(int batch);
  // See bootstrap_values(); `legal` is null or batch * actions bytes; `values` gets batch floats.
  // Computed with `cnn` when not null (it must not be in use by another thread), else LibTorch.
  void next_state_values(const uint8_t* next_observations, const uint8_t* legal, int batch,
                         float* values, FastCnn* cnn);
  void update_target();
  bool ready_to_learn() const;
  // Throws std::invalid_argument unless `masks` holds batch rows of num_actions_ bytes, each
  // with at least one legal action.
  void check_masks(std::span<const uint8_t> masks, int batch) const;

  DqnSettings settings_;
  AgentContext context_;
  int64_t num_actions_ = 0;
  size_t observation_bytes_ = 0;
  double observation_scale_ = 1.0;
  QNetwork online_{nullptr};
  QNetwork target_{nullptr};
  std::unique_ptr<FlatOptimizer> optimizer_;
  ReplayBuffer replay_;
  ReplayBatch batch_;
  Rng rng_;

  int64_t env_steps_ = 0;  // Latest step count passed to update().
  int64_t gradient_steps_done_ = 0;
  int64_t next_train_step_ = 0;        // update() learns once env_steps reaches this.
  int64_t next_target_step_ = 0;       // ... and updates the target network.
  std::vector<uint8_t> explore_rows_;  // Scratch for act().
  FastMlp fast_;                       // CPU copy of the online MLP for acting.
  bool fast_enabled_ = false;
  bool fast_stale_ = true;             // The online network changed since fast_ was filled.
  bool masks_seen_ = false;            // observe() got legal-action masks: mask the TD targets.
  std::unique_ptr<FastCnn> fast_cnn_;  // For plain CNN Q-networks on u8 observations.
  // learner_threads: 2: the target values' own FastCnn (own buffers) and the second thread.
  std::unique_ptr<FastCnn> target_cnn_;
  std::unique_ptr<ThreadPool> learner_pool_;
  std::vector<float> q_buffer_, input_buffer_;
  std::vector<float> next_target_q_, next_online_q_, targets_, td_errors_;  // learn_step scratch.
};

// Adds "dqn" to `registry` (called by AgentRegistry::global()).
void register_dqn_agent(AgentRegistry& registry);

}  // namespace rl

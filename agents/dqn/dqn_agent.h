// Deep Q-learning (Mnih et al. 2015) with the usual extensions, each switchable from YAML:
// Double DQN, dueling heads, n-step returns, prioritized replay, Polyak or hard target
// updates, Huber or MSE loss, gradient-norm clipping, Adam or centred RMSprop.
//
// Action masks: act() respects ActionBatch::legal_actions (greedy = argmax over the legal
// actions, exploration = uniform over them). The replay stores each transition's next-state
// mask (TransitionBatch::next_legal_actions), and once masks have been seen the TD targets take
// the max (double DQN: the argmax) over the next state's legal actions only. Truncated
// transitions bootstrap over all actions: the final state's mask is gone after the auto-reset.
//
// The TD targets and the loss are written out in agents/dqn/td_learning.h; how Q-values and
// gradients are computed (the engine in agents/common/nn, or LibTorch) is a QCompute chosen once at
// construction (agents/dqn/q_compute.h).
#pragma once

#include <memory>

#include "agents/agent.h"
#include "agents/common/nn/optimizer.h"
#include "agents/common/nn/polyak.h"
#include "agents/common/preprocess.h"
#include "agents/dqn/dqn_settings.h"
#include "agents/dqn/q_compute.h"
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
  ReplayBuffer* replay_buffer() override { return &replay_; }

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
  // The online network and the observation input it is fed through (for export).
  const QNetwork& network() const { return online_; }
  const ObservationInput& observation_input() const { return input_; }
  int64_t gradient_steps_done() const { return gradient_steps_done_; }

  // Data-parallel training (agents/distributed/data_parallel.h): copies rank 0's networks to
  // every rank, draws rank-distinct exploration and replay samples, and averages the gradients
  // over the ranks before each optimizer step (each rank samples batch_size from its own
  // replay). Every rank must call it at the same point; `collectives` must outlive the training.
  void set_collectives(distributed::Collectives* collectives);

 private:
  // Throws std::invalid_argument unless `observations` holds `batch` observations.
  void check_observations(std::span<const uint8_t> observations, int batch) const;
  // Q-values of `batch` observations for acting, [batch, actions] in q_buffer_.
  const float* acting_q(std::span<const uint8_t> observations, int batch);
  // One gradient step on a sampled batch; returns {loss, mean Q}.
  std::pair<double, double> learn_step(double beta);
  // The TD targets of the `batch` transitions in batch_ into targets_, computed with `compute`.
  void compute_td_targets(QCompute& compute, int batch);
  // Q_target(s') into next_target_q_ and, with double DQN, Q_online(s') into next_online_q_
  // for `batch` next observations.
  void next_state_q(QCompute& compute, const uint8_t* next_observations, int batch);
  void update_target();
  bool ready_to_learn() const;

  DqnSettings settings_;
  AgentContext context_;
  int64_t num_actions_ = 0;
  ReplayBuffer replay_;
  ObservationInput input_;
  QNetwork online_{nullptr};
  QNetwork target_{nullptr};
  std::unique_ptr<QCompute> compute_;
  // learner_threads: 2: a second QCompute (its own buffers) for the target values, computed on
  // the second thread of learner_pool_ while compute_ runs the online forward pass.
  std::unique_ptr<QCompute> target_compute_;
  std::unique_ptr<ThreadPool> learner_pool_;
  std::unique_ptr<FlatOptimizer> optimizer_;
  std::unique_ptr<nn::PolyakAverager> target_averager_;  // online_ into target_.
  ReplayBatch batch_;
  Rng rng_;

  int64_t env_steps_ = 0;  // Latest step count passed to update().
  int64_t gradient_steps_done_ = 0;
  int64_t next_train_step_ = 0;        // update() learns once env_steps reaches this.
  int64_t next_target_step_ = 0;       // ... and updates the target network.
  bool masks_seen_ = false;            // observe() got legal-action masks: mask the TD targets.
  std::vector<uint8_t> explore_rows_;  // Scratch for act().
  std::vector<float> q_buffer_;        // act() and q_values().
  std::vector<float> next_target_q_, next_online_q_, targets_, td_errors_;  // learn_step scratch.
};

// Adds "dqn" to `registry` (called by AgentRegistry::global()).
void register_dqn_agent(AgentRegistry& registry);

}  // namespace rl

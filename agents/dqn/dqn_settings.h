// Every setting of the DQN agent, read strictly from the `agent:` section of a config;
// docs/configs.md lists them all. The defaults are CleanRL's dqn.py (120-84 MLP, Adam 2.5e-4,
// batch 128, replay 10k, learning from step 10k, a gradient step every 10 env steps, hard
// target copy every 500, epsilon 1 -> 0.05 over half the run) except three that are not
// CleanRL's: the Huber loss and gradient-norm clipping at 10 (Stable-Baselines3's DQN
// defaults; CleanRL uses the squared error and no clipping) and double DQN on (van Hasselt et
// al. 2016; CleanRL's dqn.py is plain DQN). loss: mse, max_grad_norm: 0 and double_dqn: false
// give CleanRL's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agents/common/agent_settings.h"
#include "core/config.h"

namespace rl {

struct DqnSettings {
  // Network.
  std::string torso = "auto";               // auto | mlp | cnn
  std::vector<int64_t> hidden = {120, 84};  // MLP hidden layer sizes.
  int64_t cnn_channels = 16;                // CNN: 3x3 stride-1 conv channels.
  int64_t cnn_hidden = 128;                 // CNN: fully connected layer after the conv.
  bool dueling = false;                     // Separate value and advantage streams.

  // Learning.
  double gamma = 0.99;
  std::string loss = "huber";   // huber | mse (CleanRL: mse)
  double max_grad_norm = 10.0;  // Gradient-norm clipping; 0 disables it (CleanRL: none).
  bool double_dqn = true;       // (CleanRL: false)
  int64_t n_step = 1;
  int64_t batch_size = 128;
  int64_t buffer_size = 10000;
  int64_t learning_starts = 10000;  // Env steps of pure exploration before updates.
  int64_t train_frequency = 10;     // Env steps between updates.
  int64_t gradient_steps = 1;       // Gradient steps per update.
  // 2: the target network's values for a batch are computed on a second thread while the
  // online network's forward pass runs (engine backend only; same results as 1).
  int64_t learner_threads = 1;

  // Target network.
  int64_t target_update_period = 500;  // Env steps between target updates.
  double tau = 1.0;                    // 1: hard copy; < 1: Polyak averaging weight.

  // Optimizer.
  // adam | rmsprop (centred, as in DQN-Nature); rmsprop_alpha and rmsprop_eps are DQN-Nature's.
  OptimizerSettings optimizer{"adam", 2.5e-4, 1e-8, 0.95, 0.01};
  double rmsprop_momentum = 0.0;  // PyTorch RMSprop momentum (MinAtar's DQN: 0.95); rmsprop only.

  // Exploration.
  double epsilon_start = 1.0;
  double epsilon_end = 0.05;
  double exploration_fraction = 0.5;  // Of train.total_steps, used when exploration_steps = 0.
  int64_t exploration_steps = 0;      // Linear decay length in env steps; 0: use the fraction.
  // When the linear decay starts: "first_step" (env step 0) or "learning_starts" (epsilon stays
  // at epsilon_start until learning_starts, as in DQN-Nature and MinAtar's dqn.py).
  std::string epsilon_decay_start = "first_step";
  double eval_epsilon = 0.0;  // Epsilon of greedy evaluation (0 = purely greedy).

  // Prioritized replay.
  bool prioritized = false;
  double priority_alpha = 0.6;
  double priority_beta = 0.4;  // Initial importance-sampling exponent, annealed to 1.
  double priority_eps = 1e-6;

  // Observation preprocessing.
  double observation_scale = 0.0;  // Multiplier for observations; 0: auto (1/255 for u8 0..255).

  // auto: the small-network engine (agents/common/nn: MLP torsos with plain or dueling heads,
  // non-dueling CNNs on u8 observations) where it applies and a BLAS is loaded, else LibTorch;
  // torch: always LibTorch autograd.
  std::string backend = "auto";
};

// Reads and validates the settings (every key of the section must be known). Throws
// ConfigError naming the file, line, key and valid values.
DqnSettings read_dqn_settings(ConfigSection& section);

}  // namespace rl

#include "agents/dqn/dqn_settings.h"

namespace rl {

DqnSettings read_dqn_settings(ConfigSection& s) {
  DqnSettings d;
  d.torso = s.get_choice("torso", d.torso,
                         "Q-network torso: mlp, cnn (MinAtar-style, for [C,H,W] observations) "
                         "or auto (cnn for 3-D observations, else mlp)",
                         {"auto", "mlp", "cnn"});
  d.hidden = s.get_int_list("hidden", d.hidden, "MLP hidden layer sizes", 1, 65536);
  d.cnn_channels =
      s.get_int("cnn_channels", d.cnn_channels, "CNN: channels of the 3x3 stride-1 conv", 1, 1024);
  d.cnn_hidden = s.get_int("cnn_hidden", d.cnn_hidden,
                           "CNN: units of the fully connected layer after the conv", 1, 65536);
  d.dueling = s.get_bool("dueling", d.dueling, "Dueling head: Q = V + A - mean(A)");

  d.gamma = s.get_float("gamma", d.gamma, "Discount factor", 0.0, 1.0);
  d.loss = s.get_choice("loss", d.loss, "TD loss: huber (smooth L1) or mse", {"huber", "mse"});
  d.max_grad_norm =
      s.get_float("max_grad_norm", d.max_grad_norm,
                  "Clip the global gradient norm to this; 0 disables clipping", 0.0, 1e9);
  d.double_dqn = s.get_bool("double_dqn", d.double_dqn,
                            "Double DQN: the online net picks the next action, the target net "
                            "values it");
  d.n_step = s.get_int("n_step", d.n_step, "n-step returns (1 = one-step TD)", 1, 100);
  d.batch_size = s.get_int("batch_size", d.batch_size, "Transitions per gradient step", 1, 65536);
  d.buffer_size = s.get_int("buffer_size", d.buffer_size, "Replay buffer capacity (transitions)", 1,
                            kMaxStepSetting);
  d.learning_starts =
      s.get_int("learning_starts", d.learning_starts,
                "Env steps of pure exploration before learning starts", 0, kMaxStepSetting);
  d.train_frequency = s.get_int("train_frequency", d.train_frequency,
                                "Env steps (summed over envs) between updates", 1, kMaxStepSetting);
  d.gradient_steps =
      s.get_int("gradient_steps", d.gradient_steps, "Gradient steps per update", 1, 1000);
  d.learner_threads = s.get_int("learner_threads", d.learner_threads,
                                "2 computes the target network's values on a second core while "
                                "the online network runs (engine backend only; identical "
                                "results); keep train.threads at 1",
                                1, 2);

  d.target_update_period =
      s.get_int("target_update_period", d.target_update_period,
                "Env steps between target-network updates", 1, kMaxStepSetting);
  d.tau = s.get_float("tau", d.tau,
                      "Target update weight: 1 copies the online net (hard update), < 1 is "
                      "Polyak averaging",
                      1e-6, 1.0);

  d.optimizer = read_optimizer_settings(s, d.optimizer, "adam, or rmsprop (centred, as in DQN)");
  d.rmsprop_momentum = s.get_float("rmsprop_momentum", d.rmsprop_momentum,
                                   "RMSprop momentum (PyTorch semantics: buf = momentum * buf + "
                                   "g / avg; p -= lr * buf); must be < 1",
                                   0.0, 0.999999);
  if (d.rmsprop_momentum > 0 && d.optimizer.kind != "rmsprop") {
    s.fail("rmsprop_momentum",
           "momentum applies to optimizer: rmsprop only, not " + d.optimizer.kind);
  }

  d.epsilon_start =
      s.get_float("epsilon_start", d.epsilon_start, "Initial exploration epsilon", 0.0, 1.0);
  d.epsilon_end = s.get_float("epsilon_end", d.epsilon_end, "Final exploration epsilon", 0.0, 1.0);
  d.exploration_fraction =
      s.get_float("exploration_fraction", d.exploration_fraction,
                  "Fraction of train.total_steps over which epsilon decays linearly", 0.0, 1.0);
  d.exploration_steps = s.get_int("exploration_steps", d.exploration_steps,
                                  "Epsilon decay length in env steps; 0 uses "
                                  "exploration_fraction instead",
                                  0, kMaxStepSetting);
  d.epsilon_decay_start =
      s.get_choice("epsilon_decay_start", d.epsilon_decay_start,
                   "When the linear epsilon decay starts: first_step (env step 0) or "
                   "learning_starts (epsilon_start until learning begins)",
                   {"first_step", "learning_starts"});
  d.eval_epsilon =
      s.get_float("eval_epsilon", d.eval_epsilon,
                  "Epsilon used when acting greedily (evaluation, watching)", 0.0, 1.0);

  d.prioritized = s.get_bool("prioritized", d.prioritized,
                             "Prioritized experience replay (proportional, sum tree)");
  d.priority_alpha =
      s.get_float("priority_alpha", d.priority_alpha, "PER priority exponent", 0.0, 1.0);
  d.priority_beta =
      s.get_float("priority_beta", d.priority_beta,
                  "PER initial importance exponent, annealed to 1 over training", 0.0, 1.0);
  d.priority_eps =
      s.get_float("priority_eps", d.priority_eps, "PER: added to |TD error|", 0.0, 1.0);

  d.observation_scale = s.get_float("observation_scale", d.observation_scale,
                                    "Observation multiplier; 0 = auto (1/255 for u8 images "
                                    "with values up to 255, else 1)",
                                    0.0, 1e6);
  d.backend = s.get_choice("backend", d.backend,
                           "Network compute: auto (the small-network engine where it applies: "
                           "MLP torsos, non-dueling CNNs on u8 observations) or torch (always "
                           "LibTorch)",
                           {"auto", "torch"});
  return d;
}

}  // namespace rl

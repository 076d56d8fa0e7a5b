// Settings several agents read from their `agent:` section, read by one function each so that a
// key means the same in every agent: the network torso, the optimizer, and the bound on step
// counts and capacities.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

namespace rl {

// Upper bound of every step count and capacity a config may set (10^12: beyond any run).
inline constexpr int64_t kMaxStepSetting = 1'000'000'000'000;

struct TorsoOptions {
  // mlp | minatar_cnn | nature_cnn | auto (auto: MinAtar CNN for [C, H, W] observations of at
  // most 16x16, Nature CNN for larger ones, else MLP).
  std::string kind = "auto";
  std::vector<int64_t> hidden = {64, 64};  // MLP layers.
  std::string activation = "tanh";         // MLP activation: tanh | relu (CNNs use relu).
  int64_t cnn_channels = 16;               // MinAtar CNN conv channels.
  int64_t cnn_hidden = 128;                // Units of the CNNs' fully connected layer.
};

// Reads torso, hidden, activation, cnn_channels and cnn_hidden; `defaults` carries the agent's
// own defaults and `kind_note` (may be empty) is added to the torso key's description. Throws
// ConfigError.
TorsoOptions read_torso_options(ConfigSection& section, const TorsoOptions& defaults,
                                const std::string& kind_note);

struct OptimizerSettings {
  std::string kind = "adam";  // adam | rmsprop
  double lr = 3e-4;
  double adam_eps = 1e-8;
  double rmsprop_alpha = 0.99;
  double rmsprop_eps = 1e-5;
};

// Reads optimizer (described by `kind_doc`), lr, adam_eps, rmsprop_alpha and rmsprop_eps.
// Throws ConfigError.
OptimizerSettings read_optimizer_settings(ConfigSection& section, const OptimizerSettings& defaults,
                                          const std::string& kind_doc);

}  // namespace rl

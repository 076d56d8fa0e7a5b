// Exports a trained agent as a self-contained TorchScript policy (`rlexport`, docs/export.md):
// one file holding the acting network's weights, the observation preprocessing the agent
// applies (u8 scaling, the statistics of a normalize_observation wrapper) and the greedy action
// rule, loadable with torch::jit::load in C++ and torch.jit.load in Python without rlcade.
//
// The module's input is a batch of observations as the configured env produces them *below* a
// normalize_observation wrapper (the module normalizes them with the frozen statistics); any
// other observation wrapper (frame_stack) stays the caller's job, and is named in the
// `env_wrappers` attribute. Attributes (read them with module.attr(name) / getattr):
//   rlcade_format: str  "rlcade-policy-1"      agent_type: str   "dqn", "ppo", "a2c", "sac"
//   env_id: str, env_params: str ("k=v, ...")  env_wrappers: str  the configured wrappers
//   observation_shape: List[int] (no batch)    observation_dtype: str "u8" | "f32"
//   observation_low / observation_high: Tensor bounds (buffers)
//   observation_normalized: bool               observation_scale: float (after normalizing)
//   action_kind: str "discrete" | "box"        num_actions: int (discrete; 0 for box)
//   action_shape: List[int] (box; [] for discrete)
//   action_low / action_high: Tensor (box bounds; empty for discrete)
//   recurrent: bool, state_size: int (floats of memory per env; 0 for feed-forward policies)
//   dense_*: the fast path's plan (agents/export/dense_plan.h)
// Methods: preprocess(obs) -> float input of the network, plus the agent's methods
// (agents/export/agent_scripts.h): forward(obs[, legal]) -> actions and the values behind them;
// recurrent policies add initial_state() and step(obs, state) (agents/export/recurrent_scripts.h).
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <string>

#include "agents/experiment.h"

namespace rl {

// The format tag stored in every exported policy (attribute rlcade_format).
inline constexpr char kPolicyFormat[] = "rlcade-policy-1";

// Builds the TorchScript policy of `experiment`'s agent. Throws std::invalid_argument when the
// agent or its network cannot be exported (naming what), e.g. a frame_stack wrapper applied after
// normalize_observation.
torch::jit::Module export_policy(Experiment& experiment);

// Writes `policy` to `path` atomically. Throws FileWriteError naming the path.
void save_policy(const torch::jit::Module& policy, const std::string& path);

}  // namespace rl

// The agent-specific half of an exported policy: each function copies an agent's acting
// network into `module` and returns the TorchScript source of the methods that act with it.
// Every method takes batch-first observations as the policy file receives them and starts with
// self.preprocess(obs) (written by agents/export/policy_export.cpp), so the networks see exactly
// what the agent's ObservationInput feeds them.
//
// Methods (all batch-first; B observations in, B rows out):
//   DQN:              q_values(obs) -> [B, n]; forward(obs, legal=None) -> [B] int64, the argmax
//                     of Q over the legal actions (legal: [B, n] bool/u8, 1 = legal).
//   A2C/PPO discrete: logits(obs) -> [B, n]; value(obs) -> [B]; forward(obs, legal=None) -> [B]
//                     int64, the most probable legal action (the agent's Categorical mode).
//   A2C/PPO Box:      mean(obs) -> [B, D], the Gaussian mean; value(obs) -> [B];
//                     forward(obs) -> [B, D], the mean clipped to the action bounds.
//   A2C/PPO with a recurrent core: initial_state, step, ... (agents/export/recurrent_scripts.h).
//   SAC discrete:     logits(obs); q_values(obs) = min(Q1, Q2) -> [B, n]; forward(obs, legal=None).
//   SAC Box:          mean(obs) -> [B, D] (before tanh); forward(obs) -> [B, D], the squashed
//                     mean scaled to the action bounds: center + half_range * tanh(mean).
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <string>

#include "agents/agent.h"
#include "agents/common/preprocess.h"
#include "agents/export/dense_plan.h"

namespace rl::exporting {

// Writes the methods for `agent` (DqnAgent, A2cAgent/PpoAgent, SacAgent). Throws
// std::invalid_argument for an agent type that has no exporter, naming it.
std::string agent_methods(torch::jit::Module& module, Agent& agent, const Space& action_space);

// The dense plan of `agent`'s action path (agents/export/dense_plan.h): plain MLP policies
// without a dueling head or recurrent core; an empty path for every other network.
DensePath dense_path(Agent& agent, const Space& action_space);

// The ObservationInput through which `agent` feeds its networks (its scale is exported). Throws
// std::invalid_argument as agent_methods() does.
const ObservationInput& observation_input(Agent& agent);

}  // namespace rl::exporting

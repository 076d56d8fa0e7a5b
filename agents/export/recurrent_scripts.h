// The methods of exported recurrent actor-critic policies (A2C/PPO with agent.recurrent: an LSTM
// or GRU after the torso, agents/common/recurrent_core.h). The recurrent layers are written out
// gate by gate (linear, sigmoid, tanh), so the module also exports to ONNX.
//
// The state is the agent's flat row per env (RecurrentState): [B, state_size], LSTM
// [h of layers 0..L-1, c of layers 0..L-1], GRU [h of layers 0..L-1]; zeros start an episode.
// Methods (batch-first, B envs):
//   initial_state(batch: int = 1) -> [batch, state_size] zeros.
//   step_outputs(obs, state) -> (logits [B, n] or Gaussian mean [B, D], value [B], next state)
//   act_step(obs, state) -> (action, next state): the greedy action, as the agent's greedy act()
//   act_step_masked(obs, state, legal) -> (action, next state)    (Discrete actions only)
//   step(obs, state, legal=None) -> (action, next state)          (legal: Discrete only)
//   forward(obs, legal=None) -> action: step() from a fresh state (each observation the first
//       of its episode); acting over an episode needs step().
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <string>

#include "agents/common/actor_critic.h"

namespace rl::exporting {

// Copies `net`'s weights into `module` and returns the methods above. `net` must be recurrent.
std::string recurrent_actor_critic_methods(torch::jit::Module& module, ActorCriticImpl& net,
                                           bool discrete);

}  // namespace rl::exporting

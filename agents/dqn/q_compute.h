// How the DQN agent computes Q-values and the TD-loss gradient. One implementation is chosen
// when the agent is built (make_q_compute), so the agent's update reads the same whichever runs:
//  - the engine (agents/common/nn): MLP torsos on DenseStack with plain or dueling Q heads, and
//    non-dueling CNNs on u8 observations (the MinAtar configs) on ConvStack. Forward and
//    backward passes with direct BLAS calls on the network's own parameters, in buffers sized
//    once: no allocation per step.
//  - LibTorch (every Q-network; agent.backend: torch, or what the engine does not cover):
//    forward passes and autograd.
// The two agree to float rounding (tests/agents/dqn_engine_test.cpp, conv_stack_test.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agents/common/preprocess.h"
#include "agents/dqn/q_network.h"
#include "agents/dqn/td_learning.h"

namespace rl {

class QCompute {
 public:
  virtual ~QCompute() = default;

  // Q-values of `network` (the online or the target network) for `batch` raw observations into
  // q ([batch, actions] row-major). What the TD targets are computed from, and what acting
  // uses.
  virtual void q_values(QNetworkImpl& network, const uint8_t* observations, int batch,
                        float* q) = 0;

  // The TD-loss gradient in two halves, so that the targets can be computed meanwhile (on
  // another thread, with another QCompute): the online network's forward pass on `batch`
  // replayed observations, then the loss of that batch against td.targets (td_learning.h), its
  // gradient written into the .grad() of `online`'s parameters (overwriting them), and
  // |Q(s, a) - y| into abs_td_errors (td.size floats). td.observations and td.size must be the
  // ones just passed to forward_for_gradient().
  virtual void forward_for_gradient(QNetworkImpl& online, const uint8_t* observations,
                                    int batch) = 0;
  virtual TdLoss td_gradient(QNetworkImpl& online, const TdBatch& td, float* abs_td_errors) = 0;

  // Whether a second instance may compute target Q-values while this one runs
  // forward_for_gradient() (separate buffers, no autograd involved).
  virtual bool runs_beside_another() const = 0;
  // "engine" or "torch", for the agent's description.
  virtual std::string backend() const = 0;
};

// Whether the engine computes `network` on these observations (and a BLAS is loaded).
bool engine_applies(const QNetworkImpl& network, const Space& observations);

// The engine when `use_engine` and engine_applies(), else LibTorch. `input` turns raw
// observations into the network's float input.
std::unique_ptr<QCompute> make_q_compute(const QNetworkImpl& network, const Space& observations,
                                         const ObservationInput& input, bool use_engine);

}  // namespace rl

// How the DQN agent computes Q-values and the TD-loss gradient. One implementation is chosen
// when the agent is built (make_q_compute), so the agent's update reads the same whichever runs:
//  - LibTorch (every Q-network): forward passes and autograd. For MLPs, acting on a few
//    observations at a time goes through FastMlp, a plain C++ copy of the weights, since
//    LibTorch's dispatch dominates such small products.
//  - FastCnn (non-dueling CNN Q-networks on u8 observations, the MinAtar configs): direct BLAS
//    calls on the network's own parameters for the forward pass and the TD-loss gradient.
// The two agree to float rounding (tests/agents/fast_cnn_test.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "agents/common/preprocess.h"
#include "agents/dqn/q_network.h"
#include "agents/dqn/td_learning.h"

namespace rl {

class QCompute {
 public:
  virtual ~QCompute() = default;

  // Q-values of `network` (the online or the target network) for `batch` raw observations into
  // q ([batch, actions] row-major). What the TD targets are computed from.
  virtual void q_values(QNetworkImpl& network, const uint8_t* observations, int batch,
                        float* q) = 0;
  // Q-values of the online network for choosing actions; the same numbers as q_values() up to
  // float rounding, possibly by a faster route for small batches.
  virtual void acting_q_values(QNetworkImpl& online, const uint8_t* observations, int batch,
                               float* q) {
    q_values(online, observations, batch, q);
  }
  // Call after the online network's weights change (a gradient step, a loaded checkpoint).
  virtual void online_changed() {}

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
};

// FastCnn when it supports `network` and the observations are u8, else LibTorch. `input`
// turns raw observations into the network's float input.
std::unique_ptr<QCompute> make_q_compute(const QNetworkImpl& network, const Space& observations,
                                         const ObservationInput& input);

}  // namespace rl

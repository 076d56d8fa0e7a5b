// The collective operations data-parallel training needs, as an interface: GlooGroup
// (gloo_group.h) implements them over c10d's ProcessGroupGloo; agents and the trainer only see
// this. Every rank must make the same calls in the same order (as with any collective); a call
// fails with DistributedError when another rank died, stopped answering, or the timeout passed.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace rl::distributed {

// A collective or the rendezvous failed: the message names the rank that is missing when it
// is known, and what to do.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Collectives {
 public:
  virtual ~Collectives() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // Replaces the gradient of every tensor in `parameters` by its mean over the ranks (an
  // undefined gradient counts as zeros and becomes defined).
  virtual void average_gradients(const std::vector<at::Tensor>& parameters) = 0;
  // The same, weighted: each rank's gradient counts `weight` times (its rows, when the ranks'
  // minibatches differ in size), so the result is sum(weight_r x gradient_r) / sum(weight_r).
  // The weights ride in the gradients' all-reduce. `weight` must be positive.
  virtual void average_gradients(const std::vector<at::Tensor>& parameters, double weight) = 0;
  // Called during a backward pass once the gradients of `parameters` are final: they do not
  // change before the next average_gradients. A group that overlaps communication with compute
  // (GlooGroup with RLCADE_COLLECTIVES=direct_overlap) starts summing them on another thread;
  // the next unweighted average_gradients then sums the other gradients and waits for these,
  // with the same result as without the call. Others ignore it (the default). Every rank must
  // make the same calls.
  virtual void gradients_ready(const std::vector<at::Tensor>& parameters) {}
  // Replaces `values` by their element-wise sum over the ranks.
  virtual void sum(std::span<double> values) = 0;
  // Copies rank `root`'s `tensors` into every other rank's (same shapes and types everywhere).
  virtual void broadcast(const std::vector<at::Tensor>& tensors, int root) = 0;

  // A counter shared by the ranks outside the collectives (no rank waits for another): adds
  // `amount` to the counter `key` (created at 0) and returns its new value; amount 0 reads it.
  virtual int64_t add_to_counter(const std::string& key, int64_t amount) = 0;
  // Removes the counter `key` (when no rank reads it any more).
  virtual void remove_counter(const std::string& key) = 0;
};

}  // namespace rl::distributed

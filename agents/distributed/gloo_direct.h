// Sums over the ranks run by Gloo's ring all-reduce in the calling thread, on connections in
// Gloo's synchronous mode: the thread that asks for the sum writes to and blocks reading from
// the sockets itself.
//
// Why: ProcessGroupGloo runs every collective on a worker thread of its own, and its Gloo
// connections are served by Gloo's event-loop thread, so one all-reduce between 2 ranks is a
// chain of hand-offs (caller -> worker -> event loop -> worker -> caller), each a sleep and a
// wake-up that, on a machine with a core per rank, waits for a core the other threads hold.
// Here the only wake-up is the kernel's, when the other rank's data arrives.
//
// Only for 2 ranks: the ring adds the other ranks' buffers to each rank's own in that rank's
// order, which gives every rank the same bits only when there are two (a + b == b + a).
//
// The pairs of this context belong to it alone (GlooGroup keeps ProcessGroupGloo for the
// broadcasts): every rank must make the same calls in the same order, from one thread. The
// constructor sets SIGPIPE to be ignored when it has its default action (writes to a rank that
// died then fail with an error instead of ending the process).
#pragma once

#include <c10/util/intrusive_ptr.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agents/distributed/gradient_dtype.h"

namespace c10d {
class Store;
}
namespace gloo::transport {
class Device;
}

namespace rl::distributed {

class DirectGloo {
 public:
  // Connects every pair of ranks through `store` (keys under `store_prefix`: each context of
  // a process needs its own, the same on every rank) on `device`. With `busy_poll`, a rank waiting
  // for data spins on the socket instead of sleeping in a blocking read: no wake-up, but a core
  // held for as long as it waits (also while another rank evaluates), so only for ranks that each
  // have a core to themselves. Throws what Gloo throws (gloo::Exception, std::runtime_error) when a
  // rank does not connect within `timeout`.
  DirectGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
             const std::shared_ptr<gloo::transport::Device>& device,
             std::chrono::milliseconds timeout, bool busy_poll,
             const std::string& store_prefix = "rlcade/direct");
  ~DirectGloo();

  // Replaces data[0..count) by its element-wise sum over the ranks. Throws gloo::Exception (a
  // std::runtime_error) when a connection fails or times out.
  void sum(float* data, int64_t count);
  void sum(double* data, int64_t count);
  // The same, without copying data[0..count) in and out of a buffer of this object: the ring
  // reduces it where it is, so it must stay allocated at this address as long as this object
  // lives (the first call with an address registers it; e.g. the gradients' flat buffer).
  void sum_in_place(float* data, int64_t count);
  // The same for 16-bit floats (bit patterns of `format`): each pair of elements is widened to
  // float, added and rounded back to nearest even, so with 2 ranks every rank gets the same bits.
  void sum_in_place(uint16_t* data, int64_t count, GradientDtype format);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rl::distributed

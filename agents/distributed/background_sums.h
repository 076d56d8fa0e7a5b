// Gradient sums on a thread of their own, so that a backward pass can go on computing while
// the gradients it has finished are summed over the ranks (what PyTorch DDP does with its
// gradient buckets). The sums run on a DirectGloo context of their own (its own pairs), so
// they never share a connection with the sums of the calling thread.
//
// One sum at a time: start() hands a range of floats to the thread, wait() blocks until it is
// summed in place over the ranks. Every rank must start the same sums in the same order. The
// range must stay allocated and untouched until wait() returns (it is registered with Gloo on
// its first use, as DirectGloo::sum_in_place does: keep it at the same address for the run).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "agents/distributed/gloo_direct.h"

namespace rl::distributed {

class BackgroundSums {
 public:
  explicit BackgroundSums(std::unique_ptr<DirectGloo> sums);
  // Waits for a sum under way (Gloo's timeout bounds it), then ends the thread.
  ~BackgroundSums();
  BackgroundSums(const BackgroundSums&) = delete;
  BackgroundSums& operator=(const BackgroundSums&) = delete;

  // Starts replacing data[0..count) by its sum over the ranks. Throws std::logic_error while
  // another sum is under way (start, then wait, then start again).
  void start(float* data, int64_t count);
  // Blocks until the started sum is done (returns at once when none was started). Rethrows
  // what the sum threw (gloo::Exception for a closed connection or a timeout), once.
  void wait();
  // How long the last finished sum took on the thread, in seconds (waiting for the other
  // ranks included); valid after wait().
  double last_sum_seconds() const;

 private:
  void serve();

  std::unique_ptr<DirectGloo> sums_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  enum class Phase { kIdle, kRequested, kDone } phase_ = Phase::kIdle;
  float* data_ = nullptr;
  int64_t count_ = 0;
  std::exception_ptr error_;
  double last_seconds_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // Last: starts once everything above exists.
};

}  // namespace rl::distributed

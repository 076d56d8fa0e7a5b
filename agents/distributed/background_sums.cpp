#include "agents/distributed/background_sums.h"

#include <chrono>
#include <stdexcept>
#include <utility>

namespace rl::distributed {

BackgroundSums::BackgroundSums(std::unique_ptr<DirectGloo> sums)
    : sums_(std::move(sums)), thread_([this] { serve(); }) {}

BackgroundSums::~BackgroundSums() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return phase_ != Phase::kRequested; });
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BackgroundSums::start(float* data, int64_t count) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (phase_ != Phase::kIdle) {
      throw std::logic_error("BackgroundSums::start while another sum is under way");
    }
    data_ = data;
    count_ = count;
    error_ = nullptr;
    phase_ = Phase::kRequested;
  }
  changed_.notify_all();
}

void BackgroundSums::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return phase_ != Phase::kRequested; });
  phase_ = Phase::kIdle;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

double BackgroundSums::last_sum_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_seconds_;
}

void BackgroundSums::serve() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || phase_ == Phase::kRequested; });
    if (phase_ != Phase::kRequested) return;  // Stopping, nothing asked.
    float* data = data_;
    const int64_t count = count_;
    lock.unlock();
    std::exception_ptr error;
    const auto begin = std::chrono::steady_clock::now();
    try {
      sums_->sum_in_place(data, count);
    } catch (...) {
      error = std::current_exception();
    }
    const auto end = std::chrono::steady_clock::now();
    lock.lock();
    error_ = error;
    last_seconds_ = std::chrono::duration<double>(end - begin).count();
    phase_ = Phase::kDone;
    changed_.notify_all();
  }
}

}  // namespace rl::distributed

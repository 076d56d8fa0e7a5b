#include "core/thread_pool.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rl {

// Hand-written on purpose: the vector env and the DQN learner hand the pool one small job per
// env step, thousands of times a second, so what matters is a persistent pool whose caller
// takes part in the job and waits on one condition variable. std::async or a general task
// pool (Boost.Asio's thread_pool, a futures-based queue) would allocate per job and add a
// hand-off; OpenMP would bring its own spinning runtime beside the one LibTorch starts.

ThreadPool::ThreadPool(int threads) {
  if (threads < 0)
    throw std::invalid_argument("ThreadPool: thread count must be >= 0 (0 = all cores), got " +
                                std::to_string(threads));
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads - 1);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::drain_current_job() {
  for (;;) {
    int index;
    {
      std::lock_guard lock(mutex_);
      if (next_index_ >= count_) return;
      index = next_index_++;
    }
    try {
      (*task_)(index);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!first_error_) first_error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen_generation = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      job_ready_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
    }
    drain_current_job();
    {
      std::lock_guard lock(mutex_);
      --busy_workers_;
    }
    job_done_.notify_one();
  }
}

void ThreadPool::parallel_for(int count, const std::function<void(int)>& task) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int i = 0; i < count; ++i) task(i);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    count_ = count;
    next_index_ = 0;
    first_error_ = nullptr;
    busy_workers_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  job_ready_.notify_all();
  drain_current_job();
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    job_done_.wait(lock, [&] { return busy_workers_ == 0; });
    task_ = nullptr;
    error = first_error_;
    first_error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace rl

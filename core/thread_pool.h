// A small persistent pool of worker threads for data-parallel loops. The threads are created
// once and sleep between jobs, so a job costs two condition-variable hand-offs rather than
// thread creation. The calling thread takes part in every job.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rl {

class ThreadPool {
 public:
  // `threads` is the total parallelism including the calling thread (so threads - 1 workers
  // are started); 0 means std::thread::hardware_concurrency(). Throws std::invalid_argument
  // for a negative count.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total parallelism (workers + the calling thread).
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls task(i) once for every i in [0, count), spread over the workers and the calling
  // thread, and returns when all calls have finished. If calls throw, the first exception is
  // rethrown here after the others finish. Not reentrant: one job at a time per pool.
  void parallel_for(int count, const std::function<void(int)>& task);

 private:
  void worker_loop();
  // Claims indices of the current job until none are left.
  void drain_current_job();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable job_ready_;
  std::condition_variable job_done_;
  uint64_t generation_ = 0;  // Incremented for every job; workers wait for a change.
  int busy_workers_ = 0;     // Workers that have not finished the current job.
  bool stopping_ = false;
  const std::function<void(int)>* task_ = nullptr;
  int count_ = 0;
  int next_index_ = 0;  // Guarded by mutex_; claims are cheap compared with an env step.
  std::exception_ptr first_error_;
};

}  // namespace rl

// A window showing a policy play while the caller keeps working (rltrain --watch): the viewer
// runs on its own thread at a capped frame rate and the policy can be refreshed while it runs.
// SFML stays in render/; the policy is any PolicySource (rltrain passes a copy of the agent
// being trained, refreshed from its snapshots).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "render/display_check.h"
#include "render/keys.h"
#include "render/viewer.h"
#include "render/watch_session.h"

namespace rl::render {

struct TrainingWatchOptions {
  LiveOptions live;       // The env the policy plays: episodes back to back, seeds seed, seed+1...
  ViewerOptions viewer;   // Title, picture size, env steps per second at speed x1.
  unsigned max_fps = 20;  // Frame-rate cap of the window (the watcher sleeps in between).
  // Added to the watcher thread's nice value (Linux: per thread; the software-GL threads it
  // starts inherit it), so that on a busy machine the window yields the CPU to the caller.
  int nice_increment = 10;
  // Ends the "no X display" error: what to do instead.
  std::string display_hint = "run under xvfb-run, or without the window";
};

// Called on the watcher thread before each frame. Returns the new HUD source label when it
// changed the policy (e.g. loaded newer weights into the agent copy the policy uses), else
// std::nullopt. It may throw; the error then closes the window (see error()).
using PolicyRefresh = std::function<std::optional<std::string>()>;

class TrainingWatcher {
 public:
  // Checks for a display, starts the watcher thread, which builds the env (options.live) and
  // opens the window, and waits until the window is open. Throws std::runtime_error naming the
  // problem (no X display, no HUD font, an env that cannot be built) when it cannot open it.
  // `policy` and `refresh` are only ever called on the watcher thread.
  TrainingWatcher(TrainingWatchOptions options, PolicySource policy, PolicyRefresh refresh);
  // Closes the window if it is still open and joins the thread.
  ~TrainingWatcher();
  TrainingWatcher(const TrainingWatcher&) = delete;
  TrainingWatcher& operator=(const TrainingWatcher&) = delete;

  // True while the window is open; false once it was closed (q, Esc, the close button, close())
  // or an error ended the watcher. Closing the window never affects the caller's work.
  bool open() const { return open_.load(); }
  // Closes the window and waits for the watcher thread (idempotent).
  void close();
  // The error that closed the window early ("" if none).
  std::string error() const;
  // Frames displayed, env steps taken and refreshes that changed the policy, so far.
  int64_t frames() const { return frames_.load(); }
  int64_t steps() const { return steps_.load(); }
  int64_t refreshes() const { return refreshes_.load(); }
  // Queues a key event as if typed in the window (any thread); handled by the next frame.
  void inject(const KeyEvent& event);

 private:
  void run(PolicySource policy, PolicyRefresh refresh);
  void fail(const std::string& message);

  TrainingWatchOptions options_;
  // The display check's connection, held until the window is open (see DisplayConnection);
  // opened by the constructor, then touched only by the watcher thread.
  std::optional<DisplayConnection> display_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> open_{false};
  std::atomic<int64_t> frames_{0}, steps_{0}, refreshes_{0};
  mutable std::mutex mutex_;
  std::condition_variable started_;
  bool start_done_ = false;    // Guarded by mutex_: the window opened or failed to.
  std::string error_;          // Guarded by mutex_.
  std::deque<KeyEvent> keys_;  // Guarded by mutex_.
};

}  // namespace rl::render

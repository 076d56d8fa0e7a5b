// rltrain --watch: a window showing the policy being trained play on its own env copy. The
// window (render/training_watch.h) runs on its own thread; it plays greedy actions with a copy
// of the agent, and the trainer's snapshots (TrainOptions::on_snapshot) refresh the copy's
// weights. Closing the window does not stop training.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agents/experiment.h"

namespace rl::train_watch {

class WatchWindow {
 public:
  // How often the trainer should hand over the agent's weights (on top of every evaluation).
  static constexpr double kSnapshotSeconds = 2.0;

  // Builds the agent copy from the experiment's resolved config and opens the window. Throws
  // std::runtime_error naming the problem when no window can be opened (no X display, no HUD
  // font, rltrain built without SFML).
  explicit WatchWindow(const Experiment& experiment);
  ~WatchWindow();

  // For TrainOptions::on_snapshot (training thread): copies the agent's weights (and the
  // observation statistics) for the window to load. Does nothing once the window is closed.
  void on_snapshot(const Experiment& experiment, int64_t env_steps);

  // Closes the window if it is still open. Returns one line for the log: what the window
  // showed, what the snapshots cost, and the error that closed it early, if any.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rl::train_watch

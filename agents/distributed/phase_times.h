// Where a training process's time goes, phase by phase: the accounting that compares a
// multi-process run with one process (issue #13). Wall and CPU seconds (every thread of the
// process, user and system) of
//   start-up     process start to the first training step: loading, the rendezvous, Gloo's
//                connections, building the experiment, the weights' broadcast, the envs' reset;
//   rollout      acting, env steps and storing them;
//   update       the agent's update (its collectives included);
//   synchronize  the ranks' agreement on stop requests and episode statistics;
//   bookkeeping  the rest of the loop: metrics rows, progress, evaluations, checkpoints;
//   end          after the last step: final evaluation, checkpoints, summary.
// Off unless RLCADE_PHASE_TIMES is set (the clocks are then read at every phase change, twice
// per env step); rltrain then prints each rank's line at the end of training.
#pragma once

#include <array>
#include <string>

namespace rl::distributed {

class PhaseTimes {
 public:
  enum Phase { kStartUp, kRollout, kUpdate, kSynchronize, kBookkeeping, kEnd, kPhases };

  // Whether RLCADE_PHASE_TIMES asks for the accounting.
  static bool requested();

  // Starts in the start-up phase, counted from the process's start.
  explicit PhaseTimes(bool enabled);

  bool enabled() const { return enabled_; }
  // Ends the current phase and starts `phase` (nothing when disabled).
  void enter(Phase phase);
  // "start-up 1.20 s wall / 0.95 s CPU, rollout ...; all 4.10 / 3.80", up to now.
  std::string report();

 private:
  bool enabled_;
  Phase current_ = kStartUp;
  double phase_wall_start_ = 0, phase_cpu_start_ = 0;
  std::array<double, kPhases> wall_{}, cpu_{};
};

}  // namespace rl::distributed

// Viewer controls without SFML: which key means which command, and the playback clock that
// turns wall time, speed and pause state into a number of env steps.
#pragma once

#include <string>

#include "render/keys.h"

namespace rl::render {

// kWatch: a replay or an agent plays; kPlay: a person plays, so the arrow keys and space
// belong to the game and pause/step move to P and N.
enum class ViewerMode { kWatch, kPlay };

enum class Command {
  kNone,
  kTogglePause,
  kStepOnce,
  kFaster,
  kSlower,
  kRestart,
  kScreenshot,
  kQuit
};

// The command a key press triggers (kNone for releases and game keys). Watch mode: space
// pause/resume, right arrow single step, +/- speed, r restart, s screenshot, q/Esc quit.
// Play mode: the same except p pause/resume and n single step.
Command command_for(const KeyEvent& event, ViewerMode mode);

// One-line help shown in the HUD.
std::string controls_help(ViewerMode mode);

// Converts elapsed wall time into env steps at `steps_per_second` x speed, honouring pause and
// single-step requests.
class PlaybackClock {
 public:
  static constexpr double kMinSpeed = 1.0 / 16.0;
  static constexpr double kMaxSpeed = 64.0;
  static constexpr int kMaxStepsPerCall = 2000;  // Keeps the window responsive at high speed.

  // Throws std::invalid_argument unless steps_per_second > 0.
  explicit PlaybackClock(double steps_per_second);

  void toggle_pause();
  void set_paused(bool paused);
  bool paused() const { return paused_; }
  // While paused, the next steps_due() returns 1 (once per request; requests accumulate).
  void request_single_step();
  // Doubles / halves the speed multiplier, within [kMinSpeed, kMaxSpeed].
  void faster();
  void slower();
  double speed() const { return speed_; }
  double steps_per_second() const { return steps_per_second_; }

  // Steps to take now, `elapsed_seconds` after the previous call. Fractions carry over.
  int steps_due(double elapsed_seconds);

 private:
  double steps_per_second_;
  double speed_ = 1.0;
  double carry_ = 0.0;
  int single_steps_ = 0;
  bool paused_ = false;
};

}  // namespace rl::render

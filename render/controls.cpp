#include "render/controls.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rl::render {

Command command_for(const KeyEvent& event, ViewerMode mode) {
  if (!event.pressed) return Command::kNone;
  const bool play = mode == ViewerMode::kPlay;
  switch (event.key) {
    case Key::kSpace:
      return play ? Command::kNone : Command::kTogglePause;
    case Key::kP:
      return play ? Command::kTogglePause : Command::kNone;
    case Key::kRight:
      return play ? Command::kNone : Command::kStepOnce;
    case Key::kN:
      return play ? Command::kStepOnce : Command::kNone;
    case Key::kPlus:
      return Command::kFaster;
    case Key::kMinus:
      return Command::kSlower;
    case Key::kR:
      return Command::kRestart;
    case Key::kS:
      return Command::kScreenshot;
    case Key::kQ:
    case Key::kEscape:
      return Command::kQuit;
    default:
      return Command::kNone;
  }
}

std::string controls_help(ViewerMode mode) {
  if (mode == ViewerMode::kPlay)
    return "arrows/space: play  p: pause  n: step  +/-: speed  r: restart  s: screenshot  q: quit";
  return "space: pause  right: step  +/-: speed  r: restart  s: screenshot  q: quit";
}

PlaybackClock::PlaybackClock(double steps_per_second) : steps_per_second_(steps_per_second) {
  if (!(steps_per_second > 0.0) || !std::isfinite(steps_per_second))
    throw std::invalid_argument("playback rate must be a positive number of steps per second");
}

void PlaybackClock::toggle_pause() { set_paused(!paused_); }

void PlaybackClock::set_paused(bool paused) {
  paused_ = paused;
  carry_ = 0.0;
  if (!paused) single_steps_ = 0;
}

void PlaybackClock::request_single_step() {
  if (paused_) ++single_steps_;
}

void PlaybackClock::faster() { speed_ = std::min(kMaxSpeed, speed_ * 2.0); }

void PlaybackClock::slower() { speed_ = std::max(kMinSpeed, speed_ / 2.0); }

int PlaybackClock::steps_due(double elapsed_seconds) {
  if (paused_) {
    const int steps = std::min(single_steps_, kMaxStepsPerCall);
    single_steps_ -= steps;
    return steps;
  }
  carry_ += std::max(0.0, elapsed_seconds) * steps_per_second_ * speed_;
  const double whole = std::floor(carry_);
  carry_ -= whole;
  return static_cast<int>(std::min<double>(whole, kMaxStepsPerCall));
}

}  // namespace rl::render

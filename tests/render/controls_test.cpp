#include "render/controls.h"

#include <doctest/doctest.h>

#include <stdexcept>

#include "render/human_input.h"

namespace rl::render {
namespace {

KeyEvent press(Key k) { return {k, true}; }
KeyEvent release(Key k) { return {k, false}; }

EnvSpec discrete_spec(std::vector<std::string> names) {
  EnvSpec spec;
  spec.id = "test/keys-v0";
  spec.action_space = Space::discrete(static_cast<int64_t>(names.size()));
  spec.action_names = std::move(names);
  return spec;
}

TEST_CASE("watch and play modes map keys to viewer commands") {
  CHECK(command_for(press(Key::kSpace), ViewerMode::kWatch) == Command::kTogglePause);
  CHECK(command_for(press(Key::kRight), ViewerMode::kWatch) == Command::kStepOnce);
  CHECK(command_for(press(Key::kPlus), ViewerMode::kWatch) == Command::kFaster);
  CHECK(command_for(press(Key::kMinus), ViewerMode::kWatch) == Command::kSlower);
  CHECK(command_for(press(Key::kR), ViewerMode::kWatch) == Command::kRestart);
  CHECK(command_for(press(Key::kS), ViewerMode::kWatch) == Command::kScreenshot);
  CHECK(command_for(press(Key::kQ), ViewerMode::kWatch) == Command::kQuit);
  CHECK(command_for(press(Key::kEscape), ViewerMode::kWatch) == Command::kQuit);
  CHECK(command_for(release(Key::kSpace), ViewerMode::kWatch) == Command::kNone);
  CHECK(command_for(press(Key::kLeft), ViewerMode::kWatch) == Command::kNone);
  // In play mode the game owns space and the arrows.
  CHECK(command_for(press(Key::kSpace), ViewerMode::kPlay) == Command::kNone);
  CHECK(command_for(press(Key::kRight), ViewerMode::kPlay) == Command::kNone);
  CHECK(command_for(press(Key::kP), ViewerMode::kPlay) == Command::kTogglePause);
  CHECK(command_for(press(Key::kN), ViewerMode::kPlay) == Command::kStepOnce);
  CHECK(command_for(press(Key::kQ), ViewerMode::kPlay) == Command::kQuit);
  CHECK(controls_help(ViewerMode::kPlay).find("p: pause") != std::string::npos);
}

TEST_CASE("the playback clock turns time into steps, honouring pause, steps and speed") {
  PlaybackClock clock(10.0);
  CHECK(clock.steps_due(0.25) == 2);  // 2.5 steps: the half carries over.
  CHECK(clock.steps_due(0.05) == 1);
  clock.faster();
  CHECK(clock.speed() == 2.0);
  CHECK(clock.steps_due(0.5) == 10);
  clock.slower();
  clock.slower();
  CHECK(clock.speed() == 0.5);
  CHECK(clock.steps_due(1.0) == 5);
  clock.toggle_pause();
  CHECK(clock.paused());
  CHECK(clock.steps_due(10.0) == 0);
  clock.request_single_step();
  clock.request_single_step();
  CHECK(clock.steps_due(0.0) == 2);
  CHECK(clock.steps_due(1.0) == 0);
  clock.toggle_pause();
  clock.request_single_step();  // Ignored while running.
  CHECK(clock.steps_due(0.0) == 0);
  for (int i = 0; i < 20; ++i) clock.faster();
  CHECK(clock.speed() == PlaybackClock::kMaxSpeed);
  CHECK(clock.steps_due(1e6) == PlaybackClock::kMaxStepsPerCall);
  CHECK_THROWS_AS(PlaybackClock(0.0), std::invalid_argument);
}

TEST_CASE("MinAtar-style names play in real time with key combinations") {
  HumanInput input(discrete_spec({"n", "l", "u", "r", "d", "f"}));
  CHECK(!input.turn_based());
  CHECK(input.current_action().index == 0);  // Nothing held: no-op.
  CHECK(input.on_key(press(Key::kLeft)));
  CHECK(input.current_action().index == 1);
  CHECK(input.current_action().index == 1);  // Still held.
  input.on_key(release(Key::kLeft));
  CHECK(input.current_action().index == 0);
  // A tap between two steps still acts once.
  input.on_key(press(Key::kSpace));
  input.on_key(release(Key::kSpace));
  CHECK(input.current_action().index == 5);
  CHECK(input.current_action().index == 0);
  // Digits pick actions by number.
  input.on_key(press(Key::kNum4));
  CHECK(input.current_action().index == 4);
  input.on_key(release(Key::kNum4));
  CHECK(input.current_action().index == 0);
  CHECK(!input.on_key(press(Key::kNum7)));  // Only 6 actions.
  CHECK(!input.on_key(press(Key::kZ)));
}

TEST_CASE("combined names: exact combination first, else the largest bound part") {
  HumanInput input(discrete_spec(
      {"NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT", "UP_FIRE", "LEFTFIRE"}));
  CHECK(!input.turn_based());
  input.on_key(press(Key::kUp));
  input.on_key(press(Key::kRight));
  CHECK(input.current_action().index == 6);
  input.on_key(release(Key::kRight));
  input.on_key(press(Key::kSpace));
  CHECK(input.current_action().index == 8);
  input.on_key(press(Key::kDown));  // up+down+fire: no exact action; a two-key part wins.
  CHECK(input.current_action().index == 8);
  input.clear();
  CHECK(input.current_action().index == 0);
}

TEST_CASE("grid names are turn-based: one step per key press") {
  HumanInput input(discrete_spec({"left", "right", "forward", "pickup", "drop", "toggle", "done"}));
  CHECK(input.turn_based());
  CHECK(!input.next_turn());
  input.on_key(press(Key::kUp));
  input.on_key(release(Key::kUp));
  input.on_key(press(Key::kLeft));
  input.on_key(press(Key::kSpace));
  input.on_key(press(Key::kZ));
  input.on_key(press(Key::kX));
  input.on_key(press(Key::kEnter));
  CHECK(!input.on_key(press(Key::kDown)));  // No backward action in this grid.
  CHECK(*input.next_turn() == 2);
  CHECK(*input.next_turn() == 0);
  CHECK(*input.next_turn() == 5);
  CHECK(*input.next_turn() == 3);
  CHECK(*input.next_turn() == 4);
  CHECK(*input.next_turn() == 6);
  CHECK(!input.next_turn());
  CHECK(input.describe().find("up: action 2") != std::string::npos);
}

TEST_CASE("driving names: lanes, gas and brake on the arrows, idle as the no-op") {
  HumanInput highway(discrete_spec({"lane_left", "idle", "lane_right", "faster", "slower"}));
  CHECK(!highway.turn_based());
  CHECK(highway.current_action().index == 1);
  highway.on_key(press(Key::kLeft));
  CHECK(highway.current_action().index == 0);
  highway.on_key(release(Key::kLeft));
  highway.on_key(press(Key::kDown));
  CHECK(highway.current_action().index == 4);
  HumanInput racetrack(discrete_spec({"noop", "left", "right", "gas", "brake"}));
  racetrack.on_key(press(Key::kUp));
  CHECK(racetrack.current_action().index == 3);
  racetrack.on_key(press(Key::kRight));  // No gas+right action: one of the two keys wins.
  const int64_t both = racetrack.current_action().index;
  CHECK((both == 2 || both == 3));
}

TEST_CASE("actions without names are reachable by number") {
  EnvSpec spec;
  spec.action_space = Space::discrete(3);
  HumanInput input(spec);
  CHECK(input.turn_based());
  CHECK(!input.on_key(press(Key::kLeft)));
  input.on_key(press(Key::kNum2));
  CHECK(*input.next_turn() == 2);
}

TEST_CASE("continuous actions come from held arrows, by component name") {
  EnvSpec spec;
  spec.action_space = Space::box({3}, {-1.f, 0.f, 0.f}, {1.f, 1.f, 1.f}, DType::kF32);
  spec.action_names = {"steering", "gas", "brake"};
  HumanInput input(spec);
  CHECK(!input.turn_based());
  auto values = [&] {
    const Action a = input.current_action();
    return std::vector<float>(a.values.begin(), a.values.end());
  };
  CHECK(values() == std::vector<float>{0.f, 0.f, 0.f});
  input.on_key(press(Key::kLeft));
  input.on_key(press(Key::kUp));
  CHECK(values() == std::vector<float>{-1.f, 1.f, 0.f});
  input.on_key(release(Key::kUp));
  input.on_key(press(Key::kDown));
  CHECK(values() == std::vector<float>{-1.f, 0.f, 1.f});
  input.on_key(press(Key::kRight));  // Both directions: straight.
  CHECK(values() == std::vector<float>{0.f, 0.f, 1.f});
  CHECK(!input.on_key(press(Key::kSpace)));
}

TEST_CASE("continuous actions without names: steer then throttle, down reverses") {
  EnvSpec spec;
  spec.action_space = Space::box({2}, -2.f, 2.f, DType::kF32);
  HumanInput input(spec);
  input.on_key(press(Key::kRight));
  input.on_key(press(Key::kDown));
  const Action a = input.current_action();
  CHECK(std::vector<float>(a.values.begin(), a.values.end()) == std::vector<float>{2.f, -2.f});
}

}  // namespace
}  // namespace rl::render

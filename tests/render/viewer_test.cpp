// The SFML window, under xvfb-run: it shows exactly the env's frame, and scripted key events
// drive pause, single steps, speed, restart, screenshots, quitting and human play.
#include "render/viewer.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/registry.h"

namespace rl::render {
namespace {

namespace fs = std::filesystem;

Replay random_cartpole_replay(uint64_t seed) {
  auto env = EnvRegistry::global().make("classic/cartpole-v1");
  std::vector<uint8_t> obs(env->spec().observation_space.bytes());
  ReplayRecorder recorder({{}, "random", "", 1});
  env->reset(seed, obs);
  recorder.begin(*env, seed, obs);
  Rng policy(seed);
  StepResult r;
  do {
    const Action a = Action::discrete(static_cast<int64_t>(policy.below(2)));
    r = env->step(a, obs);
    recorder.record(a, r, obs);
  } while (!r.done());
  return recorder.replay();
}

// Counts pixels of the window capture inside the frame rect that differ from the env's
// render scaled the same way.
int frame_mismatches(Viewer& viewer, const WatchSession& session) {
  const sf::Image shot = viewer.capture();
  const Rect rect = viewer.frame_rect();
  Image frame;
  session.render(frame);
  const Image expected = scale_nearest(frame, rect.width, rect.height);
  int mismatches = 0;
  for (int y = 0; y < rect.height; ++y)
    for (int x = 0; x < rect.width; ++x) {
      const sf::Color c =
          shot.getPixel(static_cast<unsigned>(rect.x + x), static_cast<unsigned>(rect.y + y));
      mismatches += Color{c.r, c.g, c.b} != expected.at(x, y);
    }
  return mismatches;
}

// A real-time game with a no-op: the paddle moves left/right; fire scores a point.
class PadEnv final : public Env {
 public:
  PadEnv()
      : Env(EnvSpec{"test/pad-v0",
                    "move a paddle",
                    Space::box({1}, 0.f, 20.f, DType::kF32),
                    Space::discrete(4),
                    0.f,
                    1.f,
                    0,
                    {},
                    {"noop", "left", "right", "fire"}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    x_ = 10;
    as_f32(obs)[0] = static_cast<float>(x_);
  }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    if (a.index == 1 && x_ > 0) --x_;
    if (a.index == 2 && x_ < 20) ++x_;
    as_f32(obs)[0] = static_cast<float>(x_);
    return {a.index == 3 ? 1.f : 0.f, false, false};
  }
  void do_render(Image& out) const override {
    out.resize(21, 3, {0, 0, 40});
    fill_rect(out, x_, 1, 1, 1, {255, 255, 0});
  }

 private:
  int x_ = 10;
};

RLCADE_REGISTER_ENV({"test/pad-v0", "move a paddle", {}, [](const Params&) {
                       return std::make_unique<PadEnv>();
                     }});

TEST_CASE("the window shows exactly the env's frame, scaled crisply") {
  const Replay replay = random_cartpole_replay(3);
  auto session = make_replay_session(replay, "viewer test");
  ViewerOptions options;
  options.frame_width = 450;  // 600x400 scaled by 0.75, letterboxed vertically.
  options.frame_height = 450;
  Viewer viewer(*session, ViewerMode::kWatch, options);
  CHECK(viewer.window().getSize() == sf::Vector2u(450 + Viewer::kHudWidth, 450));
  CHECK(viewer.frame_rect() == Rect{0, 75, 450, 300});
  viewer.inject({Key::kSpace, true});  // Pause so that the frame holds still.
  REQUIRE(viewer.tick(0.0));
  CHECK(viewer.clock().paused());
  CHECK(frame_mismatches(viewer, *session) == 0);
  viewer.inject({Key::kRight, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 1);
  CHECK(frame_mismatches(viewer, *session) == 0);
  // The HUD panel is drawn (not left black).
  const sf::Image shot = viewer.capture();
  CHECK(shot.getPixel(450 + 5, 5) != sf::Color::Black);
}

TEST_CASE("scripted keys drive pause, single step, speed, restart, screenshot and quit") {
  const Replay replay = random_cartpole_replay(5);
  REQUIRE(replay.steps() > 6);
  auto session = make_replay_session(replay, "viewer test");
  ViewerOptions options;
  options.steps_per_second = 10.0;
  options.screenshot_dir =
      (fs::temp_directory_path() / ("rlcade_viewer_test_" + std::to_string(::getpid()))).string();
  Viewer viewer(*session, ViewerMode::kWatch, options);
  CHECK(viewer.tick(0.2));  // 2 steps at 10 steps/s.
  CHECK(session->hud().step == 2);
  viewer.inject({Key::kSpace, true});
  viewer.tick(1.0);
  CHECK(session->hud().step == 2);  // Paused.
  viewer.inject({Key::kRight, true});
  viewer.inject({Key::kRight, false});
  viewer.tick(1.0);
  CHECK(session->hud().step == 3);
  viewer.inject({Key::kSpace, true});
  viewer.inject({Key::kPlus, true});
  viewer.tick(0.1);  // x2: 2 steps.
  CHECK(viewer.clock().speed() == 2.0);
  CHECK(session->hud().step == 5);
  viewer.inject({Key::kMinus, true});
  viewer.inject({Key::kMinus, true});
  viewer.tick(0.0);
  CHECK(viewer.clock().speed() == 0.5);
  viewer.inject({Key::kR, true});
  viewer.inject({Key::kSpace, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 0);
  CHECK(frame_mismatches(viewer, *session) == 0);

  viewer.inject({Key::kS, true});
  viewer.tick(0.0);
  REQUIRE(!viewer.last_screenshot().empty());
  sf::Image screenshot;
  REQUIRE(screenshot.loadFromFile(viewer.last_screenshot()));
  CHECK(screenshot.getSize() == viewer.window().getSize());
  fs::remove_all(options.screenshot_dir);

  viewer.inject({Key::kQ, true});
  CHECK(!viewer.tick(0.0));
  CHECK(viewer.quit_requested());
}

TEST_CASE("a replay stops at its end; r plays it again") {
  const Replay replay = random_cartpole_replay(6);
  auto session = make_replay_session(replay, "viewer test");
  Viewer viewer(*session, ViewerMode::kWatch, ViewerOptions{});
  viewer.tick(1000.0);
  CHECK(session->finished());
  CHECK(session->hud().step == replay.steps());
  CHECK(frame_mismatches(viewer, *session) == 0);
  viewer.inject({Key::kR, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 0);
}

TEST_CASE("human play: arrow keys act, space and arrows do not pause or step") {
  auto session = make_human_session({"classic/cartpole-v1", {}, 9, "human", std::nullopt, nullptr});
  Viewer viewer(*session, ViewerMode::kPlay, ViewerOptions{});
  viewer.tick(1.0);
  CHECK(session->hud().step == 0);  // Turn-based: waits for a key.
  viewer.inject({Key::kLeft, true});
  viewer.inject({Key::kLeft, false});
  viewer.inject({Key::kRight, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 2);
  CHECK(session->hud().last_action == "right");
  CHECK(!viewer.clock().paused());
  viewer.inject({Key::kP, true});  // Paused: keys are ignored.
  viewer.inject({Key::kLeft, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 2);
  viewer.inject({Key::kP, true});
  viewer.inject({Key::kLeft, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 3);
  CHECK(session->hud().last_action == "left");
  CHECK(frame_mismatches(viewer, *session) == 0);
  viewer.inject({Key::kEscape, true});
  CHECK(!viewer.tick(0.0));
}

TEST_CASE("real-time human play: held keys act every step, the no-op otherwise") {
  auto session = make_human_session({"test/pad-v0", {}, 1, "human", std::nullopt, nullptr});
  CHECK(!session->turn_based());
  ViewerOptions options;
  options.steps_per_second = 10.0;
  Viewer viewer(*session, ViewerMode::kPlay, options);
  viewer.inject({Key::kLeft, true});
  viewer.tick(0.3);  // 3 steps with left held.
  CHECK(session->hud().step == 3);
  CHECK(session->hud().last_action == "left");
  viewer.inject({Key::kLeft, false});
  viewer.tick(0.2);
  CHECK(session->hud().step == 5);
  CHECK(session->hud().last_action == "noop");
  viewer.inject({Key::kSpace, true});  // Space is the game's fire here, not pause.
  viewer.inject({Key::kSpace, false});
  viewer.tick(0.1);
  CHECK(!viewer.clock().paused());
  CHECK(session->hud().episode_return == 1.0);
  Image frame;
  session->render(frame);
  CHECK(frame.at(7, 1) == Color{255, 255, 0});  // 10 - 3.
  CHECK(frame_mismatches(viewer, *session) == 0);
  viewer.inject({Key::kP, true});
  viewer.inject({Key::kRight, true});
  viewer.tick(1.0);
  CHECK(session->hud().step == 6);  // Paused.
  viewer.inject({Key::kN, true});
  viewer.tick(0.0);
  CHECK(session->hud().step == 7);
}

TEST_CASE("without a display the viewer refuses with a message instead of aborting") {
  const char* display = std::getenv("DISPLAY");
  REQUIRE(display != nullptr);
  const std::string saved = display;
  ::unsetenv("DISPLAY");
  auto session = make_human_session({"test/pad-v0", {}, 1, "human", std::nullopt, nullptr});
  try {
    Viewer viewer(*session, ViewerMode::kPlay, ViewerOptions{});
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("no X display") != std::string::npos);
  }
  ::setenv("DISPLAY", saved.c_str(), 1);
}

TEST_CASE("closing the window ends the loop cleanly") {
  auto session = make_human_session({"classic/cartpole-v1", {}, 9, "human", std::nullopt, nullptr});
  Viewer viewer(*session, ViewerMode::kPlay, ViewerOptions{});
  viewer.window().close();
  CHECK(!viewer.tick(0.0));
}

}  // namespace
}  // namespace rl::render

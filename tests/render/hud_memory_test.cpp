// A recurrent policy's memory on the HUD: the session hands the decision's memory to the HUD
// state, and the viewer draws it as a heat strip (orange above zero, blue below), under
// xvfb-run.
#include <doctest/doctest.h>

#include <vector>

#include "render/viewer.h"
#include "render/watch_session.h"

namespace rl::render {
namespace {

// Always pushes right, remembering `memory`.
PolicySource remembering_policy(std::vector<float> memory) {
  return [memory](std::span<const uint8_t>, const Env&) {
    PolicyDecision decision;
    decision.index = 1;
    decision.memory = memory;
    return decision;
  };
}

// Pixels of the HUD panel (right of the frame) that are strongly orange or blue.
std::pair<int, int> strip_pixels(Viewer& viewer, int frame_width) {
  const sf::Image shot = viewer.capture();
  int orange = 0, blue = 0;
  for (unsigned y = 0; y < shot.getSize().y; ++y) {
    for (unsigned x = static_cast<unsigned>(frame_width); x < shot.getSize().x; ++x) {
      const sf::Color c = shot.getPixel(x, y);
      orange += c.r > 180 && c.g > 100 && c.g < 170 && c.b < 40;
      blue += c.b > 180 && c.r < 40 && c.g < 140;
    }
  }
  return {orange, blue};
}

TEST_CASE("hud: a recurrent policy's memory reaches the HUD and is drawn as a heat strip") {
  const std::vector<float> memory{3.f, 3.f, 3.f, 3.f, -3.f, -3.f, -3.f, -3.f};
  auto session = make_policy_session({"classic/cartpole-v1", {}, 4, "memory test", {}, {}},
                                     remembering_policy(memory));
  ViewerOptions options;
  options.frame_width = 300;
  options.frame_height = 300;
  Viewer viewer(*session, ViewerMode::kWatch, options);
  viewer.inject({Key::kSpace, true});  // Paused: steps come from the right arrow only.
  REQUIRE(viewer.tick(0.0));
  const auto [orange_before, blue_before] = strip_pixels(viewer, 300);
  viewer.inject({Key::kRight, true});
  viewer.tick(0.0);
  REQUIRE(session->hud().step == 1);
  CHECK(session->hud().memory == memory);
  const auto [orange, blue] = strip_pixels(viewer, 300);
  CHECK(orange >= orange_before + 4 * 16);  // Four cells of at least 4x4 pixels each.
  CHECK(blue >= blue_before + 4 * 16);
  // A new episode starts without memory on show.
  session->restart();
  CHECK(session->hud().memory.empty());
}

}  // namespace
}  // namespace rl::render

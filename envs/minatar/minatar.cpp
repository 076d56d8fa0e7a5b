#include "envs/minatar/minatar.h"

namespace rl::minatar {

const std::array<const char*, kNumActions> kActionNames = {"noop",  "left", "up",
                                                           "right", "down", "fire"};

void render_observation(const uint8_t* obs, int channels, const Color* colors, int cell_px,
                        Image& out) {
  const Color background{0, 0, 0};
  const Color grid_line{40, 40, 40};
  out.resize(kSize * cell_px, kSize * cell_px, background);
  for (int y = 0; y < kSize; ++y) {
    for (int x = 0; x < kSize; ++x) {
      Color cell = background;
      for (int c = 0; c < channels; ++c)
        if (obs[c * kPlane + y * kSize + x]) cell = colors[c];
      fill_rect(out, x * cell_px, y * cell_px, cell_px, cell_px, cell);
      draw_rect_outline(out, x * cell_px, y * cell_px, cell_px, cell_px, 1, grid_line);
    }
  }
}

std::vector<ParamSpec> minatar_params(bool ramps) {
  std::vector<ParamSpec> params = {
      {"sticky_action_prob",
       0.1,
       "Probability that the previous action repeats instead of the chosen one",
       0.0,
       1.0,
       {}},
      {"max_episode_steps",
       int64_t{100000},
       "Truncate episodes after this many steps (0: never; the reference has no limit)",
       0.0,
       1e12,
       {}},
  };
  if (ramps)
    params.push_back({"difficulty_ramping",
                      true,
                      "Speed the game up over time as the reference does",
                      std::nullopt,
                      std::nullopt,
                      {}});
  return params;
}

}  // namespace rl::minatar

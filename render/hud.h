// Draws the HUD panel (SFML): env id, source, episode, step, return, last action, status,
// playback state, the policy's per-action values as bars, a recurrent policy's memory as a
// heat strip, and the controls.
#pragma once

#include <SFML/Graphics.hpp>
#include <string>

#include "render/watch_session.h"

namespace rl::render {

struct PlaybackInfo {
  double fps = 0.0;  // Window frames per second.
  double steps_per_second = 0.0;
  double speed = 1.0;
  bool paused = false;
  std::string help;    // controls_help().
  std::string notice;  // E.g. "saved rlwatch-....png".
};

// Draws into `area` of `target`.
void draw_hud(sf::RenderTarget& target, const sf::Font& font, const HudState& hud,
              const PlaybackInfo& playback, const sf::FloatRect& area);

}  // namespace rl::render

// Helpers for the MinAtar rule tests: read cells of a channel-first C x 10 x 10 observation.
#pragma once

#include <cstdint>
#include <vector>

#include "envs/minatar/minatar.h"

namespace rl::minatar::testing {

// A game plus a fixed RNG and an observation buffer, stepped directly (no sticky actions).
template <class Game>
struct Harness {
  explicit Harness(bool ramping = true, uint64_t seed = 1) : game(ramping), rng(seed) {
    game.reset(rng);
  }
  Outcome act(int action) {
    const Outcome out = game.act(action, rng);
    game.write_observation(obs.data());
    return out;
  }
  bool cell(int channel, int y, int x) { return obs[channel * kPlane + y * kSize + x] != 0; }
  int count(int channel) {
    int n = 0;
    for (int i = 0; i < kPlane; ++i) n += obs[channel * kPlane + i];
    return n;
  }
  void observe() { game.write_observation(obs.data()); }

  Game game;
  Rng rng;
  std::vector<uint8_t> obs = std::vector<uint8_t>(Game::kChannels * kPlane);
};

}  // namespace rl::minatar::testing

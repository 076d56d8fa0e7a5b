// Helpers for the grid tests: build a registered grid env, reach its GridWorld test hooks, and
// lay out hand-made states.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"
#include "envs/grid/gridworld.h"

namespace rl::grid::testing {

struct GridFixture {
  std::unique_ptr<Env> env;
  GridWorld* world = nullptr;
  std::vector<uint8_t> obs;

  explicit GridFixture(const std::string& id, const std::map<std::string, ParamValue>& params = {},
                       uint64_t seed = 1) {
    env = EnvRegistry::global().make(id, params);
    world = dynamic_cast<GridWorld*>(env.get());
    REQUIRE(world != nullptr);
    obs.resize(env->spec().observation_space.bytes());
    env->reset(seed, obs);
  }

  // Empties the whole grid except its outer walls and puts the agent at `pos` facing `dir`,
  // empty-handed.
  void blank_room(Pos pos, int dir) {
    Grid& g = world->grid();
    g.clear();
    g.wall_rect(0, 0, g.width(), g.height());
    world->set_carrying(Cell::empty());
    world->set_agent(pos, dir);
  }

  StepResult step(int64_t action) { return env->step(Action::discrete(action), obs); }
  // Re-encodes the current (possibly hand-edited) state.
  const std::vector<uint8_t>& observe() {
    world->write_observation(obs);
    return obs;
  }
  const Cell& cell(int x, int y) const { return world->grid().at(x, y); }
};

// Parses rows of single digits ("1115111") into a row-major plane.
inline std::vector<uint8_t> plane_from_rows(const std::vector<std::string>& rows) {
  std::vector<uint8_t> out;
  for (const auto& row : rows)
    for (char c : row) out.push_back(static_cast<uint8_t>(c - '0'));
  return out;
}

// Plane `c` of a channel-first observation with `plane_size` elements per plane.
inline std::vector<uint8_t> plane(const std::vector<uint8_t>& obs, int c, int plane_size) {
  return {obs.begin() + c * plane_size, obs.begin() + (c + 1) * plane_size};
}

// Rows of digits for printing a plane in failure messages.
inline std::string plane_text(const std::vector<uint8_t>& p, int width) {
  std::string s;
  for (size_t i = 0; i < p.size(); ++i) {
    s += std::to_string(p[i]);
    if ((i + 1) % width == 0) s += '\n';
  }
  return s;
}

}  // namespace rl::grid::testing

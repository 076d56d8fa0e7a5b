// The MiniGrid-style engine shared by every grid task: an agent with a position and a
// direction in a Grid of objects, MiniGrid's seven actions with MiniGrid's semantics, the
// egocentric partial view (walls occlude exactly as MiniGrid's process_vis) or the fully
// observable grid, and render(). Tasks derive from GridWorld and implement generate().
//
// Observation layouts (u8, channel-first, documented for users in docs/envs.md):
//   "partial": 4 x 7 x 7. Planes 0..2 are MiniGrid's (object, colour, state) encoding of the
//              agent's view; plane 3 is filled with the agent's direction (0..3). Element
//              [c][vy][vx]: vy = 0 is the row farthest ahead, vy = 6 the agent's row; the agent
//              is at (vx, vy) = (3, 6) looking toward vy = 0. Cells the agent cannot see are
//              (0, 0, 0); the agent's own cell shows what it carries (or empty).
//   "full":    3 x H x W. MiniGrid's FullyObsWrapper: the whole grid encoded, element [c][y][x],
//              the agent's cell replaced by (10 agent, 0 red, direction).
//   "onehot":  24 x 7 x 7, the "partial" view with each of its four codes one-hot (MiniGrid's
//              OneHotPartialObsWrapper plus the direction): planes 0..10 object, 11..16 colour,
//              17..19 state, 20..23 direction; element [kOneHotObject + object][vy][vx] = 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "core/registry.h"
#include "envs/grid/grid.h"

namespace rl::grid {

// MiniGrid's action indices.
enum GridAction : int64_t {
  kLeft = 0,
  kRight = 1,
  kForward = 2,
  kPickup = 3,
  kDrop = 4,
  kToggle = 5,
  kDone = 6,
};
inline constexpr int kNumGridActions = 7;
// left, right, forward: the actions that matter in tasks without objects to carry or toggle.
inline constexpr int kNumMoveActions = 3;

enum class ObsMode { kPartial, kFull, kOneHot };

// Static facts about one registered task.
struct TaskSpec {
  std::string id;
  std::string description;
  int width = 0;
  int height = 0;
  int64_t max_steps = 0;           // MiniGrid's step limit for the task.
  bool see_through_walls = false;  // MiniGrid's per-task flag: true disables occlusion.
  int num_actions = kNumGridActions;
  float reward_min = 0.f;
  float reward_max = 1.f;
  std::optional<double> reward_threshold;
};

// The parameters every grid task accepts: `observation` ("partial", "full" or "onehot"), `actions`
// ("all", the default: the task's MiniGrid action set; "move": only left, right and forward,
// actions 0-2, for tasks where the others are no-ops, e.g. Memory) and `max_episode_steps`
// (default: the task's MiniGrid limit).
std::vector<ParamSpec> grid_task_params(int64_t default_max_steps);

class GridWorld : public Env {
 public:
  static constexpr int kViewSize = 7;
  static constexpr int kPartialPlanes = 4;
  // The "onehot" view's plane groups: the first plane of each code (object, colour, door
  // state, direction) and the total.
  static constexpr int kOneHotObject = 0, kOneHotColor = kMaxObjectIndex + 1,
                       kOneHotState = kOneHotColor + kNumColors,
                       kOneHotDirection = kOneHotState + static_cast<int>(DoorState::kLocked) + 1,
                       kOneHotPlanes = kOneHotDirection + static_cast<int>(std::size(kDirVec));

  // The observation space of a task of the given size in the given mode.
  static Space observation_space(ObsMode mode, int width, int height);

  // The agent's 7x7 view, indexed [vy][vx] as in the observation.
  struct View {
    Cell cells[kViewSize][kViewSize];
    bool visible[kViewSize][kViewSize];
  };

  // --- Inspection (also the test hooks that build a state by hand).
  const Grid& grid() const { return grid_; }
  Grid& grid() { return grid_; }
  Pos agent_pos() const { return agent_pos_; }
  int agent_dir() const { return agent_dir_; }
  // Moves the agent; throws std::invalid_argument if the cell is outside the grid, holds an
  // object the agent cannot stand on, or dir is not in 0..3.
  void set_agent(Pos pos, int dir);
  // The carried object (kEmpty when empty-handed).
  const Cell& carrying() const { return carrying_; }
  void set_carrying(const Cell& c) { carrying_ = c; }
  Pos front_pos() const;
  ObsMode observation_mode() const { return mode_; }
  // Writes the current observation (as reset/step do).
  void write_observation(ObsBuffer obs) const;
  // The agent's view with visibility per MiniGrid's gen_obs_grid (before the agent's cell is
  // replaced by what it carries).
  void compute_view(View& view) const;
  // World position of view cell (vx, vy); may lie outside the grid.
  Pos view_to_world(int vx, int vy) const;

 protected:
  GridWorld(const TaskSpec& task, const Params& params);

  // Builds the episode's layout into grid() (already cleared to the task size) and places the
  // agent (agent_pos_, agent_dir_). Draws all randomness from rng().
  virtual void generate() = 0;
  // One step of the task; the default is plain MiniGrid semantics. Tasks with extra rules
  // override it and call apply_action().
  virtual StepResult on_step(int64_t action) { return apply_action(action); }
  // MiniGrid's MiniGridEnv.step(): turn, move (goal: success reward, lava: terminate),
  // pickup, drop, toggle (doors, keys for locked doors, boxes), done (no-op).
  StepResult apply_action(int64_t action);
  // 1 - 0.9 * step_count / max_steps, step_count counting the step being taken.
  float success_reward() const;

  // --- Generation helpers (MiniGrid's _rand_* and place_* with our RNG).
  int rand_int(int lo, int hi);  // Uniform in [lo, hi).
  Color rand_color() { return static_cast<Color>(rand_int(0, kNumColors)); }
  // Rejection-samples an empty cell (not the agent's) in the rectangle [top, top + size)
  // clipped to the grid for which reject(pos) is false, and puts `c` there unless `c` is
  // empty. Throws std::runtime_error after max_tries failed draws.
  template <typename Reject>
  Pos place_obj(const Cell& c, Pos top, Pos size, Reject reject, int max_tries = 100000);
  // Like place_obj, but returns false (placing nothing) after max_tries failed draws.
  template <typename Reject>
  bool try_place_obj(const Cell& c, Pos top, Pos size, Reject reject, int max_tries, Pos& placed);
  Pos place_obj(const Cell& c, Pos top, Pos size) {
    return place_obj(c, top, size, [](Pos) { return false; });
  }
  Pos place_obj(const Cell& c) { return place_obj(c, {0, 0}, {grid_.width(), grid_.height()}); }
  // Puts the agent on a random empty cell of the rectangle, facing a random direction.
  void place_agent(Pos top, Pos size, bool random_dir = true);
  void place_agent() { place_agent({0, 0}, {grid_.width(), grid_.height()}); }

  Grid grid_;
  Pos agent_pos_{-1, -1};
  int agent_dir_ = 0;
  Cell carrying_;

 private:
  void do_reset(ObsBuffer obs) final;
  StepResult do_step(const Action& action, ObsBuffer obs) final;
  void do_render(Image& out) const final;
  void write_partial(uint8_t* out) const;
  void write_full(uint8_t* out) const;
  void write_one_hot(uint8_t* out) const;
  void toggle_front(Pos front);

  ObsMode mode_;
  bool see_through_walls_;
  int64_t task_max_steps_;
};

template <typename Reject>
bool GridWorld::try_place_obj(const Cell& c, Pos top, Pos size, Reject reject, int max_tries,
                              Pos& placed) {
  top = {std::max(top.x, 0), std::max(top.y, 0)};
  const int x_end = std::min(top.x + size.x, grid_.width());
  const int y_end = std::min(top.y + size.y, grid_.height());
  for (int tries = 0; tries < max_tries; ++tries) {
    const Pos p{rand_int(top.x, x_end), rand_int(top.y, y_end)};
    if (!grid_.at(p).is_empty() || p == agent_pos_ || reject(p)) continue;
    if (!c.is_empty()) grid_.set(p, c);
    placed = p;
    return true;
  }
  return false;
}

template <typename Reject>
Pos GridWorld::place_obj(const Cell& c, Pos top, Pos size, Reject reject, int max_tries) {
  Pos placed;
  if (!try_place_obj(c, top, size, reject, max_tries, placed))
    throw std::runtime_error(
        spec().id + ": found no free cell for an object in the " + std::to_string(size.x) + "x" +
        std::to_string(size.y) + " rectangle at (" + std::to_string(top.x) + ", " +
        std::to_string(top.y) + ") after " + std::to_string(max_tries) + " tries");
  return placed;
}

// A registry entry for task class T (constructed as T(task, params, args...)) with the
// standard grid parameters.
template <typename T, typename... Args>
EnvEntry grid_entry(const TaskSpec& task, Args... args) {
  return EnvEntry{task.id, task.description, grid_task_params(task.max_steps),
                  [task, args...](const Params& p) -> std::unique_ptr<Env> {
                    return std::make_unique<T>(task, p, args...);
                  }};
}

}  // namespace rl::grid

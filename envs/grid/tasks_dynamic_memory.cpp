// Dynamic-Obstacles (minigrid/envs/dynamicobstacles.py): an empty room with balls that each
// step hop to a random free neighbouring cell; walking into a ball or a wall costs -1 and ends
// the episode. Memory (minigrid/envs/memory.py): remember the object in the start room and walk
// up to the matching one at the end of the hallway.
#include <array>

#include "envs/grid/gridworld.h"

namespace rl::grid {
namespace {

class DynamicObstaclesTask final : public GridWorld {
 public:
  DynamicObstaclesTask(const TaskSpec& task, const Params& p, int num_obstacles, bool random_start)
      : GridWorld(task, p), random_start_(random_start) {
    // MiniGrid caps the count at size / 2 when more than size / 2 + 1 are asked for.
    const int size = task.width;
    num_obstacles_ = num_obstacles <= size / 2 + 1 ? num_obstacles : size / 2;
    if (num_obstacles_ > kMaxObstacles)
      throw std::invalid_argument(task.id + ": too many obstacles");
  }

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    grid_.wall_rect(0, 0, w, h);
    grid_.set(w - 2, h - 2, Cell::goal());
    if (random_start_) {
      place_agent();
    } else {
      agent_pos_ = {1, 1};
      agent_dir_ = 0;
    }
    for (int i = 0; i < num_obstacles_; ++i)
      obstacles_[i] = place_obj(
          Cell::ball(), {0, 0}, {w, h}, [](Pos) { return false; }, 100);
  }

  StepResult on_step(int64_t action) override {
    // Whether the agent walks into something is decided before the obstacles move.
    const Pos front = front_pos();
    const Cell& front_cell = grid_.at_or_wall(front.x, front.y);
    const bool blocked = !front_cell.is_empty() && !front_cell.is(Object::kGoal);
    move_obstacles();
    StepResult result = apply_action(action);
    if (action == kForward && blocked) {
      result.reward = -1.f;
      result.terminated = true;
    }
    return result;
  }

 private:
  static constexpr int kMaxObstacles = 16;

  // Each obstacle, in order, tries 100 random cells of the 3x3 block around it (MiniGrid's
  // place_obj with max_tries=100) and moves to the first free one; otherwise it stays.
  void move_obstacles() {
    for (int i = 0; i < num_obstacles_; ++i) {
      const Pos old = obstacles_[i];
      Pos moved;
      if (try_place_obj(
              Cell::ball(), {old.x - 1, old.y - 1}, {3, 3}, [](Pos) { return false; }, 100,
              moved)) {
        grid_.set(old, Cell::empty());
        obstacles_[i] = moved;
      }
    }
  }

  bool random_start_;
  int num_obstacles_;
  std::array<Pos, kMaxObstacles> obstacles_{};
};

class MemoryTask final : public GridWorld {
 public:
  MemoryTask(const TaskSpec& task, const Params& p, bool random_length)
      : GridWorld(task, p), random_length_(random_length) {}

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height(), mid = h / 2;
    grid_.wall_rect(0, 0, w, h);
    const int upper = mid - 2, lower = mid + 2;
    const int hallway_end = random_length_ ? rand_int(4, w - 2) : w - 3;
    // Start room.
    for (int i = 1; i < 5; ++i) {
      grid_.set(i, upper, Cell::wall());
      grid_.set(i, lower, Cell::wall());
    }
    grid_.set(4, upper + 1, Cell::wall());
    grid_.set(4, lower - 1, Cell::wall());
    // Horizontal hallway.
    for (int i = 5; i < hallway_end; ++i) {
      grid_.set(i, upper + 1, Cell::wall());
      grid_.set(i, lower - 1, Cell::wall());
    }
    // Vertical hallway, entered from the middle row.
    for (int j = 0; j < h; ++j) {
      if (j != mid) grid_.set(hallway_end, j, Cell::wall());
      grid_.set(hallway_end + 2, j, Cell::wall());
    }
    agent_pos_ = {rand_int(1, hallway_end + 1), mid};
    agent_dir_ = 0;

    const bool start_is_key = rand_int(0, 2) == 0;
    const bool upper_is_ball = rand_int(0, 2) == 0;
    grid_.set(1, mid - 1, start_is_key ? Cell::key(Color::kGreen) : Cell::ball(Color::kGreen));
    const Pos upper_obj{hallway_end + 1, mid - 2}, lower_obj{hallway_end + 1, mid + 2};
    grid_.set(upper_obj, upper_is_ball ? Cell::ball(Color::kGreen) : Cell::key(Color::kGreen));
    grid_.set(lower_obj, upper_is_ball ? Cell::key(Color::kGreen) : Cell::ball(Color::kGreen));
    // Standing right next to an object (in the vertical hallway) chooses it.
    const Pos upper_choice{upper_obj.x, upper_obj.y + 1},
        lower_choice{lower_obj.x, lower_obj.y - 1};
    const bool upper_matches = start_is_key != upper_is_ball;
    success_pos_ = upper_matches ? upper_choice : lower_choice;
    failure_pos_ = upper_matches ? lower_choice : upper_choice;
  }

  StepResult on_step(int64_t action) override {
    StepResult result = apply_action(action == kPickup ? kToggle : action);
    if (agent_pos_ == success_pos_) {
      result.reward = success_reward();
      result.terminated = true;
      result.success = true;
    } else if (agent_pos_ == failure_pos_) {
      result.reward = 0.f;
      result.terminated = true;
    }
    return result;
  }

 private:
  bool random_length_;
  Pos success_pos_, failure_pos_;
};

TaskSpec dynamic_task(const char* id, int size, bool random_start) {
  TaskSpec t;
  t.id = id;
  t.description = random_start ? "Reach the goal from a random start while dodging moving balls "
                                 "(MiniGrid Dynamic-Obstacles-Random)"
                               : "Reach the goal while dodging moving balls (MiniGrid "
                                 "Dynamic-Obstacles)";
  t.width = t.height = size;
  t.max_steps = 4 * size * size;
  t.see_through_walls = true;
  t.num_actions = 3;  // left, right, forward.
  t.reward_min = -1.f;
  return t;
}

TaskSpec memory_task(const char* id, int size, bool random_length) {
  TaskSpec t;
  t.id = id;
  t.description = random_length
                      ? "Remember the start object; choose its twin at the end of a hallway of "
                        "random length (MiniGrid Memory-Random)"
                      : "Remember the start object; choose its twin at the end of the hallway "
                        "(MiniGrid Memory)";
  t.width = t.height = size;
  t.max_steps = 5 * size * size;
  return t;
}

RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-5x5-v0", 5, false), 2, false)));
RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-random-5x5-v0", 5, true), 2, true)));
RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-6x6-v0", 6, false), 3, false)));
RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-random-6x6-v0", 6, true), 3, true)));
RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-8x8-v0", 8, false), 4, false)));
RLCADE_REGISTER_ENV((grid_entry<DynamicObstaclesTask>(
    dynamic_task("grid/dynamic-obstacles-16x16-v0", 16, false), 8, false)));

RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s7-v0", 7, false), false)));
RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s9-v0", 9, false), false)));
RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s11-v0", 11, false), false)));
RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s13-v0", 13, false), false)));
RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s13-random-v0", 13, true),
                                            true)));
RLCADE_REGISTER_ENV((grid_entry<MemoryTask>(memory_task("grid/memory-s17-random-v0", 17, true),
                                            true)));

}  // namespace
}  // namespace rl::grid

// Single-room and simple multi-room MiniGrid tasks: Empty, FourRooms, DoorKey, LavaGap and the
// Lava/Simple Crossing family. Layouts, step limits and view settings follow
// minigrid/envs/{empty,fourrooms,doorkey,lavagap,crossing}.py.
#include <algorithm>
#include <array>
#include <utility>

#include "envs/grid/gridworld.h"

namespace rl::grid {
namespace {

// Empty room, goal in the bottom-right corner; the agent starts top-left facing right, or
// anywhere facing anywhere in the random variants.
class EmptyTask final : public GridWorld {
 public:
  EmptyTask(const TaskSpec& task, const Params& p, bool random_start)
      : GridWorld(task, p), random_start_(random_start) {}

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
  }

 private:
  bool random_start_;
};

// Four rooms joined by one random gap in each inner wall; agent and goal anywhere.
class FourRoomsTask final : public GridWorld {
 public:
  FourRoomsTask(const TaskSpec& task, const Params& p) : GridWorld(task, p) {}

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    grid_.wall_rect(0, 0, w, h);
    const int room_w = w / 2, room_h = h / 2;
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) {
        const int left = i * room_w, top = j * room_h;
        const int right = left + room_w, bottom = top + room_h;
        if (i == 0) {
          grid_.vert_wall(right, top, room_h);
          grid_.set(right, rand_int(top + 1, bottom), Cell::empty());
        }
        if (j == 0) {
          grid_.horz_wall(left, bottom, room_w);
          grid_.set(rand_int(left + 1, right), bottom, Cell::empty());
        }
      }
    place_agent();
    place_obj(Cell::goal());
  }
};

// A wall splits the room; the yellow key on the agent's side opens the locked yellow door.
class DoorKeyTask final : public GridWorld {
 public:
  DoorKeyTask(const TaskSpec& task, const Params& p) : GridWorld(task, p) {}

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    grid_.wall_rect(0, 0, w, h);
    grid_.set(w - 2, h - 2, Cell::goal());
    const int split = rand_int(2, w - 2);
    grid_.vert_wall(split, 0, h);
    place_agent({0, 0}, {split, h});
    grid_.set(split, rand_int(1, w - 2), Cell::door(Color::kYellow, DoorState::kLocked));
    place_obj(Cell::key(Color::kYellow), {0, 0}, {split, h});
  }
};

// A vertical strip of lava with one gap between the agent (top-left) and the goal.
class LavaGapTask final : public GridWorld {
 public:
  LavaGapTask(const TaskSpec& task, const Params& p) : GridWorld(task, p) {}

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    grid_.wall_rect(0, 0, w, h);
    agent_pos_ = {1, 1};
    agent_dir_ = 0;
    grid_.set(w - 2, h - 2, Cell::goal());
    const Pos gap{rand_int(2, w - 2), rand_int(1, h - 1)};
    grid_.vert_wall(gap.x, 1, h - 2, Cell::lava());
    grid_.set(gap, Cell::empty());
  }
};

// `num_crossings` rivers of lava (or walls) on even rows/columns, each with exactly the
// openings needed for one monotone path from the top-left start to the bottom-right goal.
class CrossingTask final : public GridWorld {
 public:
  CrossingTask(const TaskSpec& task, const Params& p, int num_crossings, bool lava)
      : GridWorld(task, p),
        num_crossings_(num_crossings),
        obstacle_(lava ? Cell::lava() : Cell::wall()) {}

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    grid_.wall_rect(0, 0, w, h);
    agent_pos_ = {1, 1};
    agent_dir_ = 0;
    grid_.set(w - 2, h - 2, Cell::goal());

    // Candidate rivers: (vertical?, coordinate). Shuffle and keep the first num_crossings.
    int count = 0;
    for (int i = 2; i < h - 2; i += 2) rivers_[count++] = {true, i};
    for (int j = 2; j < w - 2; j += 2) rivers_[count++] = {false, j};
    shuffle(rivers_.data(), count);
    int nv = 0, nh = 0;
    for (int k = 0; k < num_crossings_; ++k)
      (rivers_[k].first ? vertical_[++nv] : horizontal_[++nh]) = rivers_[k].second;
    std::sort(vertical_.begin() + 1, vertical_.begin() + 1 + nv);
    std::sort(horizontal_.begin() + 1, horizontal_.begin() + 1 + nh);
    for (int k = 1; k <= nh; ++k) grid_.horz_wall(1, horizontal_[k], w - 2, obstacle_);
    for (int k = 1; k <= nv; ++k) grid_.vert_wall(vertical_[k], 1, h - 2, obstacle_);

    // Limits of the strips between rivers: [0, rivers..., size - 1].
    vertical_[0] = 0;
    vertical_[nv + 1] = h - 1;
    horizontal_[0] = 0;
    horizontal_[nh + 1] = w - 1;
    // The path: cross each vertical river once (a step right) and each horizontal river once
    // (a step down), in random order; open the crossing point of each.
    for (int k = 0; k < nv + nh; ++k) path_[k] = k < nv;
    shuffle(path_.data(), nv + nh);
    int room_i = 0, room_j = 0;
    for (int k = 0; k < nv + nh; ++k) {
      if (path_[k]) {
        const int x = vertical_[room_i + 1];
        const int y = rand_int(horizontal_[room_j] + 1, horizontal_[room_j + 1]);
        grid_.set(x, y, Cell::empty());
        ++room_i;
      } else {
        const int x = rand_int(vertical_[room_i] + 1, vertical_[room_i + 1]);
        const int y = horizontal_[room_j + 1];
        grid_.set(x, y, Cell::empty());
        ++room_j;
      }
    }
  }

 private:
  static constexpr int kMaxRivers = 32;

  template <typename T>
  void shuffle(T* items, int n) {  // Fisher-Yates.
    for (int i = n - 1; i > 0; --i) std::swap(items[i], items[rand_int(0, i + 1)]);
  }

  int num_crossings_;
  Cell obstacle_;
  std::array<std::pair<bool, int>, kMaxRivers> rivers_{};
  std::array<int, kMaxRivers + 2> vertical_{};
  std::array<int, kMaxRivers + 2> horizontal_{};
  std::array<bool, kMaxRivers> path_{};
};

TaskSpec square_task(std::string id, std::string description, int size, int64_t max_steps,
                     bool see_through_walls) {
  TaskSpec t;
  t.id = std::move(id);
  t.description = std::move(description);
  t.width = t.height = size;
  t.max_steps = max_steps;
  t.see_through_walls = see_through_walls;
  return t;
}

TaskSpec empty_task(const char* id, int size) {
  return square_task(id, "Reach the green goal square in an empty room (MiniGrid Empty)", size,
                     4 * size * size, true);
}
TaskSpec empty_random_task(const char* id, int size) {
  return square_task(id,
                     "Reach the goal in an empty room from a random start (MiniGrid "
                     "Empty-Random)",
                     size, 4 * size * size, true);
}
TaskSpec doorkey_task(const char* id, int size) {
  return square_task(id, "Pick up the key, unlock the door, reach the goal (MiniGrid DoorKey)",
                     size, 10 * size * size, false);
}
TaskSpec lavagap_task(const char* id, int size) {
  return square_task(id, "Cross the lava strip through its gap to the goal (MiniGrid LavaGap)",
                     size, 4 * size * size, false);
}
TaskSpec crossing_task(const char* id, int size, bool lava) {
  return square_task(id,
                     lava ? "Cross rivers of lava through their openings to the goal (MiniGrid "
                            "LavaCrossing)"
                          : "Cross walls through their openings to the goal (MiniGrid "
                            "SimpleCrossing)",
                     size, 4 * size * size, false);
}

RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_task("grid/empty-5x5-v0", 5), false)));
RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_task("grid/empty-6x6-v0", 6), false)));
RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_task("grid/empty-8x8-v0", 8), false)));
RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_task("grid/empty-16x16-v0", 16), false)));
RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_random_task("grid/empty-random-5x5-v0", 5),
                                           true)));
RLCADE_REGISTER_ENV((grid_entry<EmptyTask>(empty_random_task("grid/empty-random-6x6-v0", 6),
                                           true)));

RLCADE_REGISTER_ENV((grid_entry<FourRoomsTask>(square_task(
    "grid/fourrooms-v0", "Reach the goal through the gaps between four rooms (MiniGrid FourRooms)",
    19, 100, false))));

RLCADE_REGISTER_ENV((grid_entry<DoorKeyTask>(doorkey_task("grid/doorkey-5x5-v0", 5))));
RLCADE_REGISTER_ENV((grid_entry<DoorKeyTask>(doorkey_task("grid/doorkey-6x6-v0", 6))));
RLCADE_REGISTER_ENV((grid_entry<DoorKeyTask>(doorkey_task("grid/doorkey-8x8-v0", 8))));
RLCADE_REGISTER_ENV((grid_entry<DoorKeyTask>(doorkey_task("grid/doorkey-16x16-v0", 16))));

RLCADE_REGISTER_ENV((grid_entry<LavaGapTask>(lavagap_task("grid/lavagap-s5-v0", 5))));
RLCADE_REGISTER_ENV((grid_entry<LavaGapTask>(lavagap_task("grid/lavagap-s6-v0", 6))));
RLCADE_REGISTER_ENV((grid_entry<LavaGapTask>(lavagap_task("grid/lavagap-s7-v0", 7))));

RLCADE_REGISTER_ENV((grid_entry<CrossingTask>(crossing_task("grid/lavacrossing-s9n1-v0", 9, true),
                                              1, true)));
RLCADE_REGISTER_ENV((grid_entry<CrossingTask>(crossing_task("grid/lavacrossing-s9n2-v0", 9, true),
                                              2, true)));
RLCADE_REGISTER_ENV((grid_entry<CrossingTask>(crossing_task("grid/lavacrossing-s9n3-v0", 9, true),
                                              3, true)));
RLCADE_REGISTER_ENV((grid_entry<CrossingTask>(crossing_task("grid/lavacrossing-s11n5-v0", 11, true),
                                              5, true)));
RLCADE_REGISTER_ENV(
    (grid_entry<CrossingTask>(crossing_task("grid/simplecrossing-s9n1-v0", 9, false), 1, false)));
RLCADE_REGISTER_ENV(
    (grid_entry<CrossingTask>(crossing_task("grid/simplecrossing-s9n2-v0", 9, false), 2, false)));
RLCADE_REGISTER_ENV(
    (grid_entry<CrossingTask>(crossing_task("grid/simplecrossing-s9n3-v0", 9, false), 3, false)));
RLCADE_REGISTER_ENV(
    (grid_entry<CrossingTask>(crossing_task("grid/simplecrossing-s11n5-v0", 11, false), 5, false)));

}  // namespace
}  // namespace rl::grid

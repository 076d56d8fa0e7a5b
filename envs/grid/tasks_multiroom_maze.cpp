// MultiRoom (minigrid/envs/multiroom.py): a chain of randomly sized rooms joined by closed
// doors of changing colours, goal in the last room. Maze (our own task): a perfect maze carved
// by a randomized depth-first search; the agent starts top-left, the goal is bottom-right.
#include <utility>
#include <vector>

#include "envs/grid/gridworld.h"

namespace rl::grid {
namespace {

class MultiRoomTask final : public GridWorld {
 public:
  MultiRoomTask(const TaskSpec& task, const Params& p, int min_rooms, int max_rooms,
                int max_room_size)
      : GridWorld(task, p),
        min_rooms_(min_rooms),
        max_rooms_(max_rooms),
        max_room_size_(max_room_size) {
    rooms_.reserve(max_rooms);
    attempt_.reserve(max_rooms);
  }

 protected:
  void generate() override {
    const int num_rooms = rand_int(min_rooms_, max_rooms_ + 1);
    rooms_.clear();
    // MiniGrid retries whole chains until one has num_rooms rooms; we cap the retries so a
    // pathological configuration fails loudly instead of hanging.
    for (int tries = 0; static_cast<int>(rooms_.size()) < num_rooms; ++tries) {
      if (tries == kMaxChainTries)
        throw std::runtime_error(spec().id + ": could not lay out " + std::to_string(num_rooms) +
                                 " rooms");
      attempt_.clear();
      const int w = grid_.width();
      const Pos entry{rand_int(0, w - 2), rand_int(0, w - 2)};
      place_room(num_rooms, kWallLeft, entry);
      if (attempt_.size() > rooms_.size()) std::swap(rooms_, attempt_);
    }
    draw_rooms();
    place_agent(rooms_.front().top, rooms_.front().size);
    place_obj(Cell::goal(), rooms_.back().top, rooms_.back().size);
  }

 private:
  static constexpr int kMinRoomSize = 4;
  static constexpr int kMaxChainTries = 100000;
  // Wall indices: right, south, left, north.
  static constexpr int kWallLeft = 2;

  struct Room {
    Pos top, size, entry_door;
  };

  // Appends a room whose `entry_wall` holds the door at `entry` (the first room's top-left
  // corner is `entry` itself), then tries up to 8 times to grow the chain from one of its other
  // walls. Returns false if this room does not fit.
  bool place_room(int rooms_left, int entry_wall, Pos entry) {
    const Pos size{rand_int(kMinRoomSize, max_room_size_ + 1),
                   rand_int(kMinRoomSize, max_room_size_ + 1)};
    Pos top = entry;
    if (!attempt_.empty()) {
      switch (entry_wall) {
        case 0:
          top = {entry.x - size.x + 1, rand_int(entry.y - size.y + 2, entry.y)};
          break;
        case 1:
          top = {rand_int(entry.x - size.x + 2, entry.x), entry.y - size.y + 1};
          break;
        case 2:
          top = {entry.x, rand_int(entry.y - size.y + 2, entry.y)};
          break;
        default:
          top = {rand_int(entry.x - size.x + 2, entry.x), entry.y};
          break;
      }
    }
    if (top.x < 0 || top.y < 0) return false;
    if (top.x + size.x > grid_.width() || top.y + size.y >= grid_.height()) return false;
    // Rooms other than the one we enter from may not touch this one.
    for (size_t i = 0; i + 1 < attempt_.size(); ++i) {
      const Room& r = attempt_[i];
      const bool apart = top.x + size.x < r.top.x || r.top.x + r.size.x <= top.x ||
                         top.y + size.y < r.top.y || r.top.y + r.size.y <= top.y;
      if (!apart) return false;
    }
    attempt_.push_back({top, size, entry});
    if (rooms_left == 1) return true;
    for (int i = 0; i < 8; ++i) {
      int exit_wall = rand_int(0, 3);  // One of the three walls other than the entry wall.
      if (exit_wall >= entry_wall) ++exit_wall;
      Pos exit;
      switch (exit_wall) {
        case 0:
          exit = {top.x + size.x - 1, top.y + rand_int(1, size.y - 1)};
          break;
        case 1:
          exit = {top.x + rand_int(1, size.x - 1), top.y + size.y - 1};
          break;
        case 2:
          exit = {top.x, top.y + rand_int(1, size.y - 1)};
          break;
        default:
          exit = {top.x + rand_int(1, size.x - 1), top.y};
          break;
      }
      if (place_room(rooms_left - 1, (exit_wall + 2) % 4, exit)) break;
    }
    return true;
  }

  void draw_rooms() {
    int previous_color = -1;
    for (size_t idx = 0; idx < rooms_.size(); ++idx) {
      const Room& room = rooms_[idx];
      grid_.wall_rect(room.top.x, room.top.y, room.size.x, room.size.y);
      if (idx == 0) continue;
      // A door colour different from the previous door's.
      int color = rand_int(0, previous_color < 0 ? kNumColors : kNumColors - 1);
      if (previous_color >= 0 && color >= previous_color) ++color;
      grid_.set(room.entry_door, Cell::door(static_cast<Color>(color), DoorState::kClosed));
      previous_color = color;
    }
  }

  int min_rooms_, max_rooms_, max_room_size_;
  std::vector<Room> rooms_, attempt_;
};

// Perfect maze on the odd coordinates of a size x size grid (size odd): every cell reachable
// by exactly one path. Randomized depth-first search ("recursive backtracker") from (1, 1).
class MazeTask final : public GridWorld {
 public:
  MazeTask(const TaskSpec& task, const Params& p) : GridWorld(task, p) {
    stack_.reserve(static_cast<size_t>(task.width) * task.height / 4 + 1);
  }

 protected:
  void generate() override {
    const int w = grid_.width(), h = grid_.height();
    for (int y = 0; y < h; ++y) grid_.horz_wall(0, y, w);
    stack_.clear();
    stack_.push_back({1, 1});
    grid_.set(1, 1, Cell::empty());
    while (!stack_.empty()) {
      const Pos cur = stack_.back();
      Pos options[4];
      int n = 0;
      for (const Pos d : kDirVec) {
        const Pos next{cur.x + 2 * d.x, cur.y + 2 * d.y};
        if (next.x > 0 && next.y > 0 && next.x < w - 1 && next.y < h - 1 &&
            grid_.at(next).is(Object::kWall))
          options[n++] = next;
      }
      if (n == 0) {
        stack_.pop_back();
        continue;
      }
      const Pos next = options[rand_int(0, n)];
      grid_.set((cur.x + next.x) / 2, (cur.y + next.y) / 2, Cell::empty());
      grid_.set(next, Cell::empty());
      stack_.push_back(next);
    }
    grid_.set(w - 2, h - 2, Cell::goal());
    agent_pos_ = {1, 1};
    agent_dir_ = rand_int(0, 4);
  }

 private:
  std::vector<Pos> stack_;
};

TaskSpec multiroom_task(const char* id, int max_rooms) {
  TaskSpec t;
  t.id = id;
  t.description = "Open a chain of doors through connected rooms to the goal (MiniGrid MultiRoom)";
  t.width = t.height = 25;
  t.max_steps = 20 * max_rooms;
  return t;
}

TaskSpec maze_task(const char* id, int size) {
  TaskSpec t;
  t.id = id;
  t.description = "Find the goal at the far corner of a random perfect maze";
  t.width = t.height = size;
  t.max_steps = 4 * size * size;
  return t;
}

RLCADE_REGISTER_ENV((grid_entry<MultiRoomTask>(multiroom_task("grid/multiroom-n2-s4-v0", 2), 2, 2,
                                               4)));
RLCADE_REGISTER_ENV((grid_entry<MultiRoomTask>(multiroom_task("grid/multiroom-n4-s5-v0", 4), 4, 4,
                                               5)));
RLCADE_REGISTER_ENV((grid_entry<MultiRoomTask>(multiroom_task("grid/multiroom-n6-v0", 6), 6, 6,
                                               10)));

RLCADE_REGISTER_ENV((grid_entry<MazeTask>(maze_task("grid/maze-9x9-v0", 9))));
RLCADE_REGISTER_ENV((grid_entry<MazeTask>(maze_task("grid/maze-13x13-v0", 13))));
RLCADE_REGISTER_ENV((grid_entry<MazeTask>(maze_task("grid/maze-21x21-v0", 21))));

}  // namespace
}  // namespace rl::grid

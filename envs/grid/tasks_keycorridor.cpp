// KeyCorridor (minigrid/envs/keycorridor.py on MiniGrid's RoomGrid): a 3-column grid of rooms
// whose middle column is an open corridor; a ball sits behind a locked door on the right, its
// key in a room on the left. Picking up the ball is the success.
#include <array>
#include <cstdlib>
#include <stdexcept>

#include "envs/grid/gridworld.h"

namespace rl::grid {
namespace {

class KeyCorridorTask final : public GridWorld {
 public:
  KeyCorridorTask(const TaskSpec& task, const Params& p, int room_size, int num_rows)
      : GridWorld(task, p), room_size_(room_size), rows_(num_rows) {}

 protected:
  void generate() override {
    build_rooms();
    for (int j = 1; j < rows_; ++j) remove_wall(1, j, kUp);
    const int locked_row = rand_int(0, rows_);
    const Color door_color = rand_color();
    add_door(2, locked_row, kLeftWall, door_color, true);
    target_color_ = rand_color();
    place_in_room(2, locked_row, Cell::ball(target_color_));
    place_in_room(0, rand_int(0, rows_), Cell::key(door_color));
    place_agent_in_room(1, rows_ / 2);
    connect_all();
  }

  StepResult on_step(int64_t action) override {
    StepResult result = apply_action(action);
    if (action == kPickup && carrying_ == Cell::ball(target_color_)) {
      result.reward = success_reward();
      result.terminated = true;
      result.success = true;
    }
    return result;
  }

 private:
  static constexpr int kCols = 3;
  static constexpr int kMaxRows = 8;
  // Wall order of RoomGrid: right, down, left, up.
  static constexpr int kRight = 0, kDown = 1, kLeftWall = 2, kUp = 3;
  static constexpr int kMaxTries = 1000;

  struct Room {
    Pos top;
    std::array<Pos, 4> door_pos;
    std::array<bool, 4> has_neighbor;
    std::array<bool, 4> connected;  // A door or a removed wall on that side.
    bool locked;
  };

  Room& room(int i, int j) { return rooms_[j * kCols + i]; }
  static Pos neighbor_index(int i, int j, int k) {
    return {i + kDirVec[k].x, j + kDirVec[k].y};  // Wall k faces direction k.
  }

  void build_rooms() {
    const int s = room_size_;
    for (int j = 0; j < rows_; ++j)
      for (int i = 0; i < kCols; ++i) {
        Room& r = room(i, j);
        r = Room{};
        r.top = {i * (s - 1), j * (s - 1)};
        grid_.wall_rect(r.top.x, r.top.y, s, s);
      }
    for (int j = 0; j < rows_; ++j)
      for (int i = 0; i < kCols; ++i) {
        Room& r = room(i, j);
        const int x_lo = r.top.x + 1, y_lo = r.top.y + 1;
        const int x_hi = r.top.x + s - 1, y_hi = r.top.y + s - 1;
        if (i < kCols - 1) r.door_pos[kRight] = {x_hi, rand_int(y_lo, y_hi)};
        if (j < rows_ - 1) r.door_pos[kDown] = {rand_int(x_lo, x_hi), y_hi};
        if (i > 0) r.door_pos[kLeftWall] = room(i - 1, j).door_pos[kRight];
        if (j > 0) r.door_pos[kUp] = room(i, j - 1).door_pos[kDown];
        r.has_neighbor = {i<kCols - 1, j<rows_ - 1, i> 0, j> 0};
      }
    agent_pos_ = {(kCols / 2) * (s - 1) + s / 2, (rows_ / 2) * (s - 1) + s / 2};
    agent_dir_ = 0;
  }

  void remove_wall(int i, int j, int k) {
    Room& r = room(i, j);
    const int s = room_size_;
    for (int t = 1; t < s - 1; ++t) {
      switch (k) {
        case kRight:
          grid_.set(r.top.x + s - 1, r.top.y + t, Cell::empty());
          break;
        case kDown:
          grid_.set(r.top.x + t, r.top.y + s - 1, Cell::empty());
          break;
        case kLeftWall:
          grid_.set(r.top.x, r.top.y + t, Cell::empty());
          break;
        default:
          grid_.set(r.top.x + t, r.top.y, Cell::empty());
          break;
      }
    }
    connect(i, j, k);
  }

  void add_door(int i, int j, int k, Color color, bool locked) {
    Room& r = room(i, j);
    r.locked = locked;
    grid_.set(r.door_pos[k], Cell::door(color, locked ? DoorState::kLocked : DoorState::kClosed));
    connect(i, j, k);
  }

  void connect(int i, int j, int k) {
    room(i, j).connected[k] = true;
    const Pos n = neighbor_index(i, j, k);
    room(n.x, n.y).connected[(k + 2) % 4] = true;
  }

  // An object anywhere in the room, not next to the agent's (provisional) position.
  void place_in_room(int i, int j, const Cell& c) {
    const Pos agent = agent_pos_;
    place_obj(
        c, room(i, j).top, {room_size_, room_size_},
        [agent](Pos p) { return std::abs(p.x - agent.x) + std::abs(p.y - agent.y) < 2; },
        kMaxTries);
  }

  // A random cell of the room and direction such that the agent does not face an object.
  void place_agent_in_room(int i, int j) {
    for (int tries = 0; tries < kMaxTries; ++tries) {
      place_agent(room(i, j).top, {room_size_, room_size_});
      const Pos f = front_pos();
      const Cell& front = grid_.at(f);
      if (front.is_empty() || front.is(Object::kWall)) return;
    }
    throw std::runtime_error(spec().id + ": found no start cell facing a free cell or wall");
  }

  // Adds unlocked doors at random until every room is reachable from the agent's room.
  void connect_all() {
    const int s = room_size_;
    const Pos start{agent_pos_.x / (s - 1), agent_pos_.y / (s - 1)};
    for (int iteration = 0; iteration <= 5000; ++iteration) {
      if (count_reachable(start) == rows_ * kCols) return;
      const int i = rand_int(0, kCols), j = rand_int(0, rows_), k = rand_int(0, 4);
      Room& r = room(i, j);
      if (!r.has_neighbor[k] || r.connected[k]) continue;
      const Pos n = neighbor_index(i, j, k);
      if (r.locked || room(n.x, n.y).locked) continue;
      add_door(i, j, k, rand_color(), false);
    }
    throw std::runtime_error(spec().id + ": could not connect all rooms");
  }

  int count_reachable(Pos start) {
    std::array<bool, kCols * kMaxRows> seen{};
    std::array<Pos, kCols * kMaxRows> stack;
    int top = 0, count = 0;
    stack[top++] = start;
    seen[start.y * kCols + start.x] = true;
    while (top > 0) {
      const Pos p = stack[--top];
      ++count;
      for (int k = 0; k < 4; ++k) {
        if (!room(p.x, p.y).connected[k]) continue;
        const Pos n = neighbor_index(p.x, p.y, k);
        if (seen[n.y * kCols + n.x]) continue;
        seen[n.y * kCols + n.x] = true;
        stack[top++] = n;
      }
    }
    return count;
  }

  int room_size_, rows_;
  Color target_color_ = Color::kRed;
  std::array<Room, kCols * kMaxRows> rooms_{};
};

TaskSpec keycorridor_task(const char* id, int room_size, int rows) {
  TaskSpec t;
  t.id = id;
  t.description =
      "Find the key, unlock the door and pick up the ball behind it (MiniGrid KeyCorridor)";
  t.width = (room_size - 1) * 3 + 1;
  t.height = (room_size - 1) * rows + 1;
  t.max_steps = 30 * room_size * room_size;
  return t;
}

RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s3r1-v0", 3, 1),
                                                 3, 1)));
RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s3r2-v0", 3, 2),
                                                 3, 2)));
RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s3r3-v0", 3, 3),
                                                 3, 3)));
RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s4r3-v0", 4, 3),
                                                 4, 3)));
RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s5r3-v0", 5, 3),
                                                 5, 3)));
RLCADE_REGISTER_ENV((grid_entry<KeyCorridorTask>(keycorridor_task("grid/keycorridor-s6r3-v0", 6, 3),
                                                 6, 3)));

}  // namespace
}  // namespace rl::grid

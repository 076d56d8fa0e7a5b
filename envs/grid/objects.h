// World objects of the gridworld engine, with MiniGrid's integer encoding (object index,
// colour index, state) so that observations match MiniGrid's `Grid.encode()` value for value.
#pragma once

#include <cstdint>

namespace rl::grid {

// MiniGrid's OBJECT_TO_IDX. kUnseen marks cells outside the agent's field of view; kAgent
// appears only in the fully observable encoding.
enum class Object : uint8_t {
  kUnseen = 0,
  kEmpty = 1,
  kWall = 2,
  kFloor = 3,
  kDoor = 4,
  kKey = 5,
  kBall = 6,
  kBox = 7,
  kGoal = 8,
  kLava = 9,
  kAgent = 10,
};
inline constexpr int kMaxObjectIndex = 10;

// MiniGrid's COLOR_TO_IDX.
enum class Color : uint8_t { kRed = 0, kGreen, kBlue, kPurple, kYellow, kGrey };
inline constexpr int kNumColors = 6;
inline constexpr int kMaxColorIndex = kNumColors - 1;

// Door states as MiniGrid encodes them in the third channel.
enum class DoorState : uint8_t { kOpen = 0, kClosed = 1, kLocked = 2 };
// Largest value of the state channel: door states 0..2, agent direction 0..3 (full view).
inline constexpr int kMaxStateIndex = 3;

// One grid cell: the object standing there (kEmpty for none). A box may hold one object,
// stored as its type and colour (kEmpty for an empty box).
struct Cell {
  Object type = Object::kEmpty;
  Color color = Color::kRed;
  uint8_t state = 0;  // DoorState for doors, 0 otherwise.
  Object content = Object::kEmpty;
  Color content_color = Color::kRed;

  static constexpr Cell empty() { return {}; }
  static constexpr Cell wall(Color c = Color::kGrey) { return {Object::kWall, c}; }
  static constexpr Cell floor(Color c = Color::kBlue) { return {Object::kFloor, c}; }
  static constexpr Cell goal() { return {Object::kGoal, Color::kGreen}; }
  static constexpr Cell lava() { return {Object::kLava, Color::kRed}; }
  static constexpr Cell key(Color c = Color::kBlue) { return {Object::kKey, c}; }
  static constexpr Cell ball(Color c = Color::kBlue) { return {Object::kBall, c}; }
  static constexpr Cell door(Color c, DoorState s) {
    return {Object::kDoor, c, static_cast<uint8_t>(s)};
  }
  // A box holding `content` (type and colour; kEmpty for nothing).
  static constexpr Cell box(Color c, Object content = Object::kEmpty,
                            Color content_color = Color::kRed) {
    return {Object::kBox, c, 0, content, content_color};
  }

  bool is_empty() const { return type == Object::kEmpty; }
  bool is(Object t) const { return type == t; }
  DoorState door_state() const { return static_cast<DoorState>(state); }
  bool is_open_door() const { return type == Object::kDoor && state == 0; }

  // The agent may stand on it: nothing, goal, floor, lava or an open door.
  bool can_overlap() const {
    return type == Object::kEmpty || type == Object::kGoal || type == Object::kFloor ||
           type == Object::kLava || is_open_door();
  }
  // The agent may carry it: keys, balls and boxes.
  bool can_pickup() const {
    return type == Object::kKey || type == Object::kBall || type == Object::kBox;
  }
  // Light passes: everything but walls and closed or locked doors.
  bool see_behind() const { return type != Object::kWall && (type != Object::kDoor || state == 0); }
  // What a toggled box leaves behind.
  Cell box_content() const { return {content, content_color}; }

  bool operator==(const Cell&) const = default;
};

}  // namespace rl::grid

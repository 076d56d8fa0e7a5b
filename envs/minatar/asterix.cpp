#include "envs/minatar/asterix.h"

#include <algorithm>

namespace rl::minatar {

void Asterix::reset(Rng&) { s_ = State{}; }

void Asterix::spawn_entity(Rng& rng) {
  const bool moving_right = rng.uniform() < 0.5;
  const bool gold = rng.uniform() < 1.0 / 3.0;
  std::array<int, kSlots> free_slots;
  int num_free = 0;
  for (int i = 0; i < kSlots; ++i)
    if (!s_.entities[i].active) free_slots[num_free++] = i;
  if (num_free == 0) return;
  const int slot = free_slots[rng.below(static_cast<uint64_t>(num_free))];
  s_.entities[slot] = Entity{true, moving_right ? 0 : 9, slot + 1, moving_right, gold};
}

void Asterix::touch(Entity& e, Outcome& out) const {
  if (e.gold) {
    e.active = false;
    out.reward += 1;
  } else {
    out.terminal = true;
  }
}

Outcome Asterix::act(int action, Rng& rng) {
  Outcome out;
  if (s_.spawn_timer == 0) {
    spawn_entity(rng);
    s_.spawn_timer = s_.spawn_speed;
  }

  if (action == kLeft) s_.player_x = std::max(0, s_.player_x - 1);
  if (action == kRight) s_.player_x = std::min(9, s_.player_x + 1);
  if (action == kUp) s_.player_y = std::max(1, s_.player_y - 1);
  if (action == kDown) s_.player_y = std::min(8, s_.player_y + 1);

  auto at_player = [&](const Entity& e) { return e.x == s_.player_x && e.y == s_.player_y; };
  for (Entity& e : s_.entities)
    if (e.active && at_player(e)) touch(e, out);
  if (s_.move_timer == 0) {
    s_.move_timer = s_.move_speed;
    for (Entity& e : s_.entities) {
      if (!e.active) continue;
      e.x += e.moving_right ? 1 : -1;
      if (e.x < 0 || e.x > 9)
        e.active = false;
      else if (at_player(e))
        touch(e, out);
    }
  }
  --s_.spawn_timer;
  --s_.move_timer;

  if (ramping_ && (s_.spawn_speed > 1 || s_.move_speed > 1)) {
    if (s_.ramp_timer >= 0) {
      --s_.ramp_timer;
    } else {
      if (s_.move_speed > 1 && s_.ramp_index % 2 == 1) --s_.move_speed;
      if (s_.spawn_speed > 1) --s_.spawn_speed;
      ++s_.ramp_index;
      s_.ramp_timer = kRampInterval;
    }
  }
  return out;
}

void Asterix::write_observation(uint8_t* obs) const {
  std::memset(obs, 0, kChannels * kPlane);
  mark(obs, 0, s_.player_y, s_.player_x);
  for (const Entity& e : s_.entities) {
    if (!e.active) continue;
    mark(obs, e.gold ? 3 : 1, e.y, e.x);
    const int back_x = e.moving_right ? e.x - 1 : e.x + 1;
    if (back_x >= 0 && back_x <= 9) mark(obs, 2, e.y, back_x);
  }
}

RLCADE_REGISTER_ENV({minatar_entry<Asterix>(
    true, "MinAtar Asterix: collect gold, avoid enemies entering from the sides", 1.f)});
RLCADE_REGISTER_ENV({minatar_entry<Asterix>(
    false, "MinAtar Asterix: collect gold, avoid enemies entering from the sides", 1.f)});

}  // namespace rl::minatar

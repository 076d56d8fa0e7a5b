#include "envs/minatar/seaquest.h"

#include <algorithm>

namespace rl::minatar {
namespace {

// Enough for the densest play the rules allow (an enemy spawned every frame lives at most
// about 60 frames), so the lists never grow past their reservation.
constexpr size_t kListCapacity = 256;

bool off_board(int x) { return x < 0 || x > 9; }

// Removes the first element of `items` at (x, y); true if there was one.
template <class T>
bool remove_first_at(std::vector<T>& items, int x, int y) {
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (it->x == x && it->y == y) {
      items.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace

Seaquest::Seaquest(bool ramping) : ramping_(ramping) {
  for (auto* list : {&s_.player_bullets, &s_.enemy_bullets}) list->reserve(kListCapacity);
  for (auto* list : {&s_.fish, &s_.subs, &s_.divers}) list->reserve(kListCapacity);
}

void Seaquest::reset(Rng&) {
  s_.sub_x = 5;
  s_.sub_y = 0;
  s_.facing_right = false;
  s_.oxygen = kMaxOxygen;
  s_.diver_count = 0;
  s_.surfaced = true;
  s_.shot_timer = 0;
  s_.enemy_spawn_speed = kInitialSpawnSpeed;
  s_.enemy_spawn_timer = kInitialSpawnSpeed;
  s_.diver_spawn_timer = kDiverSpawnSpeed;
  s_.move_speed = kInitialMoveSpeed;
  s_.ramp_index = 0;
  s_.player_bullets.clear();
  s_.enemy_bullets.clear();
  s_.fish.clear();
  s_.subs.clear();
  s_.divers.clear();
}

void Seaquest::spawn_enemy(Rng& rng) {
  const bool moving_right = rng.uniform() < 0.5;
  const bool is_sub = rng.uniform() < 1.0 / 3.0;
  const int y = static_cast<int>(rng.integer(1, 8));
  // No spawn into a row where an enemy travels the other way.
  auto opposing = [&](const Swimmer& e) { return e.y == y && e.moving_right != moving_right; };
  if (std::any_of(s_.subs.begin(), s_.subs.end(), opposing) ||
      std::any_of(s_.fish.begin(), s_.fish.end(), opposing))
    return;
  const Swimmer enemy{moving_right ? 0 : 9, y, moving_right, s_.move_speed, kEnemyShotInterval};
  (is_sub ? s_.subs : s_.fish).push_back(enemy);
}

void Seaquest::spawn_diver(Rng& rng) {
  const bool moving_right = rng.uniform() < 0.5;
  const int y = static_cast<int>(rng.integer(1, 8));
  s_.divers.push_back(Swimmer{moving_right ? 0 : 9, y, moving_right, kDiverMoveInterval, 0});
}

void Seaquest::move_player(int action) {
  if (action == kFire) {
    if (s_.shot_timer == 0) {
      s_.player_bullets.push_back(Bullet{s_.sub_x, s_.sub_y, s_.facing_right});
      s_.shot_timer = kShotCoolDown;
    }
  } else if (action == kLeft) {
    s_.sub_x = std::max(0, s_.sub_x - 1);
    s_.facing_right = false;
  } else if (action == kRight) {
    s_.sub_x = std::min(9, s_.sub_x + 1);
    s_.facing_right = true;
  } else if (action == kUp) {
    s_.sub_y = std::max(0, s_.sub_y - 1);
  } else if (action == kDown) {
    s_.sub_y = std::min(8, s_.sub_y + 1);
  }
}

// Lists are walked from the back, as the reference does, so removing the current element
// leaves the rest of the walk intact.
void Seaquest::update_player_bullets(Outcome& out) {
  auto& bullets = s_.player_bullets;
  for (size_t i = bullets.size(); i-- > 0;) {
    Bullet& b = bullets[i];
    b.x += b.moving_right ? 1 : -1;
    if (off_board(b.x)) {
      bullets.erase(bullets.begin() + i);
    } else if (remove_first_at(s_.fish, b.x, b.y) || remove_first_at(s_.subs, b.x, b.y)) {
      bullets.erase(bullets.begin() + i);
      out.reward += 1;
    }
  }
}

void Seaquest::update_divers() {
  auto& divers = s_.divers;
  auto rescue = [&](size_t i) {
    divers.erase(divers.begin() + i);
    ++s_.diver_count;
  };
  for (size_t i = divers.size(); i-- > 0;) {
    Swimmer& d = divers[i];
    if (at_player(d.x, d.y) && s_.diver_count < kMaxDivers) {
      rescue(i);
    } else if (d.move_timer == 0) {
      d.move_timer = kDiverMoveInterval;
      d.x += d.moving_right ? 1 : -1;
      if (off_board(d.x))
        divers.erase(divers.begin() + i);
      else if (at_player(d.x, d.y) && s_.diver_count < kMaxDivers)
        rescue(i);
    } else {
      --d.move_timer;
    }
  }
}

void Seaquest::update_enemies(std::vector<Swimmer>& enemies, bool shoot, Outcome& out) {
  for (size_t i = enemies.size(); i-- > 0;) {
    Swimmer& e = enemies[i];
    bool remove = false;
    if (at_player(e.x, e.y)) out.terminal = true;
    if (e.move_timer == 0) {
      e.move_timer = s_.move_speed;
      e.x += e.moving_right ? 1 : -1;
      if (off_board(e.x)) {
        remove = true;
      } else if (at_player(e.x, e.y)) {
        out.terminal = true;
      } else if (remove_first_at(s_.player_bullets, e.x, e.y)) {
        remove = true;
        out.reward += 1;
      }
    } else {
      --e.move_timer;
    }
    // A sub fires even on the frame it leaves the board or is shot, as in the reference (a
    // bullet fired off the board disappears in the bullet update that follows).
    if (shoot) {
      if (e.shot_timer == 0) {
        e.shot_timer = kEnemyShotInterval;
        s_.enemy_bullets.push_back(Bullet{e.x, e.y, e.moving_right});
      } else {
        --e.shot_timer;
      }
    }
    if (remove) enemies.erase(enemies.begin() + i);
  }
}

void Seaquest::update_enemy_bullets(Outcome& out) {
  auto& bullets = s_.enemy_bullets;
  for (size_t i = bullets.size(); i-- > 0;) {
    Bullet& b = bullets[i];
    if (at_player(b.x, b.y)) out.terminal = true;
    b.x += b.moving_right ? 1 : -1;
    if (off_board(b.x))
      bullets.erase(bullets.begin() + i);
    else if (at_player(b.x, b.y))
      out.terminal = true;
  }
}

int Seaquest::surface() {
  s_.surfaced = true;
  int reward = 0;
  if (s_.diver_count == kMaxDivers) {
    s_.diver_count = 0;
    reward = s_.oxygen * 10 / kMaxOxygen;
  }
  s_.oxygen = kMaxOxygen;
  s_.diver_count -= 1;
  if (ramping_ && (s_.enemy_spawn_speed > 1 || s_.move_speed > 2)) {
    if (s_.move_speed > 2 && s_.ramp_index % 2 == 1) --s_.move_speed;
    if (s_.enemy_spawn_speed > 1) --s_.enemy_spawn_speed;
    ++s_.ramp_index;
  }
  return reward;
}

void Seaquest::update_oxygen(Outcome& out) {
  if (s_.oxygen <= 0) out.terminal = true;
  if (s_.sub_y > 0) {
    --s_.oxygen;
    s_.surfaced = false;
  } else if (!s_.surfaced) {
    if (s_.diver_count == 0)
      out.terminal = true;
    else
      out.reward += surface();
  }
}

Outcome Seaquest::act(int action, Rng& rng) {
  Outcome out;
  if (s_.enemy_spawn_timer == 0) {
    spawn_enemy(rng);
    s_.enemy_spawn_timer = s_.enemy_spawn_speed;
  }
  if (s_.diver_spawn_timer == 0) {
    spawn_diver(rng);
    s_.diver_spawn_timer = kDiverSpawnSpeed;
  }
  move_player(action);
  update_player_bullets(out);
  update_divers();
  update_enemies(s_.subs, /*shoot=*/true, out);
  update_enemy_bullets(out);
  update_enemies(s_.fish, /*shoot=*/false, out);
  if (s_.enemy_spawn_timer > 0) --s_.enemy_spawn_timer;
  if (s_.diver_spawn_timer > 0) --s_.diver_spawn_timer;
  if (s_.shot_timer > 0) --s_.shot_timer;
  update_oxygen(out);
  return out;
}

void Seaquest::write_observation(uint8_t* obs) const {
  std::memset(obs, 0, kChannels * kPlane);
  mark(obs, 0, s_.sub_y, s_.sub_x);
  const int back_x = s_.facing_right ? s_.sub_x - 1 : s_.sub_x + 1;  // On the board in play.
  if (!off_board(back_x)) mark(obs, 1, s_.sub_y, back_x);
  const int oxygen_cells = std::max(0, s_.oxygen) * 10 / kMaxOxygen;
  for (int x = 0; x < oxygen_cells; ++x) mark(obs, 7, 9, x);
  for (int x = 9 - s_.diver_count; x < 9; ++x) mark(obs, 8, 9, x);
  for (const Bullet& b : s_.player_bullets) mark(obs, 2, b.y, b.x);
  for (const Bullet& b : s_.enemy_bullets) mark(obs, 4, b.y, b.x);
  auto draw = [&](const std::vector<Swimmer>& swimmers, int channel) {
    for (const Swimmer& e : swimmers) {
      mark(obs, channel, e.y, e.x);
      const int back_x = e.moving_right ? e.x - 1 : e.x + 1;
      if (!off_board(back_x)) mark(obs, 3, e.y, back_x);
    }
  };
  draw(s_.fish, 5);
  draw(s_.subs, 6);
  draw(s_.divers, 9);
}

RLCADE_REGISTER_ENV({minatar_entry<Seaquest>(
    true, "MinAtar Seaquest: shoot enemies, rescue divers, surface for oxygen", 13.f)});
RLCADE_REGISTER_ENV({minatar_entry<Seaquest>(
    false, "MinAtar Seaquest: shoot enemies, rescue divers, surface for oxygen", 13.f)});

}  // namespace rl::minatar

// Task generators and task-specific rules: layouts are valid and solvable for many seeds,
// Dynamic-Obstacles collisions, Memory's choice, KeyCorridor's target, DoorKey's key and door.
#include <doctest/doctest.h>

#include <deque>

#include "grid_test_util.h"

namespace rl::grid {
namespace {

using testing::GridFixture;

std::vector<std::string> grid_world_ids() {
  std::vector<std::string> ids;
  for (const auto& id : EnvRegistry::global().ids()) {
    if (id.rfind("grid/", 0) != 0) continue;
    if (id.find("cliffwalking") != std::string::npos || id.find("frozenlake") != std::string::npos)
      continue;
    ids.push_back(id);
  }
  return ids;
}

// Cells reachable from the agent when doors can be opened and objects moved: everything but
// walls and lava.
std::vector<uint8_t> reachable(const GridWorld& w) {
  const Grid& g = w.grid();
  std::vector<uint8_t> seen(static_cast<size_t>(g.width()) * g.height(), 0);
  std::deque<Pos> queue{w.agent_pos()};
  seen[w.agent_pos().y * g.width() + w.agent_pos().x] = 1;
  while (!queue.empty()) {
    const Pos p = queue.front();
    queue.pop_front();
    for (const Pos d : kDirVec) {
      const Pos n{p.x + d.x, p.y + d.y};
      if (!g.contains(n) || seen[n.y * g.width() + n.x]) continue;
      const Cell& c = g.at(n);
      if (c.is(Object::kWall) || c.is(Object::kLava)) continue;
      seen[n.y * g.width() + n.x] = 1;
      queue.push_back(n);
    }
  }
  return seen;
}

std::string ascii(const GridWorld& w) {
  static const char kChar[] = "?.#_DkobGL";
  std::string s;
  const Grid& g = w.grid();
  for (int y = 0; y < g.height(); ++y) {
    for (int x = 0; x < g.width(); ++x)
      s += Pos{x, y} == w.agent_pos() ? '@' : kChar[static_cast<int>(g.at(x, y).type)];
    s += '\n';
  }
  return s;
}

int count(const Grid& g, Object type) {
  int n = 0;
  for (int y = 0; y < g.height(); ++y)
    for (int x = 0; x < g.width(); ++x) n += g.at(x, y).is(type);
  return n;
}

TEST_CASE("every grid task generates a layout whose goal or target is reachable") {
  const auto ids = grid_world_ids();
  REQUIRE(ids.size() >= 40);
  for (const auto& id : ids) {
    GridFixture f(id);
    for (uint64_t seed = 0; seed < 40; ++seed) {
      f.env->reset(seed, f.obs);
      const GridWorld& w = *f.world;
      INFO(id, " seed ", seed, "\n", ascii(w));
      REQUIRE(w.grid().at(w.agent_pos()).can_overlap());
      const auto seen = reachable(w);
      const bool is_memory = id.find("memory") != std::string::npos;
      const bool is_keycorridor = id.find("keycorridor") != std::string::npos;
      const Object target = is_keycorridor ? Object::kBall
                            : is_memory    ? Object::kKey
                                           : Object::kGoal;
      const int targets = count(w.grid(), target);
      CHECK(targets >= 1);
      int reached = 0;
      for (int y = 0; y < w.grid().height(); ++y)
        for (int x = 0; x < w.grid().width(); ++x)
          reached += w.grid().at(x, y).is(target) && seen[y * w.grid().width() + x];
      CHECK(reached == targets);
    }
  }
}

TEST_CASE("DoorKey: one locked yellow door in the splitting wall, the yellow key on our side") {
  GridFixture f("grid/doorkey-8x8-v0");
  for (uint64_t seed = 0; seed < 30; ++seed) {
    f.env->reset(seed, f.obs);
    const Grid& g = f.world->grid();
    INFO("seed ", seed, "\n", ascii(*f.world));
    int door_x = -1, key_x = -1;
    for (int y = 0; y < g.height(); ++y)
      for (int x = 0; x < g.width(); ++x) {
        if (g.at(x, y) == Cell::door(Color::kYellow, DoorState::kLocked)) door_x = x;
        if (g.at(x, y) == Cell::key(Color::kYellow)) key_x = x;
      }
    REQUIRE(door_x >= 2);
    CHECK(count(g, Object::kDoor) == 1);
    CHECK(count(g, Object::kKey) == 1);
    CHECK(key_x < door_x);
    CHECK(f.world->agent_pos().x < door_x);
    CHECK(g.at(6, 6) == Cell::goal());
  }
}

TEST_CASE("Dynamic-Obstacles: walking into a ball or a wall costs -1 and ends the episode") {
  GridFixture f("grid/dynamic-obstacles-8x8-v0");
  CHECK(f.env->spec().action_space.n == 3);
  CHECK(f.env->spec().reward_min == -1.f);
  // Face the first ball from a free neighbouring cell.
  const Grid& g = f.world->grid();
  bool placed = false;
  for (int y = 1; y < 7 && !placed; ++y)
    for (int x = 1; x < 7 && !placed; ++x) {
      if (!g.at(x, y).is(Object::kBall)) continue;
      for (int dir = 0; dir < 4 && !placed; ++dir) {
        const Pos from{x - kDirVec[dir].x, y - kDirVec[dir].y};
        if (g.contains(from) && g.at(from).is_empty()) {
          f.world->set_agent(from, dir);
          placed = true;
        }
      }
    }
  REQUIRE(placed);
  const StepResult hit = f.step(kForward);
  CHECK(hit.terminated);
  CHECK(hit.reward == -1.f);

  f.env->reset(3, f.obs);
  CHECK(f.world->agent_pos() == Pos{1, 1});
  f.world->set_agent({1, 1}, 3);  // Facing the top wall.
  const StepResult wall = f.step(kForward);
  CHECK(wall.terminated);
  CHECK(wall.reward == -1.f);
}

TEST_CASE("Dynamic-Obstacles: balls move to free neighbouring cells and never vanish") {
  GridFixture f("grid/dynamic-obstacles-16x16-v0");
  const Grid& g = f.world->grid();
  REQUIRE(count(g, Object::kBall) == 8);
  std::vector<Cell> before;
  int moved = 0;
  for (int step = 0; step < 200; ++step) {
    std::vector<Pos> old_balls;
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x)
        if (g.at(x, y).is(Object::kBall)) old_balls.push_back({x, y});
    const StepResult r = f.step(step % 2 ? kLeft : kRight);  // Turning never collides.
    CHECK_FALSE(r.terminated);
    CHECK(count(g, Object::kBall) == 8);
    CHECK(g.at(14, 14) == Cell::goal());
    CHECK(g.at(f.world->agent_pos()).is_empty());
    for (const Pos& p : old_balls) moved += !g.at(p).is(Object::kBall);
    // Every ball now is within one cell (8-neighbourhood) of some old ball position.
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        if (!g.at(x, y).is(Object::kBall)) continue;
        bool near = false;
        for (const Pos& p : old_balls) near |= std::abs(p.x - x) <= 1 && std::abs(p.y - y) <= 1;
        CHECK(near);
      }
  }
  CHECK(moved > 200);
}

TEST_CASE("Memory: the matching object succeeds, the other one fails") {
  for (uint64_t seed = 0; seed < 8; ++seed) {
    GridFixture f("grid/memory-s7-v0", {}, seed);
    const Grid& g = f.world->grid();
    INFO("seed ", seed, "\n", ascii(*f.world));
    // S7: start object at (1, 2); hallway end at x = 4; choices at (5, 1) and (5, 5).
    const Object cue = g.at(1, 2).type;
    REQUIRE((cue == Object::kKey || cue == Object::kBall));
    const bool upper_matches = g.at(5, 1).type == cue;
    CHECK(g.at(5, 5).type != g.at(5, 1).type);

    // Walk from the hallway junction (5, 3) up or down to the cell next to an object.
    for (const bool go_up : {true, false}) {
      f.env->reset(seed, f.obs);
      f.world->set_agent({5, 3}, go_up ? 3 : 1);
      const StepResult r = f.step(kForward);
      CHECK(r.terminated);
      if (go_up == upper_matches)
        CHECK(r.reward == doctest::Approx(1.0 - 0.9 / (5.0 * 49)));
      else
        CHECK(r.reward == 0.f);
    }
  }
}

// The object types (key or ball) in plane 0 of a partial view, by view cell; 0 elsewhere.
int object_at_view(const std::vector<uint8_t>& obs, int vx, int vy) {
  const uint8_t type = obs[vy * GridWorld::kViewSize + vx];
  return type == static_cast<uint8_t>(Object::kKey) || type == static_cast<uint8_t>(Object::kBall)
             ? type
             : 0;
}

// Plays one S7 episode from the partial view alone: turn left to read the cue (in view from
// every start cell once the agent faces north), walk east until the wall ahead, then step
// toward the object on the side that matches the cue (`remember`) or always up (a memoryless
// guess: at the junction the cue is out of sight). Returns whether the episode succeeded.
bool play_memory_episode(GridFixture& f, uint64_t seed, bool remember) {
  f.env->reset(seed, f.obs);
  constexpr int n = GridWorld::kViewSize, agent_vx = n / 2, agent_vy = n - 1;
  // Face north: the cue, in the start room's top row, is one cell ahead and at most three to
  // the left (the upper choice object is in view too, farther ahead).
  f.step(kLeft);
  int cue = 0;
  for (int vx = 0; vx <= agent_vx && !cue; ++vx) cue = object_at_view(f.obs, vx, agent_vy - 1);
  if (!cue) return false;
  f.step(kRight);
  for (int steps = 0; steps < 8; ++steps) {
    if (f.obs[(agent_vy - 1) * n + agent_vx] == static_cast<uint8_t>(Object::kWall)) break;
    f.step(kForward);
  }
  // Facing east at the junction: the upper object is two cells to the left, the lower one two
  // to the right, both in the agent's row.
  const int upper = object_at_view(f.obs, agent_vx - 2, agent_vy);
  const int lower = object_at_view(f.obs, agent_vx + 2, agent_vy);
  if (!upper || !lower) return false;
  const bool go_up = remember ? upper == cue : true;
  const StepResult r = f.step(go_up ? kLeft : kRight);
  const StepResult chosen = f.step(kForward);
  return !r.terminated && chosen.terminated && chosen.success;
}

TEST_CASE("Memory S7: the cue is in the partial view; remembering it solves the task") {
  GridFixture f("grid/memory-s7-v0");
  int remembered = 0, guessed = 0;
  constexpr int episodes = 400;
  for (uint64_t seed = 0; seed < episodes; ++seed) {
    remembered += play_memory_episode(f, seed, /*remember=*/true);
    guessed += play_memory_episode(f, seed, /*remember=*/false);
  }
  CHECK(remembered == episodes);
  // Without the cue, the choice is a coin flip (the success the feed-forward control reaches).
  CHECK(guessed > 0.4 * episodes);
  CHECK(guessed < 0.6 * episodes);
}

TEST_CASE("Memory: pickup acts as toggle, so objects stay where they are") {
  GridFixture f("grid/memory-s7-v0");
  f.world->set_agent({1, 3}, 3);  // Facing the cue object at (1, 2).
  const Cell cue = f.cell(1, 2);
  f.step(kPickup);
  CHECK(f.world->carrying().is_empty());
  CHECK(f.cell(1, 2) == cue);
}

TEST_CASE("KeyCorridor: picking up the ball succeeds, the key does not") {
  GridFixture f("grid/keycorridor-s3r1-v0");
  const Grid& g = f.world->grid();
  INFO(ascii(*f.world));
  // S3R1 is one row of three 1-cell rooms: key at (1, 1), agent at (3, 1), ball at (5, 1).
  REQUIRE(g.at(1, 1).is(Object::kKey));
  REQUIRE(g.at(5, 1).is(Object::kBall));
  CHECK(g.at(4, 1).is(Object::kDoor));
  CHECK(g.at(4, 1).door_state() == DoorState::kLocked);
  CHECK(g.at(4, 1).color == g.at(1, 1).color);
  CHECK(f.world->agent_pos() == Pos{3, 1});

  f.world->grid().set(2, 1, Cell::empty());  // Open the way to the key.
  f.world->set_agent({2, 1}, 2);
  const StepResult key = f.step(kPickup);
  CHECK_FALSE(key.terminated);
  CHECK(f.world->carrying().is(Object::kKey));

  f.world->set_agent({3, 1}, 0);
  f.step(kToggle);
  CHECK(g.at(4, 1).door_state() == DoorState::kOpen);
  f.step(kForward);
  f.step(kDrop);  // Put the key on the ball? The ball's cell is taken: still carrying.
  CHECK(f.world->carrying().is(Object::kKey));
  f.world->set_carrying(Cell::empty());
  const StepResult ball = f.step(kPickup);
  CHECK(ball.terminated);
  CHECK(ball.reward == doctest::Approx(1.0 - 0.9 * 5.0 / (30.0 * 9)));  // Step 5.
}

TEST_CASE("LavaGap: one gap in a full column of lava") {
  GridFixture f("grid/lavagap-s7-v0");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    f.env->reset(seed, f.obs);
    const Grid& g = f.world->grid();
    CHECK(count(g, Object::kLava) == 7 - 3);
    CHECK(f.world->agent_pos() == Pos{1, 1});
    CHECK(g.at(5, 5) == Cell::goal());
  }
}

TEST_CASE("Crossing: N rivers of lava, N openings") {
  GridFixture f("grid/lavacrossing-s11n5-v0");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    f.env->reset(seed, f.obs);
    const Grid& g = f.world->grid();
    INFO("seed ", seed, "\n", ascii(*f.world));
    // Count lava-free cells on river lines: each river is a full line of 9 interior cells minus
    // openings and crossings with other rivers.
    int rivers = 0;
    for (int k = 2; k < 9; k += 2) {
      int row_lava = 0, col_lava = 0;
      for (int t = 1; t < 10; ++t) {
        row_lava += g.at(t, k).is(Object::kLava);
        col_lava += g.at(k, t).is(Object::kLava);
      }
      rivers += (row_lava >= 7) + (col_lava >= 7);
    }
    CHECK(rivers == 5);
  }
}

TEST_CASE("Maze: a perfect maze, every corridor cell reachable") {
  GridFixture f("grid/maze-13x13-v0");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    f.env->reset(seed, f.obs);
    const Grid& g = f.world->grid();
    INFO("seed ", seed, "\n", ascii(*f.world));
    // A spanning tree over the 6x6 room cells: 36 cells + 35 carved walls between them.
    int open = 0;
    for (int y = 0; y < 13; ++y)
      for (int x = 0; x < 13; ++x) open += !g.at(x, y).is(Object::kWall);
    CHECK(open == 36 + 35);
    const auto seen = reachable(*f.world);
    int reached = 0;
    for (uint8_t s : seen) reached += s;
    CHECK(reached == open);
    CHECK(g.at(11, 11) == Cell::goal());
  }
}

TEST_CASE("MultiRoom: the rooms are chained by closed doors of changing colour") {
  GridFixture f("grid/multiroom-n4-s5-v0");
  for (uint64_t seed = 0; seed < 20; ++seed) {
    f.env->reset(seed, f.obs);
    const Grid& g = f.world->grid();
    INFO("seed ", seed, "\n", ascii(*f.world));
    CHECK(count(g, Object::kDoor) == 3);
    CHECK(count(g, Object::kGoal) == 1);
    for (int y = 0; y < 25; ++y)
      for (int x = 0; x < 25; ++x)
        if (g.at(x, y).is(Object::kDoor)) CHECK(g.at(x, y).door_state() == DoorState::kClosed);
  }
}

}  // namespace
}  // namespace rl::grid

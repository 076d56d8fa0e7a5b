// The MiniGrid action semantics of the grid engine, on hand-made states.
#include <doctest/doctest.h>

#include "grid_test_util.h"

namespace rl::grid {
namespace {

using testing::GridFixture;

TEST_CASE("turning cycles through the four directions") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({3, 3}, 0);
  const int expected_right[4] = {1, 2, 3, 0};
  for (int d : expected_right) {
    f.step(kRight);
    CHECK(f.world->agent_dir() == d);
  }
  f.step(kLeft);
  CHECK(f.world->agent_dir() == 3);
  CHECK(f.world->agent_pos() == Pos{3, 3});
}

TEST_CASE("forward moves onto free cells and is blocked by walls, objects and closed doors") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({1, 1}, 2);  // Facing the left wall.
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{1, 1});
  f.world->set_agent({1, 1}, 0);
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{2, 1});

  f.world->grid().set(3, 1, Cell::ball(Color::kRed));
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{2, 1});

  f.world->grid().set(3, 1, Cell::door(Color::kBlue, DoorState::kClosed));
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{2, 1});
  f.world->grid().set(3, 1, Cell::door(Color::kBlue, DoorState::kOpen));
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{3, 1});

  f.world->grid().set(4, 1, Cell::floor());
  const StepResult r = f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{4, 1});
  CHECK_FALSE(r.terminated);
}

TEST_CASE("a locked door opens only with a key of its colour") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({2, 2}, 0);
  f.world->grid().set(3, 2, Cell::door(Color::kYellow, DoorState::kLocked));

  f.step(kToggle);  // No key.
  CHECK(f.cell(3, 2).door_state() == DoorState::kLocked);
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{2, 2});

  f.world->set_carrying(Cell::key(Color::kRed));  // Wrong colour.
  f.step(kToggle);
  CHECK(f.cell(3, 2).door_state() == DoorState::kLocked);

  f.world->set_carrying(Cell::ball(Color::kYellow));  // Right colour, not a key.
  f.step(kToggle);
  CHECK(f.cell(3, 2).door_state() == DoorState::kLocked);

  f.world->set_carrying(Cell::key(Color::kYellow));
  f.step(kToggle);
  CHECK(f.cell(3, 2).door_state() == DoorState::kOpen);
  CHECK(f.world->carrying() == Cell::key(Color::kYellow));  // The key is kept.

  // Once unlocked, the door toggles between closed and open without needing the key.
  f.world->set_carrying(Cell::empty());
  f.step(kToggle);
  CHECK(f.cell(3, 2).door_state() == DoorState::kClosed);
  f.step(kToggle);
  CHECK(f.cell(3, 2).door_state() == DoorState::kOpen);
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{3, 2});
}

TEST_CASE("pickup carries one object; drop puts it on a free cell only") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({2, 2}, 0);
  Grid& g = f.world->grid();
  g.set(3, 2, Cell::ball(Color::kPurple));
  g.set(2, 3, Cell::key(Color::kBlue));

  f.step(kPickup);
  CHECK(f.world->carrying() == Cell::ball(Color::kPurple));
  CHECK(f.cell(3, 2).is_empty());

  f.step(kRight);  // Facing the key (down); hands are full.
  f.step(kPickup);
  CHECK(f.cell(2, 3) == Cell::key(Color::kBlue));
  CHECK(f.world->carrying() == Cell::ball(Color::kPurple));

  f.step(kDrop);  // The key's cell is taken.
  CHECK(f.world->carrying() == Cell::ball(Color::kPurple));
  CHECK(f.cell(2, 3) == Cell::key(Color::kBlue));

  f.step(kRight);
  f.step(kRight);  // Facing up, a free cell.
  f.step(kDrop);
  CHECK(f.world->carrying().is_empty());
  CHECK(f.cell(2, 1) == Cell::ball(Color::kPurple));

  f.step(kDrop);  // Nothing to drop: no change.
  CHECK(f.cell(2, 1) == Cell::ball(Color::kPurple));
}

TEST_CASE("walls, doors, goals and lava cannot be picked up") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({2, 2}, 0);
  const Cell fixed[] = {Cell::wall(), Cell::door(Color::kRed, DoorState::kClosed), Cell::goal(),
                        Cell::lava(), Cell::floor()};
  for (const Cell& c : fixed) {
    f.world->grid().set(3, 2, c);
    f.step(kPickup);
    CHECK(f.world->carrying().is_empty());
    CHECK(f.cell(3, 2) == c);
  }
}

TEST_CASE("toggling a box replaces it by its content; a carried box keeps its content") {
  GridFixture f("grid/empty-8x8-v0");
  f.blank_room({2, 2}, 0);
  const Cell box = Cell::box(Color::kGreen, Object::kKey, Color::kRed);
  f.world->grid().set(3, 2, box);
  f.step(kPickup);
  CHECK(f.world->carrying() == box);
  f.step(kDrop);
  CHECK(f.cell(3, 2) == box);
  f.step(kToggle);
  CHECK(f.cell(3, 2) == Cell::key(Color::kRed));

  f.world->grid().set(3, 2, Cell::box(Color::kGreen));
  f.step(kToggle);
  CHECK(f.cell(3, 2).is_empty());
}

TEST_CASE("lava ends the episode with zero reward") {
  GridFixture f("grid/lavagap-s7-v0");
  f.blank_room({2, 2}, 0);
  f.world->grid().set(3, 2, Cell::lava());
  const StepResult r = f.step(kForward);
  CHECK(r.terminated);
  CHECK_FALSE(r.truncated);
  CHECK(r.reward == 0.f);
  CHECK(f.world->agent_pos() == Pos{3, 2});
}

TEST_CASE("reaching the goal pays 1 - 0.9 * steps / max_steps") {
  for (const int64_t max_steps : {int64_t{0}, int64_t{100}}) {
    std::map<std::string, ParamValue> params;
    if (max_steps) params["max_episode_steps"] = max_steps;
    GridFixture f("grid/empty-8x8-v0", params);
    const double limit = max_steps ? 100.0 : 4.0 * 8 * 8;  // MiniGrid's Empty limit: 4 * size^2.
    CHECK(f.env->spec().max_episode_steps == static_cast<int64_t>(limit));
    f.blank_room({5, 6}, 0);
    f.world->grid().set(6, 6, Cell::goal());
    for (int i = 0; i < 6; ++i) CHECK(f.step(kDone).reward == 0.f);  // Done is a no-op.
    CHECK(f.world->agent_pos() == Pos{5, 6});
    const StepResult r = f.step(kForward);  // Step 7.
    CHECK(r.terminated);
    CHECK(r.reward == doctest::Approx(1.0 - 0.9 * 7.0 / limit));
  }
}

TEST_CASE("success on the very first step pays almost 1, and the limit truncates") {
  GridFixture f("grid/empty-5x5-v0");
  // The fixed start is (1, 1) facing right; the goal is at (3, 3).
  CHECK(f.world->agent_pos() == Pos{1, 1});
  CHECK(f.world->agent_dir() == 0);
  CHECK(f.cell(3, 3) == Cell::goal());
  f.world->set_agent({3, 2}, 1);
  const StepResult r = f.step(kForward);
  CHECK(r.reward == doctest::Approx(1.0 - 0.9 / 100.0));

  f.env->set_max_episode_steps(3);
  f.env->reset(f.obs);
  StepResult last;
  for (int i = 0; i < 3; ++i) last = f.step(kLeft);
  CHECK(last.truncated);
  CHECK_FALSE(last.terminated);
}

TEST_CASE("set_agent rejects cells the agent cannot occupy") {
  GridFixture f("grid/empty-8x8-v0");
  CHECK_THROWS_AS(f.world->set_agent({0, 0}, 0), std::invalid_argument);
  CHECK_THROWS_AS(f.world->set_agent({20, 1}, 0), std::invalid_argument);
  CHECK_THROWS_AS(f.world->set_agent({1, 1}, 4), std::invalid_argument);
}

TEST_CASE("unknown observation modes and bad step limits are rejected with the key named") {
  CHECK_THROWS_WITH_AS(
      EnvRegistry::global().make("grid/empty-8x8-v0", {{"observation", std::string("rgb")}}),
      doctest::Contains("observation"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      EnvRegistry::global().make("grid/empty-8x8-v0", {{"max_episode_steps", int64_t{0}}}),
      doctest::Contains("max_episode_steps"), std::invalid_argument);
}

TEST_CASE("actions: move keeps left, right and forward; all (the default) the task's set") {
  auto make = [](const std::string& id, const std::string& actions) {
    return EnvRegistry::global().make(id, {{"actions", actions}});
  };
  const auto memory_all = EnvRegistry::global().make("grid/memory-s7-v0", {});
  CHECK(memory_all->spec().action_space.n == kNumGridActions);
  const auto memory_move = make("grid/memory-s7-v0", "move");
  CHECK(memory_move->spec().action_space.n == 3);
  CHECK(memory_move->spec().action_names == std::vector<std::string>{"left", "right", "forward"});
  // A task whose own set is already the three moves keeps it under both settings.
  CHECK(make("grid/dynamic-obstacles-5x5-v0", "all")->spec().action_space.n == 3);
  CHECK(make("grid/dynamic-obstacles-5x5-v0", "move")->spec().action_space.n == 3);
  // The moves act as before, and the dropped actions are refused.
  GridFixture f("grid/empty-8x8-v0", {{"actions", std::string("move")}});
  f.blank_room({3, 3}, 0);
  f.step(kForward);
  CHECK(f.world->agent_pos() == Pos{4, 3});
  f.step(kLeft);
  CHECK(f.world->agent_dir() == 3);
  CHECK_THROWS_AS(f.step(kPickup), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make("grid/memory-s7-v0", "turn"), doctest::Contains("actions"),
                       std::invalid_argument);
}

TEST_CASE("render draws tiles, the agent and the highlighted view") {
  GridFixture f("grid/empty-5x5-v0");
  Image img;
  f.env->render(img);
  REQUIRE(img.width == 5 * 32);
  REQUIRE(img.height == 5 * 32);
  // Goal tile (3, 3) is green; the agent's tile (1, 1) has red in its centre.
  const rl::Color goal = img.at(3 * 32 + 16, 3 * 32 + 16);
  CHECK(goal.g > 200);
  CHECK(goal.r < 100);
  const rl::Color agent = img.at(1 * 32 + 16, 1 * 32 + 16);
  CHECK(agent.r > 200);
  CHECK(agent.g < 100);
  // A visible empty floor tile is lightened; one behind the agent is black.
  const rl::Color seen = img.at(2 * 32 + 16, 2 * 32 + 16);
  const rl::Color behind = img.at(0 * 32 + 16, 2 * 32 + 16);  // Wall at (0, 2) is outside the view.
  CHECK(seen.r > 50);
  CHECK(behind == rl::Color{100, 100, 100});
}

}  // namespace
}  // namespace rl::grid

namespace rl::grid {
namespace {

TEST_CASE("render highlights exactly the cells the agent sees") {
  testing::GridFixture f("grid/fourrooms-v0");
  f.blank_room({9, 9}, 3);
  f.world->grid().horz_wall(6, 6, 7);  // A wall across the whole view, three cells ahead.
  Image img;
  f.env->render(img);
  const int tile = img.width / 19;
  auto centre = [&](int x, int y) { return img.at(x * tile + tile / 2, y * tile + tile / 2); };
  const rl::Color lit = centre(9, 7);  // Seen empty floor: black lightened.
  CHECK(lit.r > 50);
  CHECK(centre(9, 4) == rl::Color{0, 0, 0});   // Behind the wall: unlit.
  CHECK(centre(13, 8) == rl::Color{0, 0, 0});  // Beside the 7-wide view: unlit.
  CHECK(centre(12, 8) == lit);                 // Edge of the view: lit.
  CHECK(centre(9, 10) == rl::Color{0, 0, 0});  // Behind the agent: unlit.
}

}  // namespace
}  // namespace rl::grid

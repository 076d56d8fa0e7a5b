// Observation encodings: the partial view (orientation, occlusion per MiniGrid's process_vis,
// carried object, direction plane) and the fully observable grid. Expected arrays are worked
// out by hand from MiniGrid's rules.
#include <doctest/doctest.h>

#include "grid_test_util.h"

namespace rl::grid {
namespace {

using testing::GridFixture;
using testing::plane;
using testing::plane_from_rows;
using testing::plane_text;

constexpr int kView = GridWorld::kViewSize;
constexpr int kViewPlane = kView * kView;

void check_plane(const std::vector<uint8_t>& obs, int c, const std::vector<std::string>& rows) {
  const auto actual = plane(obs, c, kViewPlane);
  const auto expected = plane_from_rows(rows);
  INFO("plane ", c, "\nactual:\n", plane_text(actual, kView), "expected:\n",
       plane_text(expected, kView));
  CHECK(actual == expected);
}

// FourRooms is 19x19 and occludes; with the agent at (9, 9) facing up, view cell (vx, vy) is
// world (6 + vx, 3 + vy).
GridFixture occluding_room() {
  GridFixture f("grid/fourrooms-v0");
  f.blank_room({9, 9}, 3);
  return f;
}

TEST_CASE("partial observation space is 4x7x7 u8 and full is 3xHxW") {
  GridFixture partial("grid/doorkey-8x8-v0");
  const Space& p = partial.env->spec().observation_space;
  CHECK(p.shape == std::vector<int64_t>{4, 7, 7});
  CHECK(p.dtype == DType::kU8);
  GridFixture full("grid/doorkey-8x8-v0", {{"observation", std::string("full")}});
  CHECK(full.env->spec().observation_space.shape == std::vector<int64_t>{3, 8, 8});
  GridFixture wide("grid/keycorridor-s3r1-v0", {{"observation", std::string("full")}});
  CHECK(wide.env->spec().observation_space.shape == std::vector<int64_t>{3, 3, 7});
}

TEST_CASE("onehot: 24x7x7 of 0/1, each cell one plane per code of the partial view") {
  // Twin envs of the same seed, one per encoding, taking the same actions (doors, keys and a
  // carried object show up in DoorKey's codes).
  for (const char* id : {"grid/doorkey-8x8-v0", "grid/memory-s7-v0"}) {
    GridFixture partial(id, {}, 7);
    GridFixture one_hot(id, {{"observation", std::string("onehot")}}, 7);
    const Space& space = one_hot.env->spec().observation_space;
    CHECK(space.shape == std::vector<int64_t>{GridWorld::kOneHotPlanes, kView, kView});
    CHECK(space.dtype == DType::kU8);
    CHECK(GridWorld::kOneHotPlanes == 24);
    const int first_plane[4] = {GridWorld::kOneHotObject, GridWorld::kOneHotColor,
                                GridWorld::kOneHotState, GridWorld::kOneHotDirection};
    const int plane_count[4] = {GridWorld::kOneHotColor, kNumColors, 3, 4};
    for (int step = 0; step < 60; ++step) {
      INFO(id, " step ", step);
      for (int i = 0; i < kViewPlane; ++i) {
        int ones = 0;
        for (int c = 0; c < GridWorld::kOneHotPlanes; ++c) ones += one_hot.obs[c * kViewPlane + i];
        CHECK(ones == 4);  // One bit per code.
        for (int code = 0; code < 4; ++code) {
          const int value = partial.obs[code * kViewPlane + i];
          REQUIRE(value < plane_count[code]);
          CHECK(one_hot.obs[(first_plane[code] + value) * kViewPlane + i] == 1);
        }
      }
      const int64_t action = (step * 5 + step / 7) % 6;  // Turns, moves, pickups, toggles.
      const bool ended = partial.step(action).terminated;
      CHECK(one_hot.step(action).terminated == ended);
      if (ended) break;
    }
  }
}

TEST_CASE("a wall across the view hides everything behind it; the agent cell shows its load") {
  GridFixture f = occluding_room();
  Grid& g = f.world->grid();
  g.horz_wall(6, 6, 7);                                       // View row 3.
  g.set(11, 6, Cell::door(Color::kRed, DoorState::kClosed));  // View (5, 3).
  g.set(7, 4, Cell::ball(Color::kPurple));                    // View (1, 1), behind the wall.
  f.world->set_carrying(Cell::key(Color::kGreen));
  const auto& obs = f.observe();
  check_plane(obs, 0,
              {"0000000", "0000000", "0000000", "2222242", "1111111", "1111111", "1115111"});
  check_plane(obs, 1,
              {"0000000", "0000000", "0000000", "5555505", "0000000", "0000000", "0001000"});
  check_plane(obs, 2,
              {"0000000", "0000000", "0000000", "0000010", "0000000", "0000000", "0000000"});
  check_plane(obs, 3,
              {"3333333", "3333333", "3333333", "3333333", "3333333", "3333333", "3333333"});

  SUBCASE("opening the door lets light through, and it spreads sideways behind the wall") {
    g.set(11, 6, Cell::door(Color::kRed, DoorState::kOpen));
    const auto& open = f.observe();
    check_plane(open, 0,
                {"1111111", "1611111", "1111111", "2222242", "1111111", "1111111", "1115111"});
    check_plane(open, 1,
                {"0000000", "0300000", "0000000", "5555505", "0000000", "0000000", "0001000"});
    check_plane(open, 2,
                {"0000000", "0000000", "0000000", "0000000", "0000000", "0000000", "0000000"});
  }
}

TEST_CASE("a short wall segment does not hide the cell right behind it (MiniGrid's sweep)") {
  GridFixture f = occluding_room();
  Grid& g = f.world->grid();
  g.horz_wall(8, 7, 3);                    // View (2..4, 4).
  g.set(9, 6, Cell::key(Color::kYellow));  // View (3, 3), straight behind the wall.
  const auto& obs = f.observe();
  check_plane(obs, 0,
              {"1111111", "1111111", "1111111", "1115111", "1122211", "1111111", "1111111"});
  check_plane(obs, 1,
              {"0000000", "0000000", "0000000", "0004000", "0055500", "0000000", "0000000"});
}

TEST_CASE("the outer wall blocks the view of what lies beyond the grid") {
  // Facing the top wall from (9, 2): view rows 0..3 are outside the grid, row 4 is the wall.
  GridFixture occluding("grid/fourrooms-v0");
  occluding.blank_room({9, 2}, 3);
  check_plane(occluding.observe(), 0,
              {"0000000", "0000000", "0000000", "0000000", "2222222", "1111111", "1111111"});

  // Empty sets see_through_walls (as in MiniGrid): no occlusion, outside reads as wall.
  GridFixture clear("grid/empty-16x16-v0");
  clear.blank_room({9, 2}, 3);
  check_plane(clear.observe(), 0,
              {"2222222", "2222222", "2222222", "2222222", "2222222", "1111111", "1111111"});
}

TEST_CASE("the view turns with the agent: an object ahead-left appears at view (2, 4)") {
  // For each direction, put a ball two cells ahead and one cell to the left of the agent.
  const Pos ahead_left[4] = {{11, 8}, {10, 11}, {7, 10}, {8, 7}};
  for (int dir = 0; dir < 4; ++dir) {
    INFO("direction ", dir);
    GridFixture f("grid/fourrooms-v0");
    f.blank_room({9, 9}, dir);
    f.world->grid().set(ahead_left[dir], Cell::ball(Color::kBlue));
    const auto& obs = f.observe();
    int balls = 0;
    for (int i = 0; i < kViewPlane; ++i) balls += obs[i] == static_cast<uint8_t>(Object::kBall);
    CHECK(balls == 1);
    CHECK(obs[4 * kView + 2] == static_cast<uint8_t>(Object::kBall));
    CHECK(obs[kViewPlane + 4 * kView + 2] == static_cast<uint8_t>(Color::kBlue));
    CHECK(obs[3 * kViewPlane] == dir);
  }
}

TEST_CASE("full observation is the encoded grid with the agent marked (FullyObsWrapper)") {
  GridFixture f("grid/empty-5x5-v0", {{"observation", std::string("full")}});
  f.world->grid().set(2, 1, Cell::door(Color::kBlue, DoorState::kLocked));
  f.world->set_agent({1, 2}, 3);
  const auto& obs = f.observe();
  const int p = 25;
  auto at = [&](int c, int x, int y) { return obs[c * p + y * 5 + x]; };
  CHECK(at(0, 0, 0) == 2);  // Wall, grey.
  CHECK(at(1, 0, 0) == 5);
  CHECK(at(0, 3, 3) == 8);  // Goal, green.
  CHECK(at(1, 3, 3) == 1);
  CHECK(at(0, 2, 1) == 4);  // Locked blue door.
  CHECK(at(1, 2, 1) == 2);
  CHECK(at(2, 2, 1) == 2);
  CHECK(at(0, 1, 2) == 10);  // Agent, red, facing up.
  CHECK(at(1, 1, 2) == 0);
  CHECK(at(2, 1, 2) == 3);
  CHECK(at(0, 1, 1) == 1);  // Empty.
  CHECK(at(1, 1, 1) == 0);
  CHECK(at(2, 1, 1) == 0);
}

TEST_CASE("step writes the observation of the new state") {
  GridFixture f("grid/empty-8x8-v0", {{"observation", std::string("full")}});
  f.step(kForward);
  CHECK(f.obs[1 * 8 + 2] == 10);  // The agent moved from (1, 1) to (2, 1).
  CHECK(f.obs[1 * 8 + 1] == 1);
}

}  // namespace
}  // namespace rl::grid

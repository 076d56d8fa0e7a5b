#include "agents/common/action_masks.h"

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace rl {
namespace {

TEST_CASE("check_action_masks: size and an all-illegal row are errors naming the agent") {
  const std::vector<uint8_t> good = {1, 0, 0, 1, 1, 1};
  CHECK_NOTHROW(check_action_masks(good, 2, 3, "dqn"));
  CHECK_THROWS_WITH_AS(check_action_masks(good, 3, 3, "ppo"),
                       "ppo: expected 9 legal-action mask bytes (3 rows of 3), got 6",
                       std::invalid_argument);
  const std::vector<uint8_t> second_empty = {1, 0, 0, 0, 0, 0};
  CHECK_THROWS_WITH_AS(check_action_masks(second_empty, 2, 3, "sac"),
                       "sac: row 1 has no legal action in its mask", std::invalid_argument);
}

TEST_CASE("uniform_legal_action: only legal actions, each about equally often") {
  Rng rng(3);
  const std::vector<uint8_t> legal = {0, 1, 0, 1, 1};
  std::vector<int> counts(5, 0);
  const int draws = 3000;
  for (int i = 0; i < draws; ++i) ++counts[uniform_legal_action(rng, legal.data(), 5)];
  CHECK(counts[0] == 0);
  CHECK(counts[2] == 0);
  for (int a : {1, 3, 4}) CHECK(std::abs(counts[a] - draws / 3) < 150);
  const std::vector<uint8_t> one = {0, 0, 1};
  CHECK(uniform_legal_action(rng, one.data(), 3) == 2);
}

}  // namespace
}  // namespace rl

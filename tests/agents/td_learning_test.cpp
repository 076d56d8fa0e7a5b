#include "agents/dqn/td_learning.h"

#include <doctest/doctest.h>

#include <vector>

namespace rl {
namespace {

// Two next states, three actions each.
const std::vector<float> kTargetQ = {1.f,  5.f,  3.f,  //
                                     -2.f, -1.f, 4.f};
const std::vector<float> kOnlineQ = {9.f, 0.f, 2.f,  //
                                     0.f, 7.f, 1.f};

TEST_CASE("td_targets: double DQN values the online network's legal argmax by the target net") {
  const std::vector<float> rewards = {0.5f, 1.f}, discounts = {0.9f, 0.f};
  std::vector<float> targets(2);
  td_targets(rewards.data(), discounts.data(), kTargetQ.data(), kOnlineQ.data(), nullptr, 2, 3,
             targets.data());
  CHECK(targets[0] == doctest::Approx(0.5f + 0.9f * 1.f));  // Online picks action 0.
  CHECK(targets[1] == doctest::Approx(1.f));                // Terminated: no bootstrap.
  // Masking out action 0 of the first state moves the online choice to action 2.
  const std::vector<uint8_t> legal = {0, 1, 1, 1, 1, 1};
  td_targets(rewards.data(), discounts.data(), kTargetQ.data(), kOnlineQ.data(), legal.data(), 2, 3,
             targets.data());
  CHECK(targets[0] == doctest::Approx(0.5f + 0.9f * 3.f));
}

TEST_CASE("td_targets: plain DQN takes the max of the target network over the legal actions") {
  std::vector<float> values(2);
  next_state_values(kTargetQ.data(), nullptr, nullptr, 2, 3, values.data());
  CHECK(values[0] == 5.f);
  CHECK(values[1] == 4.f);
  const std::vector<uint8_t> legal = {1, 0, 1, 1, 1, 0};
  next_state_values(kTargetQ.data(), nullptr, legal.data(), 2, 3, values.data());
  CHECK(values[0] == 3.f);
  CHECK(values[1] == -1.f);
}

TEST_CASE("greedy_action: the best legal action, ties to the lowest") {
  const std::vector<float> q = {2.f, 7.f, 7.f, 1.f};
  CHECK(greedy_action(q.data(), nullptr, 4) == 1);
  const std::vector<uint8_t> legal = {1, 0, 1, 1};
  CHECK(greedy_action(q.data(), legal.data(), 4) == 2);
  const std::vector<uint8_t> only_last = {0, 0, 0, 1};
  CHECK(greedy_action(q.data(), only_last.data(), 4) == 3);
}

}  // namespace
}  // namespace rl

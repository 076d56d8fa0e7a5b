#include "core/replay_buffer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/vector_env.h"

namespace rl {
namespace {

const Space kScalarObs = Space::box({1}, -1e6f, 1e6f, DType::kF32);
const Space kFourActions = Space::discrete(4);

std::span<const uint8_t> bytes_of(const float& value) {
  return {reinterpret_cast<const uint8_t*>(&value), sizeof(float)};
}

// Adds a transition whose observation is the scalar `obs` and next observation `next`.
void add_scalar(ReplayBuffer& buffer, int env, float obs, int64_t action, float reward, float next,
                bool terminated = false, bool truncated = false) {
  buffer.add(env, bytes_of(obs), action, {}, reward, bytes_of(next), terminated, truncated);
}

struct Stored {
  float obs, next_obs, reward, discount;
  int64_t action;
};

float scalar_at(const std::vector<uint8_t>& bytes, int i) {
  float value;
  std::memcpy(&value, bytes.data() + i * sizeof(float), sizeof(float));
  return value;
}

// Reads every stored transition of a scalar-observation buffer, keyed by slot, by sampling
// uniformly until every slot has been seen.
std::map<int64_t, Stored> read_all(const ReplayBuffer& buffer) {
  std::map<int64_t, Stored> slots;
  Rng rng(11);
  ReplayBatch batch;
  for (int round = 0; round < 1000 && static_cast<int64_t>(slots.size()) < buffer.size(); ++round) {
    buffer.sample(64, rng, batch);
    for (int b = 0; b < batch.size; ++b)
      slots[batch.indices[b]] = {scalar_at(batch.observations, b),
                                 scalar_at(batch.next_observations, b), batch.rewards[b],
                                 batch.discounts[b], batch.discrete_actions[b]};
  }
  REQUIRE(static_cast<int64_t>(slots.size()) == buffer.size());
  return slots;
}

void check_stored(const Stored& s, float obs, int64_t action, double reward, float next_obs,
                  double discount) {
  CHECK(s.obs == obs);
  CHECK(s.action == action);
  CHECK(s.reward == doctest::Approx(reward));
  CHECK(s.next_obs == next_obs);
  CHECK(s.discount == doctest::Approx(discount));
}

TEST_CASE("replay: one-step transitions wrap around the capacity") {
  ReplayOptions options;
  options.capacity = 5;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  CHECK(buffer.size() == 0);
  for (int i = 0; i < 12; ++i) {
    add_scalar(buffer, 0, static_cast<float>(i), i % 4, 10.f + i, i + 0.5f);
    CHECK(buffer.size() == std::min(i + 1, 5));
  }
  CHECK(buffer.capacity() == 5);
  // Transitions 7..11 survive; transition i sits in slot i % 5.
  const auto slots = read_all(buffer);
  for (int i = 7; i < 12; ++i)
    check_stored(slots.at(i % 5), static_cast<float>(i), i % 4, 10.0 + i, i + 0.5f, 0.99);
}

TEST_CASE("replay: n-step returns match hand-computed values") {
  ReplayOptions options;
  options.capacity = 32;
  options.n_step = 3;
  options.gamma = 0.5;

  SUBCASE("full windows, then termination in the middle of a window") {
    ReplayBuffer buffer(kScalarObs, kFourActions, options);
    // Steps t = 0..5 with obs t, action t % 4, reward t + 1, next obs t + 1.
    for (int t = 0; t < 6; ++t) add_scalar(buffer, 0, t, t % 4, t + 1.f, t + 1.f);
    CHECK(buffer.size() == 4);  // Windows starting at 0..3 are complete.
    // The episode terminates at step 6 (reward 7) with final observation 100.
    add_scalar(buffer, 0, 6, 2, 7.f, 100.f, /*terminated=*/true);
    CHECK(buffer.size() == 7);
    const auto s = read_all(buffer);
    check_stored(s.at(0), 0, 0, 1 + 0.5 * 2 + 0.25 * 3, 3, 0.125);
    check_stored(s.at(1), 1, 1, 2 + 0.5 * 3 + 0.25 * 4, 4, 0.125);
    check_stored(s.at(2), 2, 2, 3 + 0.5 * 4 + 0.25 * 5, 5, 0.125);
    check_stored(s.at(3), 3, 3, 4 + 0.5 * 5 + 0.25 * 6, 6, 0.125);
    // Terminated: the remaining windows flush with discount 0.
    check_stored(s.at(4), 4, 0, 5 + 0.5 * 6 + 0.25 * 7, 100, 0.0);
    check_stored(s.at(5), 5, 1, 6 + 0.5 * 7, 100, 0.0);
    check_stored(s.at(6), 6, 2, 7, 100, 0.0);
  }

  SUBCASE("truncation bootstraps from the final observation") {
    ReplayBuffer buffer(kScalarObs, kFourActions, options);
    add_scalar(buffer, 0, 0, 1, 1.f, 1.f);
    add_scalar(buffer, 0, 1, 2, 2.f, 2.f);
    CHECK(buffer.size() == 0);
    add_scalar(buffer, 0, 2, 3, 4.f, 50.f, false, /*truncated=*/true);
    CHECK(buffer.size() == 3);
    const auto s = read_all(buffer);
    check_stored(s.at(0), 0, 1, 1 + 0.5 * 2 + 0.25 * 4, 50, 0.125);
    check_stored(s.at(1), 1, 2, 2 + 0.5 * 4, 50, 0.25);
    check_stored(s.at(2), 2, 3, 4, 50, 0.5);
  }

  SUBCASE("an episode shorter than n, and no mixing across episodes") {
    ReplayBuffer buffer(kScalarObs, kFourActions, options);
    add_scalar(buffer, 0, 0, 0, 1.f, 1.f);
    add_scalar(buffer, 0, 1, 0, 2.f, 9.f, /*terminated=*/true);
    // Next episode: obs 20, 21, 22, 23.
    for (int t = 0; t < 4; ++t) add_scalar(buffer, 0, 20 + t, 1, 10.f, 21.f + t);
    CHECK(buffer.size() == 4);
    const auto s = read_all(buffer);
    check_stored(s.at(0), 0, 0, 1 + 0.5 * 2, 9, 0.0);
    check_stored(s.at(1), 1, 0, 2, 9, 0.0);
    check_stored(s.at(2), 20, 1, 10 + 5 + 2.5, 23, 0.125);
    check_stored(s.at(3), 21, 1, 10 + 5 + 2.5, 24, 0.125);
  }
}

TEST_CASE("replay: n-step windows are kept per env when envs interleave") {
  ReplayOptions options;
  options.capacity = 32;
  options.num_envs = 2;
  options.n_step = 2;
  options.gamma = 0.9;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  // Env 0: obs 0,1,2 rewards 1,2,3 then terminates. Env 1: obs 100,101,102,103 rewards
  // 10,20,30,40 then truncates, final obs 999.
  add_scalar(buffer, 0, 0, 0, 1.f, 1.f);
  add_scalar(buffer, 1, 100, 1, 10.f, 101.f);
  add_scalar(buffer, 1, 101, 1, 20.f, 102.f);  // -> slot 0: env 1 window [100, 101]
  add_scalar(buffer, 0, 1, 0, 2.f, 2.f);       // -> slot 1: env 0 window [0, 1]
  add_scalar(buffer, 1, 102, 1, 30.f, 103.f);  // -> slot 2: env 1 window [101, 102]
  add_scalar(buffer, 0, 2, 0, 3.f, 77.f, /*terminated=*/true);            // -> slots 3, 4
  add_scalar(buffer, 1, 103, 1, 40.f, 999.f, false, /*truncated=*/true);  // -> slots 5, 6
  CHECK(buffer.size() == 7);
  const auto s = read_all(buffer);
  check_stored(s.at(0), 100, 1, 10 + 0.9 * 20, 102, 0.81);
  check_stored(s.at(1), 0, 0, 1 + 0.9 * 2, 2, 0.81);
  check_stored(s.at(2), 101, 1, 20 + 0.9 * 30, 103, 0.81);
  check_stored(s.at(3), 1, 0, 2 + 0.9 * 3, 77, 0.0);
  check_stored(s.at(4), 2, 0, 3, 77, 0.0);
  check_stored(s.at(5), 102, 1, 30 + 0.9 * 40, 999, 0.81);
  check_stored(s.at(6), 103, 1, 40, 999, 0.9);
}

TEST_CASE("replay: observation dtype is preserved") {
  SUBCASE("u8 stays u8, every byte value round-trips") {
    const Space obs_space = Space::box({2, 2}, 0.f, 255.f, DType::kU8);
    ReplayOptions options;
    options.capacity = 64;
    ReplayBuffer buffer(obs_space, kFourActions, options);
    CHECK(buffer.observation_bytes() == 4);
    CHECK(buffer.stored_observation_bytes() == 4);
    for (int i = 0; i < 64; ++i) {
      const uint8_t obs[4] = {uint8_t(i), uint8_t(255 - i), uint8_t(i * 3), uint8_t(i ^ 0x5a)};
      const uint8_t next[4] = {uint8_t(i + 1), 7, 0, 255};
      buffer.add(0, obs, i % 4, {}, 0.f, next, false, false);
    }
    Rng rng(1);
    ReplayBatch batch;
    buffer.sample(256, rng, batch);
    REQUIRE(batch.observations.size() == 256 * 4);
    for (int b = 0; b < batch.size; ++b) {
      const int i = static_cast<int>(batch.indices[b]);
      const uint8_t* o = batch.observations.data() + 4 * b;
      const uint8_t* n = batch.next_observations.data() + 4 * b;
      REQUIRE(o[0] == uint8_t(i));
      REQUIRE(o[1] == uint8_t(255 - i));
      REQUIRE(o[2] == uint8_t(i * 3));
      REQUIRE(o[3] == uint8_t(i ^ 0x5a));
      REQUIRE(n[0] == uint8_t(i + 1));
      REQUIRE(n[3] == 255);
      REQUIRE(batch.discrete_actions[b] == i % 4);
    }
  }
  SUBCASE("f32 values round-trip bit for bit, continuous actions too") {
    const Space obs_space = Space::box({3}, -1e30f, 1e30f, DType::kF32);
    const Space action_space = Space::box({2}, -1.f, 1.f, DType::kF32);
    ReplayOptions options;
    options.capacity = 8;
    ReplayBuffer buffer(obs_space, action_space, options);
    const float obs[3] = {1.2345e-30f, -0.f, 3.4e29f};
    const float next[3] = {-7.5f, 1e-38f, 0.1f};
    const float action[2] = {-0.25f, 0.75f};
    buffer.add(0, {reinterpret_cast<const uint8_t*>(obs), sizeof obs}, 0, action, 2.5f,
               {reinterpret_cast<const uint8_t*>(next), sizeof next}, false, false);
    Rng rng(2);
    ReplayBatch batch;
    buffer.sample(3, rng, batch);
    CHECK(batch.discrete_actions.empty());
    REQUIRE(batch.continuous_actions.size() == 6);
    for (int b = 0; b < 3; ++b) {
      CHECK(std::memcmp(batch.observations.data() + b * sizeof obs, obs, sizeof obs) == 0);
      CHECK(std::memcmp(batch.next_observations.data() + b * sizeof next, next, sizeof next) == 0);
      CHECK(batch.continuous_actions[2 * b] == -0.25f);
      CHECK(batch.continuous_actions[2 * b + 1] == 0.75f);
      CHECK(batch.rewards[b] == 2.5f);
      CHECK(batch.weights[b] == 1.f);
    }
  }
}

TEST_CASE("replay: bit-packed binary observations round-trip exactly") {
  const Space obs_space = Space::box({4, 10, 10}, 0.f, 1.f, DType::kU8);
  ReplayOptions options;
  options.capacity = 50;
  options.bit_pack = true;
  ReplayBuffer buffer(obs_space, kFourActions, options);
  CHECK(buffer.observation_bytes() == 400);
  CHECK(buffer.stored_observation_bytes() == 50);
  Rng data_rng(8);
  std::vector<std::vector<uint8_t>> observations(51, std::vector<uint8_t>(400));
  for (auto& obs : observations)
    for (auto& v : obs) v = data_rng.bernoulli(0.3) ? 1 : 0;
  for (int i = 0; i < 50; ++i)
    buffer.add(0, observations[i], 0, {}, 0.f, observations[i + 1], false, false);

  Rng rng(4);
  ReplayBatch batch;
  buffer.sample(200, rng, batch);
  for (int b = 0; b < batch.size; ++b) {
    const int64_t i = batch.indices[b];
    REQUIRE(std::memcmp(batch.observations.data() + 400 * b, observations[i].data(), 400) == 0);
    REQUIRE(std::memcmp(batch.next_observations.data() + 400 * b, observations[i + 1].data(),
                        400) == 0);
  }

  // Non-binary input is rejected with the offending element, and nothing is stored.
  std::vector<uint8_t> bad = observations[0];
  bad[137] = 2;
  try {
    buffer.add(0, bad, 0, {}, 0.f, observations[1], false, false);
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK(message.find("element 137") != std::string::npos);
    CHECK(message.find("is 2") != std::string::npos);
  }
  CHECK_THROWS_AS(buffer.add(0, observations[0], 0, {}, 0.f, bad, false, false),
                  std::invalid_argument);
  CHECK(buffer.size() == 50);

  // Bit packing only applies to u8 observations.
  options.bit_pack = true;
  CHECK_THROWS_AS(ReplayBuffer(kScalarObs, kFourActions, options), std::invalid_argument);
}

TEST_CASE("replay: a 100k MinAtar buffer with bit packing costs a few tens of MB") {
  const Space obs_space = Space::box({10, 10, 10}, 0.f, 1.f, DType::kU8);
  ReplayOptions options;
  options.capacity = 100000;
  options.num_envs = 8;
  options.n_step = 3;
  options.bit_pack = true;
  const ReplayBuffer packed(obs_space, Space::discrete(6), options);
  options.bit_pack = false;
  const ReplayBuffer raw(obs_space, Space::discrete(6), options);
  MESSAGE("100k x 10x10x10 u8: bit-packed " << packed.memory_bytes() / 1e6 << " MB, unpacked "
                                            << raw.memory_bytes() / 1e6 << " MB");
  CHECK(packed.memory_bytes() < 40'000'000);
  CHECK(packed.memory_bytes() >= 2 * 125 * 100000);  // obs + next_obs, 125 bytes each
  CHECK(raw.memory_bytes() > 7 * packed.memory_bytes() / 2);
}

TEST_CASE("replay: prioritized sampling follows the priorities") {
  ReplayOptions options;
  options.capacity = 8;
  options.prioritized = true;
  options.alpha = 1.0;
  options.priority_eps = 1e-9;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  for (int i = 0; i < 4; ++i) add_scalar(buffer, 0, i, 0, 0.f, i + 1.f);
  // New transitions start at the maximum priority seen (1 before any update).
  for (int i = 0; i < 4; ++i) CHECK(buffer.priority(i) == 1.0);

  const std::vector<int64_t> slots = {0, 1, 2, 3};
  const std::vector<float> td_errors = {1.f, -2.f, 3.f, 4.f};
  buffer.update_priorities(slots, td_errors);
  CHECK(buffer.priority(1) == doctest::Approx(2.0));
  CHECK(buffer.max_priority() == doctest::Approx(4.0));

  Rng rng(2024);
  ReplayBatch batch;
  std::vector<double> counts(4, 0.0);
  const int rounds = 400, batch_size = 100;
  for (int r = 0; r < rounds; ++r) {
    buffer.sample(batch_size, rng, batch);
    for (int64_t slot : batch.indices) counts.at(slot) += 1;
  }
  // Chi-square against P(i) = p_i / 10 with 3 degrees of freedom; 16.27 is the 0.999 quantile.
  const double draws = rounds * batch_size;
  double chi_square = 0.0;
  for (int i = 0; i < 4; ++i) {
    const double expected = draws * (i + 1) / 10.0;
    chi_square += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  CHECK(chi_square < 16.27);

  // A new transition gets the largest priority seen.
  add_scalar(buffer, 0, 4, 0, 0.f, 5.f);
  CHECK(buffer.priority(4) == doctest::Approx(4.0));
}

TEST_CASE("replay: importance weights are (N P)^-beta over the batch maximum") {
  ReplayOptions options;
  options.capacity = 16;
  options.prioritized = true;
  options.alpha = 0.5;
  options.priority_eps = 0.01;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  for (int i = 0; i < 5; ++i) add_scalar(buffer, 0, i, 0, 0.f, 0.f);
  const std::vector<int64_t> slots = {0, 1, 2, 3, 4};
  const std::vector<float> td_errors = {0.f, 0.5f, -1.f, 2.f, 8.f};
  buffer.update_priorities(slots, td_errors);
  std::vector<double> priority(5);
  double total = 0.0;
  for (int i = 0; i < 5; ++i) {
    priority[i] = std::sqrt(std::abs(td_errors[i]) + 0.01);
    CHECK(buffer.priority(i) == doctest::Approx(priority[i]));
    total += priority[i];
  }
  Rng rng(6);
  ReplayBatch batch;
  for (double beta : {0.0, 0.4, 1.0}) {
    buffer.sample(32, rng, batch, beta);
    std::vector<double> expected(batch.size);
    double max_weight = 0.0;
    for (int b = 0; b < batch.size; ++b) {
      expected[b] = std::pow(5.0 * priority[batch.indices[b]] / total, -beta);
      max_weight = std::max(max_weight, expected[b]);
    }
    for (int b = 0; b < batch.size; ++b)
      CHECK(batch.weights[b] == doctest::Approx(expected[b] / max_weight).epsilon(1e-5));
  }
}

TEST_CASE("replay: sampling is reproducible with the same seed") {
  ReplayOptions options;
  options.capacity = 100;
  options.prioritized = true;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  for (int i = 0; i < 100; ++i) add_scalar(buffer, 0, i, 1, 1.f, i + 1.f);
  Rng a(77), b(77);
  ReplayBatch first, second;
  buffer.sample(32, a, first);
  buffer.sample(32, b, second);
  CHECK(first.indices == second.indices);
  CHECK(first.observations == second.observations);
}

// Observation t (the step count), reward t; terminates when t reaches 3.
class TickEnv final : public Env {
 public:
  TickEnv()
      : Env(EnvSpec{
            "test/tick-v0", "ticks", kScalarObs, kFourActions, 0.f, 3.f, 100, std::nullopt, {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override { as_f32(obs)[0] = static_cast<float>(t_ = 0); }
  StepResult do_step(const Action&, ObsBuffer obs) override {
    as_f32(obs)[0] = static_cast<float>(++t_);
    return {static_cast<float>(t_), t_ == 3, false};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }

 private:
  int t_ = 0;
};

TEST_CASE("replay: add_batch stores a vector env step, final observations at episode ends") {
  VectorEnv vec([] { return std::make_unique<TickEnv>(); }, 2, 0);
  ReplayOptions options;
  options.capacity = 64;
  options.num_envs = 2;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  vec.reset();
  const std::vector<int64_t> actions = {1, 2};
  for (int t = 0; t < 5; ++t) {
    const std::vector<uint8_t> before(vec.observations().begin(), vec.observations().end());
    vec.step(actions);
    buffer.add_batch(before, actions, {}, vec);
  }
  CHECK(buffer.size() == 10);
  int terminal = 0;
  for (const auto& [slot, s] : read_all(buffer)) {
    CHECK(s.next_obs == s.obs + 1);  // Never the first observation of the next episode.
    CHECK(s.reward == s.next_obs);
    CHECK(s.action == 1 + slot % 2);
    CHECK(s.discount == doctest::Approx(s.next_obs == 3 ? 0.0 : 0.99));
    terminal += s.next_obs == 3;
  }
  CHECK(terminal == 2);
  const std::vector<uint8_t> short_batch(4);
  CHECK_THROWS_AS(buffer.add_batch(short_batch, actions, {}, vec), std::invalid_argument);
  options.num_envs = 3;
  ReplayBuffer wrong_envs(kScalarObs, kFourActions, options);
  const std::vector<uint8_t> batch(8);
  CHECK_THROWS_AS(wrong_envs.add_batch(batch, actions, {}, vec), std::invalid_argument);
}

TEST_CASE("replay: next legal-action masks travel with their transitions") {
  ReplayOptions options;
  options.capacity = 16;
  options.n_step = 2;
  options.legal_masks = true;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  // The mask of next observation x is bit pattern (x mod 15) + 1; step 2 gives none (all legal).
  const auto mask_of = [](int x) {
    std::vector<uint8_t> m(4);
    for (int a = 0; a < 4; ++a) m[a] = ((x % 15 + 1) >> a) & 1;
    return m;
  };
  for (int t = 0; t < 6; ++t) {
    const std::vector<uint8_t> mask = mask_of(t + 1);
    buffer.add(0, bytes_of(static_cast<float>(t)), 0, {}, 1.f, bytes_of(static_cast<float>(t + 1)),
               t == 5, false, t == 2 ? std::span<const uint8_t>() : std::span<const uint8_t>(mask));
  }
  CHECK(buffer.size() == 6);
  Rng rng(5);
  ReplayBatch batch;
  int seen = 0;
  for (int round = 0; round < 20; ++round) {
    buffer.sample(8, rng, batch);
    REQUIRE(batch.next_legal_actions.size() == 8 * 4);
    for (int b = 0; b < batch.size; ++b) {
      const int next = static_cast<int>(scalar_at(batch.next_observations, b));
      CAPTURE(next);
      const std::vector<uint8_t> got(batch.next_legal_actions.begin() + b * 4,
                                     batch.next_legal_actions.begin() + b * 4 + 4);
      // n = 2: each stored transition's mask is that of the observation two steps later (or
      // the episode's last one), the same one its next_obs is.
      CHECK(got == (next == 3 ? std::vector<uint8_t>{1, 1, 1, 1} : mask_of(next)));
      ++seen;
    }
  }
  CHECK(seen == 160);

  // Without legal_masks batches carry no masks, and giving one is an error.
  ReplayBuffer plain(kScalarObs, kFourActions, ReplayOptions{});
  add_scalar(plain, 0, 0, 0, 0.f, 1);
  plain.sample(2, rng, batch);
  CHECK(batch.next_legal_actions.empty());
  const float zero = 0.f;
  const std::vector<uint8_t> all = {1, 1, 1, 1}, none = {0, 0, 0, 0}, three = {1, 1, 1};
  CHECK_THROWS_WITH_AS(plain.add(0, bytes_of(zero), 0, {}, 0.f, bytes_of(zero), false, false, all),
                       doctest::Contains("without legal_masks"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      buffer.add(0, bytes_of(zero), 0, {}, 0.f, bytes_of(zero), false, false, three),
      doctest::Contains("has 3 bytes, expected 4"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(
      buffer.add(0, bytes_of(zero), 0, {}, 0.f, bytes_of(zero), false, false, none),
      doctest::Contains("has no legal action"), std::invalid_argument);
  ReplayOptions box_masks;
  box_masks.legal_masks = true;
  CHECK_THROWS_WITH_AS(ReplayBuffer(kScalarObs, Space::box({1}, -1.f, 1.f, DType::kF32), box_masks),
                       doctest::Contains("legal_masks needs a Discrete action space"),
                       std::invalid_argument);
}

// Observation t (the step count); from t = 1 on only action t % 4 is legal. Never ends.
class RotatingMaskEnv final : public Env {
 public:
  RotatingMaskEnv()
      : Env(EnvSpec{"test/rotating-v0", "", kScalarObs, kFourActions, 0.f, 1.f, 4, {}, {}}) {}
  bool legal_actions(std::span<uint8_t> mask) const override {
    if (t_ == 0) return false;
    for (int a = 0; a < 4; ++a) mask[a] = a == t_ % 4;
    return true;
  }

 protected:
  void do_reset(ObsBuffer obs) override {
    t_ = 0;
    as_f32(obs)[0] = 0.f;
  }
  StepResult do_step(const Action&, ObsBuffer obs) override {
    as_f32(obs)[0] = static_cast<float>(++t_);
    return {};
  }
  void do_render(Image& out) const override { out.resize(1, 1); }

 private:
  int t_ = 0;
};

TEST_CASE("replay: add_batch reads the next masks from the envs (all legal at episode ends)") {
  VectorEnv vec([] { return std::make_unique<RotatingMaskEnv>(); }, 1, 0);
  ReplayOptions options;
  options.capacity = 16;
  options.legal_masks = true;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  vec.reset();
  const std::vector<int64_t> actions = {0};
  for (int t = 0; t < 4; ++t) {  // The step limit 4 truncates the fourth step.
    const std::vector<uint8_t> before(vec.observations().begin(), vec.observations().end());
    vec.step(actions);
    buffer.add_batch(before, actions, {}, vec);
  }
  Rng rng(1);
  ReplayBatch batch;
  buffer.sample(32, rng, batch);
  for (int b = 0; b < batch.size; ++b) {
    const int next = static_cast<int>(scalar_at(batch.next_observations, b));
    CAPTURE(next);
    for (int a = 0; a < 4; ++a) {
      CHECK(batch.next_legal_actions[b * 4 + a] == (next == 4 || a == next % 4 ? 1 : 0));
    }
  }
}

TEST_CASE("replay: bad options and inputs give clear errors") {
  const auto make = [](auto change) {
    ReplayOptions options;
    change(options);
    return ReplayBuffer(kScalarObs, kFourActions, options);
  };
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.capacity = 0; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.num_envs = 0; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.n_step = 0; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.gamma = 1.5; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.alpha = -1; }), std::invalid_argument);
  CHECK_THROWS_AS(make([](ReplayOptions& o) { o.priority_eps = 0; }), std::invalid_argument);
  CHECK_THROWS_AS(ReplayBuffer(Space::discrete(3), kFourActions, ReplayOptions{}),
                  std::invalid_argument);

  ReplayOptions options;
  options.capacity = 4;
  options.num_envs = 2;
  ReplayBuffer buffer(kScalarObs, kFourActions, options);
  Rng rng(0);
  ReplayBatch batch;
  CHECK_THROWS_AS(buffer.sample(4, rng, batch), std::logic_error);
  const float value = 1.f;
  const uint8_t short_obs[2] = {0, 0};
  CHECK_THROWS_AS(add_scalar(buffer, 2, 0, 0, 0.f, 0), std::invalid_argument);
  CHECK_THROWS_AS(add_scalar(buffer, 0, 0, 4, 0.f, 0), std::invalid_argument);
  CHECK_THROWS_AS(add_scalar(buffer, 0, 0, 0, std::nanf(""), 0), std::invalid_argument);
  CHECK_THROWS_AS(buffer.add(0, short_obs, 0, {}, 0.f, bytes_of(value), false, false),
                  std::invalid_argument);
  CHECK(buffer.size() == 0);
  add_scalar(buffer, 0, 0, 0, 0.f, 0, true);
  CHECK_THROWS_AS(buffer.sample(0, rng, batch), std::invalid_argument);
  CHECK_THROWS_AS(buffer.sample(1, rng, batch, -0.5), std::invalid_argument);
  const std::vector<int64_t> slots = {0, 1};
  const std::vector<float> one_error = {1.f};
  const std::vector<float> two_errors = {1.f, 1.f};
  CHECK_THROWS_AS(buffer.update_priorities(slots, one_error), std::invalid_argument);
  CHECK_THROWS_AS(buffer.update_priorities(slots, two_errors), std::invalid_argument);  // slot 1
  CHECK_THROWS_AS(buffer.priority(0), std::logic_error);  // not prioritized
}

}  // namespace
}  // namespace rl

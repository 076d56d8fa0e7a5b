// ReplayBuffer::save/load: a loaded buffer continues exactly as the saved one would have.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/replay_buffer.h"
#include "test_support.h"

namespace rl {
namespace {

const Space kBits = Space::box({12}, 0.f, 1.f, DType::kU8);
const Space kActions = Space::discrete(3);

ReplayOptions options() {
  ReplayOptions o;
  o.capacity = 40;
  o.num_envs = 2;
  o.n_step = 3;
  o.prioritized = true;
  o.bit_pack = true;
  o.legal_masks = true;
  return o;
}

// Adds `count` pseudo-random transitions for both envs, with episode ends now and then.
void fill(ReplayBuffer& buffer, Rng& rng, int count) {
  std::vector<uint8_t> obs(12), next(12), mask = {1, 0, 1};
  for (int t = 0; t < count; ++t) {
    for (int env = 0; env < 2; ++env) {
      for (auto& bit : obs) bit = static_cast<uint8_t>(rng.below(2));
      for (auto& bit : next) bit = static_cast<uint8_t>(rng.below(2));
      const bool end = rng.uniform() < 0.1;
      buffer.add(env, obs, static_cast<int64_t>(rng.below(3)), {},
                 static_cast<float>(rng.uniform()), next, end && rng.uniform() < 0.5, end,
                 rng.uniform() < 0.5 ? std::span<const uint8_t>(mask) : std::span<const uint8_t>());
    }
  }
}

std::vector<float> sample_and_learn(ReplayBuffer& buffer, Rng& rng) {
  ReplayBatch batch;
  buffer.sample(8, rng, batch, 0.5);
  std::vector<float> errors;
  for (int b = 0; b < batch.size; ++b) errors.push_back(static_cast<float>(rng.uniform(-2, 2)));
  buffer.update_priorities(batch.indices, errors);
  std::vector<float> seen = batch.rewards;
  seen.insert(seen.end(), batch.weights.begin(), batch.weights.end());
  for (uint8_t bit : batch.next_observations) seen.push_back(bit);
  for (uint8_t bit : batch.next_legal_actions) seen.push_back(bit);
  return seen;
}

TEST_CASE("replay buffer: a loaded buffer samples and continues as the saved one") {
  ReplayBuffer saved(kBits, kActions, options());
  Rng data(3), sampling(4);
  fill(saved, data, 17);  // Part full: only the filled slots are written.
  for (int i = 0; i < 3; ++i) sample_and_learn(saved, sampling);
  fill(saved, data, 20);  // Wrapped around.
  sample_and_learn(saved, sampling);

  const std::vector<uint8_t> bytes = saved.save();
  ReplayBuffer loaded(kBits, kActions, options());
  loaded.load(bytes);
  CHECK(loaded.save() == bytes);
  CHECK(loaded.size() == saved.size());
  CHECK(loaded.max_priority() == saved.max_priority());
  Rng data_copy = data, sampling_copy = sampling;
  for (int round = 0; round < 5; ++round) {
    fill(saved, data, 3);
    fill(loaded, data_copy, 3);
    CHECK(sample_and_learn(saved, sampling) == sample_and_learn(loaded, sampling_copy));
  }
  CHECK(loaded.save() == saved.save());
}

TEST_CASE("replay buffer: load refuses another layout or damaged bytes and changes nothing") {
  ReplayBuffer saved(kBits, kActions, options());
  Rng data(5);
  fill(saved, data, 10);
  const std::vector<uint8_t> bytes = saved.save();

  ReplayOptions other = options();
  other.capacity = 41;
  ReplayBuffer different(kBits, kActions, other);
  CHECK_THROWS_WITH_AS(different.load(bytes),
                       doctest::Contains("does not match this one (capacity 41"),
                       std::invalid_argument);

  ReplayBuffer target(kBits, kActions, options());
  const std::vector<uint8_t> empty = target.save();
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 7);
  CHECK_THROWS_WITH_AS(target.load(cut), doctest::Contains("cut short"), std::invalid_argument);
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK_THROWS_WITH_AS(target.load(longer), doctest::Contains("unexpected bytes"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(target.load(std::vector<uint8_t>{1, 2, 3, 4}),
                       doctest::Contains("not a saved replay buffer"), std::invalid_argument);
  CHECK(target.save() == empty);
  CHECK(target.size() == 0);
}

}  // namespace
}  // namespace rl

#include "core/replay_buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/byte_stream.h"
#include "core/sum_tree.h"
#include "core/vector_env.h"

namespace rl {
namespace {

void pack_bits(const uint8_t* values, size_t count, uint8_t* bits) {
  std::memset(bits, 0, (count + 7) / 8);
  for (size_t i = 0; i < count; ++i) bits[i / 8] |= static_cast<uint8_t>(values[i] << (i % 8));
}

void unpack_bits(const uint8_t* bits, size_t count, uint8_t* values) {
  for (size_t i = 0; i < count; ++i) values[i] = (bits[i / 8] >> (i % 8)) & 1u;
}

// Throws std::invalid_argument with make_message() when !ok. The message is built only then:
// add() and sample() run every step and must not allocate.
template <typename MakeMessage>
void require(bool ok, const MakeMessage& make_message) {
  if (!ok) throw std::invalid_argument("ReplayBuffer: " + std::string(make_message()));
}

constexpr uint32_t kSaveMagic = 0x42524c52;  // "RLRB"
constexpr uint32_t kSaveVersion = 1;

// What a saved buffer must share with the one loading it.
struct SavedLayout {
  // All 64-bit, so the struct has no padding bytes (it is written as it is).
  int64_t capacity, num_envs, n_step, obs_bytes, stored_obs_bytes, action_numel, num_actions;
  int64_t prioritized, bit_pack, legal_masks;
  bool operator==(const SavedLayout&) const = default;
  std::string describe() const {
    return "capacity " + std::to_string(capacity) + ", " + std::to_string(num_envs) + " envs, " +
           std::to_string(n_step) + "-step, " + std::to_string(obs_bytes) +
           "-byte observations stored in " + std::to_string(stored_obs_bytes) + ", " +
           (num_actions > 0 ? std::to_string(num_actions) + " discrete actions"
                            : std::to_string(action_numel) + " action values") +
           (prioritized ? ", prioritized" : "") + (legal_masks ? ", legal masks" : "");
  }
};

}  // namespace

// The last (up to n) steps of one env that have not yet become stored transitions, oldest at
// `head`. Preallocated, so add() does not allocate.
struct PendingWindow {
  std::vector<uint8_t> observations;  // n * obs bytes (unpacked)
  std::vector<int64_t> discrete_actions;
  std::vector<float> continuous_actions;  // n * action numel
  std::vector<float> rewards;
  int head = 0;
  int count = 0;
};

struct ReplayBuffer::Impl {
  Space observation_space;
  Space action_space;
  ReplayOptions options;
  size_t obs_bytes = 0;
  size_t obs_numel = 0;
  size_t stored_obs_bytes = 0;
  size_t action_numel = 0;           // Box action spaces only.
  std::vector<double> gamma_powers;  // gamma^0 .. gamma^n

  std::vector<uint8_t> observations;       // capacity * stored_obs_bytes
  std::vector<uint8_t> next_observations;  // capacity * stored_obs_bytes
  std::vector<int64_t> discrete_actions;   // capacity (Discrete action spaces)
  std::vector<float> continuous_actions;   // capacity * action_numel (Box action spaces)
  std::vector<float> rewards;
  std::vector<float> discounts;
  std::vector<uint8_t> next_legal_masks;  // capacity * n with legal_masks
  std::vector<uint8_t> mask_scratch;      // add_batch's read of one env's mask (n bytes)
  size_t num_actions = 0;                 // Discrete action spaces.
  int64_t next_slot = 0;
  int64_t size = 0;

  std::unique_ptr<SumTree> priorities;  // Prioritized replay only.
  double max_priority = 1.0;

  std::vector<PendingWindow> pending;

  bool discrete() const { return action_space.is_discrete(); }

  void validate_options() const {
    const ReplayOptions& o = options;
    require(o.capacity >= 1,
            [&] { return "capacity must be >= 1, got " + std::to_string(o.capacity); });
    require(o.num_envs >= 1,
            [&] { return "num_envs must be >= 1, got " + std::to_string(o.num_envs); });
    require(o.n_step >= 1, [&] { return "n_step must be >= 1, got " + std::to_string(o.n_step); });
    require(o.gamma >= 0.0 && o.gamma <= 1.0,
            [&] { return "gamma must be in [0, 1], got " + std::to_string(o.gamma); });
    require(o.alpha >= 0.0 && std::isfinite(o.alpha),
            [&] { return "alpha must be finite and >= 0, got " + std::to_string(o.alpha); });
    require(o.priority_eps > 0.0 && std::isfinite(o.priority_eps), [&] {
      return "priority_eps must be finite and > 0, got " + std::to_string(o.priority_eps);
    });
    require(!observation_space.is_discrete(), [&] {
      return "observations must be a Box space, got " + observation_space.describe();
    });
    require(!o.bit_pack || observation_space.dtype == DType::kU8,
            [&] { return "bit_pack needs u8 observations, got " + observation_space.describe(); });
    require(!o.legal_masks || action_space.is_discrete(), [&] {
      return "legal_masks needs a Discrete action space, got " + action_space.describe();
    });
  }

  void validate_binary(std::span<const uint8_t> obs, const char* which, int env_index) const {
    for (size_t i = 0; i < obs.size(); ++i)
      if (obs[i] > 1)
        throw std::invalid_argument("ReplayBuffer: bit_pack needs 0/1 observations, but " +
                                    std::string(which) + " element " + std::to_string(i) +
                                    " of env " + std::to_string(env_index) + " is " +
                                    std::to_string(obs[i]));
  }

  void validate_add(int env_index, std::span<const uint8_t> obs, int64_t discrete_action,
                    std::span<const float> continuous_action, float reward,
                    std::span<const uint8_t> next_obs, std::span<const uint8_t> next_legal) const {
    require(env_index >= 0 && env_index < options.num_envs, [&] {
      return "env index " + std::to_string(env_index) + " outside [0, " +
             std::to_string(options.num_envs) + ")";
    });
    require(obs.size() == obs_bytes, [&] {
      return "obs has " + std::to_string(obs.size()) + " bytes, expected " +
             std::to_string(obs_bytes);
    });
    require(next_obs.size() == obs_bytes, [&] {
      return "next_obs has " + std::to_string(next_obs.size()) + " bytes, expected " +
             std::to_string(obs_bytes);
    });
    if (discrete())
      require(discrete_action >= 0 && discrete_action < action_space.n, [&] {
        return "action " + std::to_string(discrete_action) + " outside " + action_space.describe();
      });
    else
      require(continuous_action.size() == action_numel, [&] {
        return "continuous action has " + std::to_string(continuous_action.size()) +
               " values, expected " + std::to_string(action_numel);
      });
    require(std::isfinite(reward), [&] {
      return "reward of env " + std::to_string(env_index) + " is not finite (" +
             std::to_string(reward) + ")";
    });
    if (options.bit_pack) {
      validate_binary(obs, "obs", env_index);
      validate_binary(next_obs, "next_obs", env_index);
    }
    if (!next_legal.empty()) {
      require(options.legal_masks, [&] {
        return "a next legal-action mask was given to a buffer built "
               "without legal_masks";
      });
      require(next_legal.size() == num_actions, [&] {
        return "next legal-action mask of env " + std::to_string(env_index) + " has " +
               std::to_string(next_legal.size()) + " bytes, expected " +
               std::to_string(num_actions);
      });
      require(std::any_of(next_legal.begin(), next_legal.end(), [](uint8_t m) { return m; }), [&] {
        return "next legal-action mask of env " + std::to_string(env_index) +
               " has no legal action";
      });
    }
  }

  void store_observation(std::vector<uint8_t>& store, int64_t slot, const uint8_t* obs) {
    uint8_t* dest = store.data() + slot * stored_obs_bytes;
    if (options.bit_pack)
      pack_bits(obs, obs_numel, dest);
    else
      std::memcpy(dest, obs, obs_bytes);
  }

  void load_observation(const std::vector<uint8_t>& store, int64_t slot, uint8_t* dest) const {
    const uint8_t* src = store.data() + slot * stored_obs_bytes;
    if (options.bit_pack)
      unpack_bits(src, obs_numel, dest);
    else
      std::memcpy(dest, src, obs_bytes);
  }

  // Turns the oldest pending step of `window` into a stored transition whose return sums the
  // `window.count` pending rewards and which bootstraps from `next_obs` unless terminated.
  // `next_legal` (legal_masks only) is next_obs's mask, empty for all legal.
  void emit_oldest(PendingWindow& window, std::span<const uint8_t> next_obs, bool terminated,
                   std::span<const uint8_t> next_legal) {
    const int n = options.n_step;
    double discounted_sum = 0.0;
    for (int k = 0; k < window.count; ++k)
      discounted_sum += gamma_powers[k] * window.rewards[(window.head + k) % n];
    const int64_t slot = next_slot;
    const int oldest = window.head;
    store_observation(observations, slot, window.observations.data() + oldest * obs_bytes);
    store_observation(next_observations, slot, next_obs.data());
    if (discrete())
      discrete_actions[slot] = window.discrete_actions[oldest];
    else
      std::copy_n(window.continuous_actions.begin() + oldest * action_numel, action_numel,
                  continuous_actions.begin() + slot * action_numel);
    if (options.legal_masks) {
      uint8_t* dest = next_legal_masks.data() + slot * num_actions;
      if (next_legal.empty()) {
        std::fill_n(dest, num_actions, uint8_t{1});
      } else {
        for (size_t a = 0; a < num_actions; ++a) dest[a] = next_legal[a] ? 1 : 0;
      }
    }
    rewards[slot] = static_cast<float>(discounted_sum);
    discounts[slot] = terminated ? 0.f : static_cast<float>(gamma_powers[window.count]);
    if (priorities) priorities->set(slot, max_priority);
    next_slot = (next_slot + 1) % options.capacity;
    size = std::min(size + 1, options.capacity);
    window.head = (window.head + 1) % n;
    --window.count;
  }
};

ReplayBuffer::ReplayBuffer(const Space& observation_space, const Space& action_space,
                           ReplayOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.observation_space = observation_space;
  s.action_space = action_space;
  s.options = options;
  s.validate_options();
  const int64_t capacity = options.capacity;
  const int n = options.n_step;
  s.obs_bytes = observation_space.bytes();
  s.obs_numel = static_cast<size_t>(observation_space.numel());
  s.stored_obs_bytes = options.bit_pack ? (s.obs_numel + 7) / 8 : s.obs_bytes;
  s.action_numel = action_space.is_discrete() ? 0 : static_cast<size_t>(action_space.numel());
  s.num_actions = action_space.is_discrete() ? static_cast<size_t>(action_space.n) : 0;
  for (int k = 0; k <= n; ++k) s.gamma_powers.push_back(std::pow(options.gamma, k));

  s.observations.assign(capacity * s.stored_obs_bytes, 0);
  s.next_observations.assign(capacity * s.stored_obs_bytes, 0);
  if (s.discrete())
    s.discrete_actions.assign(capacity, 0);
  else
    s.continuous_actions.assign(capacity * s.action_numel, 0.f);
  s.rewards.assign(capacity, 0.f);
  s.discounts.assign(capacity, 0.f);
  if (options.legal_masks) s.next_legal_masks.assign(capacity * s.num_actions, 1);
  if (options.prioritized) s.priorities = std::make_unique<SumTree>(capacity);

  s.pending.resize(options.num_envs);
  for (PendingWindow& window : s.pending) {
    window.observations.assign(n * s.obs_bytes, 0);
    if (s.discrete())
      window.discrete_actions.assign(n, 0);
    else
      window.continuous_actions.assign(n * s.action_numel, 0.f);
    window.rewards.assign(n, 0.f);
  }
}

ReplayBuffer::~ReplayBuffer() = default;

void ReplayBuffer::add(int env_index, std::span<const uint8_t> obs, int64_t discrete_action,
                       std::span<const float> continuous_action, float reward,
                       std::span<const uint8_t> next_obs, bool terminated, bool truncated,
                       std::span<const uint8_t> next_legal) {
  Impl& s = *impl_;
  s.validate_add(env_index, obs, discrete_action, continuous_action, reward, next_obs, next_legal);
  PendingWindow& window = s.pending[env_index];
  const int n = s.options.n_step;
  const int newest = (window.head + window.count) % n;
  std::memcpy(window.observations.data() + newest * s.obs_bytes, obs.data(), s.obs_bytes);
  if (s.discrete())
    window.discrete_actions[newest] = discrete_action;
  else
    std::copy(continuous_action.begin(), continuous_action.end(),
              window.continuous_actions.begin() + newest * s.action_numel);
  window.rewards[newest] = reward;
  ++window.count;

  if (terminated || truncated) {
    while (window.count > 0) s.emit_oldest(window, next_obs, terminated, next_legal);
    window.head = 0;
  } else if (window.count == n) {
    s.emit_oldest(window, next_obs, false, next_legal);
  }
}

void ReplayBuffer::add_batch(std::span<const uint8_t> observations,
                             std::span<const int64_t> discrete_actions,
                             std::span<const float> continuous_actions, const VectorEnv& vec) {
  Impl& s = *impl_;
  const size_t n = static_cast<size_t>(vec.size());
  require(vec.size() == s.options.num_envs, [&] {
    return "add_batch: the vector env has " + std::to_string(n) + " envs, the buffer num_envs " +
           std::to_string(s.options.num_envs);
  });
  require(vec.observation_bytes() == s.obs_bytes, [&] {
    return "add_batch: the vector env's observations have " +
           std::to_string(vec.observation_bytes()) + " bytes, the buffer's " +
           std::to_string(s.obs_bytes);
  });
  require(observations.size() == n * s.obs_bytes, [&] {
    return "add_batch: observations have " + std::to_string(observations.size()) +
           " bytes, expected " + std::to_string(n * s.obs_bytes);
  });
  if (s.discrete())
    require(discrete_actions.size() == n, [&] {
      return "add_batch: got " + std::to_string(discrete_actions.size()) +
             " discrete actions for " + std::to_string(n) + " envs";
    });
  else
    require(continuous_actions.size() == n * s.action_numel, [&] {
      return "add_batch: got " + std::to_string(continuous_actions.size()) +
             " continuous action values, expected " + std::to_string(n * s.action_numel);
    });
  const size_t bytes = s.obs_bytes;
  std::vector<uint8_t>& mask = s.mask_scratch;
  mask.resize(s.options.legal_masks ? s.num_actions : 0);
  for (size_t i = 0; i < n; ++i) {
    const int env = static_cast<int>(i);
    const bool masked = !mask.empty() && vec.next_legal_actions(env, mask);
    add(env, observations.subspan(i * bytes, bytes), s.discrete() ? discrete_actions[i] : 0,
        s.discrete() ? std::span<const float>{}
                     : continuous_actions.subspan(i * s.action_numel, s.action_numel),
        vec.rewards()[i], vec.next_observation(env), vec.terminated()[i], vec.truncated()[i],
        masked ? std::span<const uint8_t>(mask) : std::span<const uint8_t>());
  }
}

void ReplayBuffer::sample(int batch_size, Rng& rng, ReplayBatch& out, double beta) const {
  const Impl& s = *impl_;
  if (s.size == 0) throw std::logic_error("ReplayBuffer::sample: the buffer is empty");
  require(batch_size >= 1,
          [&] { return "batch size must be >= 1, got " + std::to_string(batch_size); });
  require(std::isfinite(beta) && beta >= 0.0,
          [&] { return "beta must be finite and >= 0, got " + std::to_string(beta); });
  const size_t batch = static_cast<size_t>(batch_size);
  out.size = batch_size;
  out.observations.resize(batch * s.obs_bytes);
  out.next_observations.resize(batch * s.obs_bytes);
  out.discrete_actions.resize(s.discrete() ? batch : 0);
  out.continuous_actions.resize(s.discrete() ? 0 : batch * s.action_numel);
  out.rewards.resize(batch);
  out.discounts.resize(batch);
  out.next_legal_actions.resize(s.options.legal_masks ? batch * s.num_actions : 0);
  out.indices.resize(batch);
  out.weights.resize(batch);

  if (s.priorities) {
    const SumTree& tree = *s.priorities;
    const double total = tree.total();
    const double segment = total / batch_size;
    double max_weight = 0.0;
    for (size_t b = 0; b < batch; ++b) {
      const int64_t slot = tree.find_prefix((b + rng.uniform()) * segment);
      const double probability = tree.get(slot) / total;
      const double weight = std::pow(static_cast<double>(s.size) * probability, -beta);
      out.indices[b] = slot;
      out.weights[b] = static_cast<float>(weight);
      max_weight = std::max(max_weight, weight);
    }
    for (float& w : out.weights) w = static_cast<float>(w / max_weight);
  } else {
    for (size_t b = 0; b < batch; ++b)
      out.indices[b] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(s.size)));
    std::fill(out.weights.begin(), out.weights.end(), 1.f);
  }

  for (size_t b = 0; b < batch; ++b) {
    const int64_t slot = out.indices[b];
    s.load_observation(s.observations, slot, out.observations.data() + b * s.obs_bytes);
    s.load_observation(s.next_observations, slot, out.next_observations.data() + b * s.obs_bytes);
    if (s.discrete())
      out.discrete_actions[b] = s.discrete_actions[slot];
    else
      std::copy_n(s.continuous_actions.begin() + slot * s.action_numel, s.action_numel,
                  out.continuous_actions.begin() + b * s.action_numel);
    out.rewards[b] = s.rewards[slot];
    out.discounts[b] = s.discounts[slot];
    if (s.options.legal_masks)
      std::copy_n(s.next_legal_masks.begin() + slot * s.num_actions, s.num_actions,
                  out.next_legal_actions.begin() + b * s.num_actions);
  }
}

void ReplayBuffer::update_priorities(std::span<const int64_t> indices,
                                     std::span<const float> td_errors) {
  Impl& s = *impl_;
  require(indices.size() == td_errors.size(), [&] {
    return "update_priorities got " + std::to_string(indices.size()) + " indices and " +
           std::to_string(td_errors.size()) + " TD errors";
  });
  for (size_t i = 0; i < indices.size(); ++i) {
    require(indices[i] >= 0 && indices[i] < s.size, [&] {
      return "update_priorities: slot " + std::to_string(indices[i]) + " outside [0, " +
             std::to_string(s.size) + ")";
    });
    require(std::isfinite(td_errors[i]), [&] {
      return "update_priorities: TD error " + std::to_string(i) + " is not finite (" +
             std::to_string(td_errors[i]) + ")";
    });
  }
  if (!s.priorities) return;
  for (size_t i = 0; i < indices.size(); ++i) {
    const double priority = std::pow(
        std::abs(static_cast<double>(td_errors[i])) + s.options.priority_eps, s.options.alpha);
    s.priorities->set(indices[i], priority);
    s.max_priority = std::max(s.max_priority, priority);
  }
}

namespace {

SavedLayout layout_of(const ReplayOptions& o, size_t obs_bytes, size_t stored_obs_bytes,
                      size_t action_numel, size_t num_actions) {
  return {o.capacity,
          o.num_envs,
          o.n_step,
          static_cast<int64_t>(obs_bytes),
          static_cast<int64_t>(stored_obs_bytes),
          static_cast<int64_t>(action_numel),
          static_cast<int64_t>(num_actions),
          o.prioritized,
          o.bit_pack,
          o.legal_masks};
}

}  // namespace

std::vector<uint8_t> ReplayBuffer::save() const {
  const Impl& s = *impl_;
  const size_t filled = static_cast<size_t>(s.size);
  ByteWriter out;
  out.value(kSaveMagic);
  out.value(kSaveVersion);
  out.value(layout_of(s.options, s.obs_bytes, s.stored_obs_bytes, s.action_numel, s.num_actions));
  out.value(s.next_slot);
  out.value(s.size);
  out.value(s.max_priority);
  out.array(std::span(s.observations).first(filled * s.stored_obs_bytes));
  out.array(std::span(s.next_observations).first(filled * s.stored_obs_bytes));
  out.array(std::span(s.discrete_actions).first(s.discrete() ? filled : 0));
  out.array(std::span(s.continuous_actions).first(filled * s.action_numel));
  out.array(std::span(s.rewards).first(filled));
  out.array(std::span(s.discounts).first(filled));
  out.array(
      std::span(s.next_legal_masks).first(s.options.legal_masks ? filled * s.num_actions : 0));
  if (s.priorities)
    for (size_t slot = 0; slot < filled; ++slot) out.value(s.priorities->get(slot));
  for (const PendingWindow& w : s.pending) {
    out.value(w.head);
    out.value(w.count);
    out.array(std::span(w.observations));
    out.array(std::span(w.discrete_actions));
    out.array(std::span(w.continuous_actions));
    out.array(std::span(w.rewards));
  }
  return out.take();
}

void ReplayBuffer::load(std::span<const uint8_t> bytes) {
  Impl& s = *impl_;
  ByteReader in(bytes, "ReplayBuffer::load");
  require(in.value<uint32_t>() == kSaveMagic, [&] { return "load: not a saved replay buffer"; });
  const auto version = in.value<uint32_t>();
  require(version <= kSaveVersion, [&] {
    return "load: saved by a newer version (" + std::to_string(version) +
           "), this build reads version " + std::to_string(kSaveVersion);
  });
  const auto saved = in.value<SavedLayout>();
  const SavedLayout mine =
      layout_of(s.options, s.obs_bytes, s.stored_obs_bytes, s.action_numel, s.num_actions);
  require(saved == mine, [&] {
    return "load: the saved buffer (" + saved.describe() + ") does not match this one (" +
           mine.describe() + ")";
  });
  const auto next_slot = in.value<int64_t>();
  const auto size = in.value<int64_t>();
  const auto max_priority = in.value<double>();
  require(size >= 0 && size <= s.options.capacity && next_slot >= 0 &&
              next_slot < s.options.capacity && (size == s.options.capacity || next_slot == size),
          [&] {
            return "load: write position " + std::to_string(next_slot) + " and size " +
                   std::to_string(size) + " do not fit capacity " +
                   std::to_string(s.options.capacity);
          });
  require(std::isfinite(max_priority) && max_priority > 0,
          [&] { return "load: bad max priority"; });
  // Read everything into copies first, so a malformed stream leaves the buffer as it was.
  const size_t filled = static_cast<size_t>(size);
  std::vector<uint8_t> observations(filled * s.stored_obs_bytes), next_observations(observations);
  std::vector<int64_t> discrete_actions(s.discrete() ? filled : 0);
  std::vector<float> continuous_actions(filled * s.action_numel), rewards(filled),
      discounts(filled);
  std::vector<uint8_t> masks(s.options.legal_masks ? filled * s.num_actions : 0);
  std::vector<double> priorities(s.priorities ? filled : 0);
  in.array(std::span(observations));
  in.array(std::span(next_observations));
  in.array(std::span(discrete_actions));
  in.array(std::span(continuous_actions));
  in.array(std::span(rewards));
  in.array(std::span(discounts));
  in.array(std::span(masks));
  in.array(std::span(priorities));
  for (int64_t a : discrete_actions)
    require(a >= 0 && a < static_cast<int64_t>(s.num_actions), [&] {
      return "load: stored action " + std::to_string(a) + " outside the action space";
    });
  for (double p : priorities)
    require(std::isfinite(p) && p >= 0,
            [&] { return "load: stored priority " + std::to_string(p); });
  std::vector<PendingWindow> pending = s.pending;
  for (PendingWindow& w : pending) {
    w.head = in.value<int>();
    w.count = in.value<int>();
    require(w.head >= 0 && w.head < s.options.n_step && w.count >= 0 && w.count < s.options.n_step,
            [&] { return "load: a pending n-step window is out of range"; });
    in.array(std::span(w.observations));
    in.array(std::span(w.discrete_actions));
    in.array(std::span(w.continuous_actions));
    in.array(std::span(w.rewards));
  }
  in.expect_end();
  std::copy(observations.begin(), observations.end(), s.observations.begin());
  std::copy(next_observations.begin(), next_observations.end(), s.next_observations.begin());
  std::copy(discrete_actions.begin(), discrete_actions.end(), s.discrete_actions.begin());
  std::copy(continuous_actions.begin(), continuous_actions.end(), s.continuous_actions.begin());
  std::copy(rewards.begin(), rewards.end(), s.rewards.begin());
  std::copy(discounts.begin(), discounts.end(), s.discounts.begin());
  std::copy(masks.begin(), masks.end(), s.next_legal_masks.begin());
  if (s.priorities) {
    s.priorities = std::make_unique<SumTree>(s.options.capacity);
    for (size_t slot = 0; slot < filled; ++slot) s.priorities->set(slot, priorities[slot]);
  }
  s.pending = std::move(pending);
  s.next_slot = next_slot;
  s.size = size;
  s.max_priority = max_priority;
}

int64_t ReplayBuffer::size() const { return impl_->size; }
int64_t ReplayBuffer::capacity() const { return impl_->options.capacity; }
size_t ReplayBuffer::observation_bytes() const { return impl_->obs_bytes; }
size_t ReplayBuffer::stored_observation_bytes() const { return impl_->stored_obs_bytes; }

double ReplayBuffer::priority(int64_t index) const {
  const Impl& s = *impl_;
  if (!s.priorities) throw std::logic_error("ReplayBuffer::priority: buffer is not prioritized");
  require(index >= 0 && index < s.options.capacity, [&] {
    return "priority: slot " + std::to_string(index) + " outside [0, " +
           std::to_string(s.options.capacity) + ")";
  });
  return s.priorities->get(index);
}

double ReplayBuffer::max_priority() const { return impl_->max_priority; }

size_t ReplayBuffer::memory_bytes() const {
  const Impl& s = *impl_;
  size_t bytes = s.observations.capacity() + s.next_observations.capacity() +
                 s.discrete_actions.capacity() * sizeof(int64_t) +
                 (s.continuous_actions.capacity() + s.rewards.capacity() + s.discounts.capacity()) *
                     sizeof(float) +
                 s.next_legal_masks.capacity();
  if (s.priorities) bytes += s.priorities->memory_bytes();
  for (const PendingWindow& w : s.pending)
    bytes += w.observations.capacity() + w.discrete_actions.capacity() * sizeof(int64_t) +
             (w.continuous_actions.capacity() + w.rewards.capacity()) * sizeof(float);
  return bytes;
}

}  // namespace rl

// Experience replay in raw arrays: uniform or prioritized (sum tree, alpha/beta), n-step
// returns computed per env, observations stored in their own dtype (u8 stays u8; binary u8
// observations can be bit-packed), batches sampled into contiguous arrays ready to wrap with
// torch::from_blob.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/spaces.h"

namespace rl {

class VectorEnv;

struct ReplayOptions {
  int64_t capacity = 100000;
  int num_envs = 1;            // Independent n-step queues, one per env of the vector env.
  int n_step = 1;              // n-step returns (1 = plain one-step TD).
  double gamma = 0.99;         // Discount used for n-step returns and the stored discount.
  bool prioritized = false;    // Proportional PER (Schaul et al. 2016).
  double alpha = 0.6;          // Priority exponent.
  double priority_eps = 1e-6;  // Added to |TD error| before exponentiation.
  bool bit_pack = false;       // Store u8 observations whose values are 0/1 as bits.
  // Discrete action spaces: also store the legal-action mask of each transition's next
  // observation (action_space.n bytes, 1 = legal), for targets that maximize over legal
  // actions only.
  bool legal_masks = false;
};

// A sampled batch; all arrays are contiguous, batch-first.
struct ReplayBatch {
  int size = 0;
  std::vector<uint8_t> observations;        // size * obs bytes, in the observation dtype
  std::vector<uint8_t> next_observations;   // size * obs bytes: observation n steps later
  std::vector<int64_t> discrete_actions;    // size (Discrete action spaces)
  std::vector<float> continuous_actions;    // size * action numel (Box action spaces)
  std::vector<float> rewards;               // n-step discounted reward sum
  std::vector<float> discounts;             // gamma^k, or 0 when the episode terminated
  std::vector<uint8_t> next_legal_actions;  // size * n with legal_masks (else empty)
  std::vector<int64_t> indices;             // Slots, for update_priorities()
  std::vector<float> weights;               // Importance weights (1 when uniform), max-normalized
};

class ReplayBuffer {
 public:
  // Throws std::invalid_argument naming the bad option (capacity, num_envs or n_step < 1, gamma
  // outside [0, 1], alpha < 0, priority_eps <= 0, bit_pack without a u8 Box observation space,
  // a Discrete observation space, legal_masks with a Box action space).
  ReplayBuffer(const Space& observation_space, const Space& action_space, ReplayOptions options);
  ~ReplayBuffer();

  // Adds one transition of env `env_index`. `next_obs` is the observation after the step (the
  // final observation when the episode ended). Terminated stops bootstrapping; truncated ends
  // the n-step window but still bootstraps from next_obs. Each finished n-step window becomes
  // one stored transition; an episode end flushes the partial windows of that env. Throws
  // std::invalid_argument (nothing is stored) for a bad env index, buffer size, action or
  // non-finite reward, or, with bit_pack, an observation element other than 0 or 1.
  // `next_legal` (legal_masks only) is the legal-action mask of next_obs: action_space.n bytes
  // with at least one legal action, or empty for all legal. It becomes the mask of every
  // transition this call stores (their next observation is next_obs). Giving one to a buffer
  // without legal_masks, a wrong size or a mask without a legal action throws.
  void add(int env_index, std::span<const uint8_t> obs, int64_t discrete_action,
           std::span<const float> continuous_action, float reward,
           std::span<const uint8_t> next_obs, bool terminated, bool truncated,
           std::span<const uint8_t> next_legal = {});

  // Adds the transitions of one VectorEnv::step(): env i's observation is row i of
  // `observations` (a copy of vec.observations() taken before the step), its action row i of
  // the action span that fits the action space (the other one is ignored), and its next
  // observation vec.next_observation(i) (the final observation where its episode ended).
  // Requires vec.size() == num_envs. With legal_masks, the next mask is
  // vec.next_legal_actions(i) (all legal where the episode ended). Throws like add(); envs
  // before a failing one stay stored.
  void add_batch(std::span<const uint8_t> observations, std::span<const int64_t> discrete_actions,
                 std::span<const float> continuous_actions, const VectorEnv& vec);

  // Samples `batch_size` transitions (with replacement) into `out`. With prioritized replay,
  // `beta` sets the importance-sampling correction: weight = (size() * P(i))^-beta divided by
  // the largest weight in the batch. Prioritized sampling is stratified: the total priority is
  // cut into batch_size equal segments and one transition is drawn from each. Throws
  // std::logic_error when the buffer is empty, std::invalid_argument for batch_size < 1 or a
  // negative/non-finite beta.
  void sample(int batch_size, Rng& rng, ReplayBatch& out, double beta = 0.4) const;
  // Sets priorities from new |TD errors| for the slots of a sampled batch: (|td| + eps)^alpha.
  // Throws std::invalid_argument (nothing changed) for mismatched sizes, a slot outside
  // [0, size()) or a non-finite error. A uniform buffer validates the input and ignores it.
  void update_priorities(std::span<const int64_t> indices, std::span<const float> td_errors);

  int64_t size() const;  // Stored transitions (<= capacity).
  int64_t capacity() const;
  size_t memory_bytes() const;  // Bytes held by the storage arrays.

  // Bytes of one observation as given to add() and returned in batches.
  size_t observation_bytes() const;
  // Bytes one stored observation occupies (smaller than observation_bytes() when bit-packed).
  size_t stored_observation_bytes() const;
  // The whole buffer as bytes, for checkpoints: the stored transitions as they are in memory
  // (bit-packed observations stay packed, u8 stays u8; only the filled slots), the write
  // position, the priorities and each env's pending n-step window. load() takes the bytes of
  // a buffer built with the same spaces and options; it throws std::invalid_argument naming
  // what differs or is malformed (a cut-short stream, a slot or priority out of range), and
  // then leaves this buffer unchanged.
  std::vector<uint8_t> save() const;
  void load(std::span<const uint8_t> bytes);

  // Prioritized replay only: the priority (|TD error| + eps)^alpha of a slot, and the largest
  // priority seen so far (given to new transitions; 1 before any update).
  double priority(int64_t index) const;
  double max_priority() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rl

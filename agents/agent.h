// The interface every learning agent implements (DQN, and the actor-critic agents A2C, PPO,
// SAC), and the registry that builds agents by type name.
//
// Lifecycle, driven by the shared trainer loop (agents/trainer.h):
//   agent = AgentRegistry::global().make(type, settings_section, context);
//   loop:  agent->act(obs, n, ActMode::kExplore, actions)     // one action per env
//          vector_env.step(actions)
//          agent->observe(transitions)                        // store / accumulate
//          stats = agent->update(env_steps)                   // learn when due
//   eval:  agent->act(obs, n, ActMode::kGreedy, actions) on separate env copies; recurrent
//          agents need the caller's memory in actions.recurrent_state (see RecurrentState)
//   save/load into a checkpoint archive (agents/checkpoint.h).
// Off-policy agents store transitions in a replay buffer and update every few steps; on-policy
// agents fill a rollout in observe() and update when it is full. This header is free of
// LibTorch (the archive types are only declared) so viewers can include it cheaply.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/spaces.h"

namespace torch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace torch::serialize

namespace rl {

class ReplayBuffer;

enum class ActMode {
  kGreedy,   // Best action (evaluation, watching).
  kExplore,  // The agent's training-time behaviour (epsilon-greedy, sampling, noise).
  // A draw from the agent's stochastic policy without training bookkeeping (evaluation with
  // train.eval_deterministic: false), from the generator seed_sampling() seeds. Only agents
  // registered with evaluates_by_sampling support it; the others act greedily.
  kSample,
};

// What an agent is built for. Observations arrive as raw bytes in the observation space's
// dtype (u8 or f32), batch-first: row i is env i.
struct AgentContext {
  Space observation_space;
  Space action_space;
  int num_envs = 1;         // Rows per act()/observe() call during training.
  int64_t total_steps = 0;  // Training budget in env steps (for schedules).
  uint64_t seed = 0;        // Seeds the agent's own RNG and its network initialisation.
  int threads = 1;          // Intra-op threads for the tensor library.
};

// The memory a recurrent policy carries from one act() to the next, one row per env slot.
// Whoever steps the envs owns it: make it with Agent::initial_state(slots), pass it in
// ActionBatch::recurrent_state with every greedy act() on those envs (act advances it), and
// reset(slot) when that slot's env starts a new episode. Feed-forward agents have no memory
// (size 0) and ignore it. The agent's own training envs keep their memory inside the agent.
struct RecurrentState {
  int slots = 0;
  int64_t size = 0;           // Floats per slot.
  std::vector<float> values;  // slots * size, in the agent's layout (zero: an episode start).

  // Forgets slot's memory (its env starts a new episode).
  void reset(int slot) {
    std::fill_n(values.begin() + static_cast<std::ptrdiff_t>(slot * size), size, 0.f);
  }
  std::span<const float> slot(int index) const {
    return std::span<const float>(values).subspan(static_cast<size_t>(index * size),
                                                  static_cast<size_t>(size));
  }
};

// Output of act(): exactly one of the spans is used, by the action space kind.
struct ActionBatch {
  std::span<int64_t> discrete;  // batch entries (Discrete action spaces)
  std::span<float> continuous;  // batch * action numel (Box action spaces)
  // Optional input for Discrete action spaces: batch * n bytes, row i the legal-action mask of
  // env i (1 = legal, from Env::legal_actions). Empty when no env restricts its actions.
  // Agents that support masks never choose an illegal action.
  std::span<const uint8_t> legal_actions = {};
  // Recurrent agents, greedy mode: the callers' memory of these envs, `batch` slots, advanced
  // by the call. Required by recurrent agents (std::invalid_argument without it).
  RecurrentState* recurrent_state = nullptr;
};

// One vector-env step, batch-first, `batch` rows.
struct TransitionBatch {
  int batch = 0;
  std::span<const uint8_t> observations;      // Before the step.
  std::span<const int64_t> discrete_actions;  // Discrete action spaces.
  std::span<const float> continuous_actions;  // Box action spaces.
  std::span<const float> rewards;
  std::span<const uint8_t> next_observations;  // After the step: the final one where done.
  std::span<const uint8_t> terminated;         // 1: episode ended inside the MDP.
  std::span<const uint8_t> truncated;          // 1: cut by a time limit (bootstrap).
  // Optional, Discrete action spaces: batch * n bytes, row i the legal-action mask of env i's
  // next observation (1 = legal). Rows whose episode ended are all legal: the final state's
  // mask is gone after the auto-reset. Empty when no env restricts its actions.
  std::span<const uint8_t> next_legal_actions = {};
};

// Per-action numbers for a viewer HUD.
struct ActionValues {
  std::string kind;           // "q" (action values) or "probability".
  std::vector<float> values;  // One per discrete action.
};

class Agent {
 public:
  virtual ~Agent() = default;

  // Registry type name, e.g. "dqn".
  virtual std::string type() const = 0;

  // One line for the start of a run: network, memory use, ... (default: the type).
  virtual std::string describe() const { return type(); }

  // Chooses an action for each of `batch` observations (batch * observation bytes).
  virtual void act(std::span<const uint8_t> observations, int batch, ActMode mode,
                   ActionBatch out) = 0;

  // Values behind the greedy choice for one observation (for the HUD). Recurrent agents need
  // their memory: they throw std::invalid_argument here, use action_values_with_state.
  virtual ActionValues action_values(std::span<const uint8_t> observation) = 0;

  // Floats of memory per env slot; 0 for feed-forward agents.
  virtual int64_t recurrent_state_size() const { return 0; }
  bool recurrent() const { return recurrent_state_size() > 0; }
  // Memory for `slots` envs, each at an episode start.
  RecurrentState initial_state(int slots) const {
    const int64_t size = recurrent_state_size();
    return {slots, size, std::vector<float>(static_cast<size_t>(slots * size), 0.f)};
  }
  // action_values with slot 0 of `state` as the memory (read, not advanced); feed-forward
  // agents ignore the state.
  virtual ActionValues action_values_with_state(std::span<const uint8_t> observation,
                                                const RecurrentState& state) {
    (void)state;
    return action_values(observation);
  }

  // Hands the agent the outcome of one vector-env step during training.
  virtual void observe(const TransitionBatch& transitions) = 0;

  // Learns whatever is due now that `env_steps` env steps were taken in total. Returns the
  // metrics of the updates it ran (empty when it did not update), named as metric_names().
  virtual std::map<std::string, double> update(int64_t env_steps) = 0;

  // Names update() can report (CSV columns).
  virtual std::vector<std::string> metric_names() const = 0;

  // Everything needed to continue training or act: networks, optimizer, counters, RNG state.
  // Keys are prefixed by the caller's archive nesting; load() throws std::runtime_error when
  // the archive does not match this agent (different network shapes, missing entries).
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;

  // The agent's replay buffer (off-policy agents), which checkpoints save apart from save()
  // when train.save_replay allows; nullptr for agents without one.
  virtual ReplayBuffer* replay_buffer() { return nullptr; }

  // Seeds the draws of ActMode::kSample (called before each evaluation, so sampled
  // evaluations repeat exactly and leave the training RNG alone). Default: nothing to seed.
  virtual void seed_sampling(uint64_t /*seed*/) {}
};

// Builds an agent from its settings (a config section, read strictly: unknown keys are
// errors) and the context.
using AgentFactory =
    std::function<std::unique_ptr<Agent>(ConfigSection& settings, const AgentContext& context)>;

struct AgentEntry {
  std::string type;         // "dqn"
  std::string description;  // One line, shown by `rltrain --list`.
  // Which action spaces it supports: used to reject mismatched configs early.
  bool discrete_actions = true;
  bool continuous_actions = false;
  AgentFactory factory;
  // The default of train.eval_deterministic is the opposite: agents with a stochastic policy
  // (PPO, A2C) are evaluated by sampling it (ActMode::kSample) unless the config says
  // otherwise; the others (DQN, SAC) greedily, and reject eval_deterministic: false.
  bool evaluates_by_sampling = false;
};

class AgentRegistry {
 public:
  // The registry holding every built-in agent. Agents register through an explicit call in
  // agents/agent_registry.cpp (static registrars would be dropped from a static library).
  static AgentRegistry& global();

  // Throws std::invalid_argument on a duplicate type.
  void add(AgentEntry entry);
  // Throws std::invalid_argument for an unknown type (listing the known ones).
  const AgentEntry& find(const std::string& type) const;
  // Reads the settings and builds the agent. Throws ConfigError for bad settings, or when the
  // agent cannot handle the env's action space.
  std::unique_ptr<Agent> make(const std::string& type, ConfigSection& settings,
                              const AgentContext& context) const;
  std::vector<std::string> types() const;  // Sorted.

 private:
  std::map<std::string, AgentEntry> entries_;
};

}  // namespace rl

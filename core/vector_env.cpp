#include "core/vector_env.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/thread_pool.h"

namespace rl {

struct VectorEnv::Impl {
  std::vector<std::unique_ptr<Env>> envs;
  uint64_t base_seed = 0;
  size_t obs_bytes = 0;
  int64_t action_numel = 0;          // Box action spaces: floats per env.
  std::unique_ptr<ThreadPool> pool;  // Null in sync mode.
  bool has_reset = false;

  std::vector<uint8_t> observations;
  std::vector<uint8_t> final_observations;
  std::vector<float> rewards;
  std::vector<uint8_t> terminated;
  std::vector<uint8_t> truncated;
  // Per-env record of the episode that ended in the last step, gathered in env order after
  // the (possibly parallel) step so the list does not depend on thread timing.
  std::vector<FinishedEpisode> finished_slots;
  std::vector<FinishedEpisode> finished;

  bool log_on = false;
  size_t log_record_bytes = 0;  // Per env and step.
  std::vector<uint8_t> action_log;
  int64_t logged_steps = 0;
  std::vector<int64_t> replay_discrete;  // replay()'s decoded actions of one step.
  std::vector<float> replay_continuous;

  int size() const { return static_cast<int>(envs.size()); }
  ObsBuffer obs_row(int i) { return {observations.data() + i * obs_bytes, obs_bytes}; }

  void for_each_env(const std::function<void(int)>& task) {
    if (pool) {
      pool->parallel_for(size(), task);
    } else {
      for (int i = 0; i < size(); ++i) task(i);
    }
  }

  void step_env(int i, const Action& action) {
    Env& env = *envs[i];
    const StepResult result = env.step(action, obs_row(i));
    rewards[i] = result.reward;
    terminated[i] = result.terminated;
    truncated[i] = result.truncated;
    if (!result.done()) return;
    std::memcpy(final_observations.data() + i * obs_bytes, obs_row(i).data(), obs_bytes);
    finished_slots[i] = {i, env.episode_return(), env.episode_steps()};
    env.reset(obs_row(i));
  }

  void gather_finished() {
    finished.clear();
    for (int i = 0; i < size(); ++i)
      if (terminated[i] || truncated[i]) finished.push_back(finished_slots[i]);
  }

  // Appends one step's actions to the log (Discrete: narrowed to a byte when they fit).
  void log_discrete(std::span<const int64_t> actions) {
    if (!log_on) return;
    ++logged_steps;
    if (log_record_bytes == 1) {
      for (int64_t a : actions) action_log.push_back(static_cast<uint8_t>(a));
      return;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(actions.data());
    action_log.insert(action_log.end(), p, p + actions.size_bytes());
  }
  void log_continuous(std::span<const float> actions) {
    if (!log_on) return;
    ++logged_steps;
    const auto* p = reinterpret_cast<const uint8_t*>(actions.data());
    action_log.insert(action_log.end(), p, p + actions.size_bytes());
  }

  void check_index(int i, const char* what) const {
    if (i < 0 || i >= size())
      throw std::out_of_range("VectorEnv::" + std::string(what) + ": index " + std::to_string(i) +
                              " outside [0, " + std::to_string(size()) + ")");
  }

  void check_ready(const char* what) const {
    if (!has_reset)
      throw std::logic_error(envs[0]->spec().id + ": VectorEnv::" + what +
                             " called before reset()");
  }
};

VectorEnv::VectorEnv(const Factory& make, int num_envs, uint64_t base_seed, VectorMode mode,
                     int threads)
    : impl_(std::make_unique<Impl>()) {
  if (num_envs < 1)
    throw std::invalid_argument("VectorEnv: num_envs must be >= 1, got " +
                                std::to_string(num_envs));
  if (threads < 0)
    throw std::invalid_argument("VectorEnv: threads must be >= 0 (0 = all cores), got " +
                                std::to_string(threads));
  Impl& s = *impl_;
  s.base_seed = base_seed;
  s.envs.reserve(num_envs);
  for (int i = 0; i < num_envs; ++i) {
    s.envs.push_back(make());
    if (!s.envs.back()) throw std::invalid_argument("VectorEnv: the factory returned null");
    if (s.envs.back()->spec().observation_space != s.envs[0]->spec().observation_space ||
        s.envs.back()->spec().action_space != s.envs[0]->spec().action_space)
      throw std::invalid_argument("VectorEnv: env " + std::to_string(i) + " (" +
                                  s.envs.back()->spec().id + ") has different spaces from env 0 (" +
                                  s.envs[0]->spec().id + ")");
  }
  const EnvSpec& first = s.envs[0]->spec();
  s.obs_bytes = first.observation_space.bytes();
  s.action_numel = first.action_space.is_discrete() ? 1 : first.action_space.numel();
  s.log_record_bytes = !first.action_space.is_discrete() ? sizeof(float) * s.action_numel
                       : first.action_space.n <= 256     ? 1
                                                         : sizeof(int64_t);
  s.observations.assign(num_envs * s.obs_bytes, 0);
  s.final_observations.assign(num_envs * s.obs_bytes, 0);
  s.rewards.assign(num_envs, 0.f);
  s.terminated.assign(num_envs, 0);
  s.truncated.assign(num_envs, 0);
  s.finished_slots.assign(num_envs, {});
  s.finished.reserve(num_envs);
  if (mode == VectorMode::kThreads) s.pool = std::make_unique<ThreadPool>(threads);
}

VectorEnv::~VectorEnv() = default;

int VectorEnv::size() const { return impl_->size(); }
const EnvSpec& VectorEnv::spec() const { return impl_->envs[0]->spec(); }
size_t VectorEnv::observation_bytes() const { return impl_->obs_bytes; }
Env& VectorEnv::env(int i) { return const_cast<Env&>(std::as_const(*this).env(i)); }

const Env& VectorEnv::env(int i) const {
  impl_->check_index(i, "env");
  return *impl_->envs[i];
}

void VectorEnv::reset() {
  Impl& s = *impl_;
  s.for_each_env([&s](int i) { s.envs[i]->reset(s.base_seed + i, s.obs_row(i)); });
  std::fill(s.rewards.begin(), s.rewards.end(), 0.f);
  std::fill(s.terminated.begin(), s.terminated.end(), 0);
  std::fill(s.truncated.begin(), s.truncated.end(), 0);
  s.finished.clear();
  s.has_reset = true;
  s.action_log.clear();
  s.logged_steps = 0;
}

void VectorEnv::step(std::span<const int64_t> discrete_actions) {
  Impl& s = *impl_;
  s.check_ready("step");
  if (!spec().action_space.is_discrete())
    throw std::invalid_argument(spec().id + ": VectorEnv::step got discrete actions for " +
                                spec().action_space.describe());
  if (static_cast<int>(discrete_actions.size()) != size())
    throw std::invalid_argument(spec().id + ": VectorEnv::step got " +
                                std::to_string(discrete_actions.size()) + " actions for " +
                                std::to_string(size()) + " envs");
  s.for_each_env([&](int i) { s.step_env(i, Action::discrete(discrete_actions[i])); });
  s.gather_finished();
  s.log_discrete(discrete_actions);
}

void VectorEnv::step(std::span<const float> continuous_actions) {
  Impl& s = *impl_;
  s.check_ready("step");
  if (spec().action_space.is_discrete())
    throw std::invalid_argument(spec().id + ": VectorEnv::step got continuous actions for " +
                                spec().action_space.describe());
  const size_t expected = static_cast<size_t>(size()) * s.action_numel;
  if (continuous_actions.size() != expected)
    throw std::invalid_argument(
        spec().id + ": VectorEnv::step got " + std::to_string(continuous_actions.size()) +
        " action values, expected " + std::to_string(expected) + " (" + std::to_string(size()) +
        " envs x " + std::to_string(s.action_numel) + ")");
  s.for_each_env([&](int i) {
    s.step_env(i,
               Action::continuous(continuous_actions.subspan(i * s.action_numel, s.action_numel)));
  });
  s.gather_finished();
  s.log_continuous(continuous_actions);
}

std::span<const uint8_t> VectorEnv::observations() const { return impl_->observations; }
std::span<const uint8_t> VectorEnv::final_observations() const { return impl_->final_observations; }
std::span<const float> VectorEnv::rewards() const { return impl_->rewards; }
std::span<const uint8_t> VectorEnv::terminated() const { return impl_->terminated; }
std::span<const uint8_t> VectorEnv::truncated() const { return impl_->truncated; }
const std::vector<VectorEnv::FinishedEpisode>& VectorEnv::finished_episodes() const {
  return impl_->finished;
}

std::span<const uint8_t> VectorEnv::next_observation(int i) const {
  const Impl& s = *impl_;
  s.check_index(i, "next_observation");
  const std::vector<uint8_t>& rows = done(i) ? s.final_observations : s.observations;
  return std::span<const uint8_t>(rows).subspan(i * s.obs_bytes, s.obs_bytes);
}

void VectorEnv::copy_next_observations(std::span<uint8_t> out) const {
  const size_t bytes = impl_->obs_bytes;
  const size_t expected = static_cast<size_t>(size()) * bytes;
  if (out.size() != expected)
    throw std::invalid_argument(spec().id + ": VectorEnv::copy_next_observations got " +
                                std::to_string(out.size()) + " bytes, expected " +
                                std::to_string(expected) + " (" + std::to_string(size()) +
                                " envs x " + std::to_string(bytes) + ")");
  for (int i = 0; i < size(); ++i)
    std::memcpy(out.data() + i * bytes, next_observation(i).data(), bytes);
}

bool VectorEnv::next_legal_actions(int i, std::span<uint8_t> mask) const {
  impl_->check_index(i, "next_legal_actions");
  const Space& actions = spec().action_space;
  if (!actions.is_discrete())
    throw std::invalid_argument(spec().id + ": VectorEnv::next_legal_actions needs a Discrete " +
                                "action space, not " + actions.describe());
  if (mask.size() != static_cast<size_t>(actions.n))
    throw std::invalid_argument(spec().id + ": VectorEnv::next_legal_actions got a mask of " +
                                std::to_string(mask.size()) + " bytes, expected " +
                                std::to_string(actions.n));
  if (!done(i) && impl_->envs[i]->legal_actions(mask)) return true;
  std::fill(mask.begin(), mask.end(), uint8_t{1});
  return false;
}

void VectorEnv::set_action_log(bool on) { impl_->log_on = on; }
bool VectorEnv::action_log_on() const { return impl_->log_on; }
std::span<const uint8_t> VectorEnv::action_log() const { return impl_->action_log; }
int64_t VectorEnv::logged_steps() const { return impl_->logged_steps; }
size_t VectorEnv::action_log_record_bytes() const { return impl_->log_record_bytes; }

void VectorEnv::replay(std::span<const uint8_t> log, int64_t steps,
                       const std::function<void()>& after_step) {
  Impl& s = *impl_;
  s.check_ready("replay");
  const size_t step_bytes = s.log_record_bytes * static_cast<size_t>(size());
  if (steps < 0 || log.size() != static_cast<size_t>(steps) * step_bytes)
    throw std::invalid_argument(spec().id + ": VectorEnv::replay got an action log of " +
                                std::to_string(log.size()) + " bytes for " + std::to_string(steps) +
                                " steps, expected " + std::to_string(step_bytes) +
                                " bytes per step (" + std::to_string(size()) + " envs x " +
                                std::to_string(s.log_record_bytes) + ")");
  const bool discrete = spec().action_space.is_discrete();
  s.replay_discrete.resize(discrete ? size() : 0);
  s.replay_continuous.resize(discrete ? 0 : size() * s.action_numel);
  for (int64_t t = 0; t < steps; ++t) {
    const uint8_t* record = log.data() + t * step_bytes;
    if (!discrete) {
      std::memcpy(s.replay_continuous.data(), record, step_bytes);
      step(std::span<const float>(s.replay_continuous));
    } else {
      if (s.log_record_bytes == 1) {
        std::copy(record, record + size(), s.replay_discrete.begin());
      } else {
        std::memcpy(s.replay_discrete.data(), record, step_bytes);
      }
      step(std::span<const int64_t>(s.replay_discrete));
    }
    if (after_step) after_step();
  }
}

}  // namespace rl

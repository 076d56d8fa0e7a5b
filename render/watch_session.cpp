#include "render/watch_session.h"

#include <cstdio>
#include <filesystem>

#include "core/registry.h"

namespace rl::render {
namespace {

std::vector<std::string> action_labels(const EnvSpec& spec) {
  std::vector<std::string> labels;
  if (!spec.action_space.is_discrete()) return labels;
  for (int64_t a = 0; a < spec.action_space.n; ++a)
    labels.push_back(a < static_cast<int64_t>(spec.action_names.size())
                         ? spec.action_names[static_cast<size_t>(a)]
                         : "action " + std::to_string(a));
  return labels;
}

class ReplaySession final : public WatchSession {
 public:
  ReplaySession(Replay replay, std::string label)
      : replay_(std::move(replay)), simulator_(replay_) {
    hud_.env_id = replay_.env_id;
    hud_.source = std::move(label);
    hud_.action_labels = action_labels(simulator_.env().spec());
    refresh();
  }

  bool advance() override {
    if (simulator_.finished()) return false;
    const Action action = replay_.action(simulator_.step());
    hud_.last_action = describe_action(simulator_.env().spec(), action);
    hud_.last_action_index = replay_.continuous ? -1 : action.index;
    simulator_.advance();
    refresh();
    return true;
  }

  void restart() override {
    simulator_.restart();
    hud_.last_action.clear();
    hud_.last_action_index = -1;
    refresh();
  }

  bool finished() const override { return simulator_.finished(); }
  bool episode_over() const override { return simulator_.finished(); }
  const Env& env() const override { return simulator_.env(); }
  std::optional<Divergence> divergence() const override { return simulator_.divergence(); }

 private:
  void refresh() {
    hud_.step = simulator_.step();
    hud_.episode_return = simulator_.env().episode_return();
    hud_.diverged = simulator_.divergence().has_value();
    if (hud_.diverged) {
      const Divergence& d = *simulator_.divergence();
      hud_.status = "DIVERGED at step " + std::to_string(d.step) + ": " + d.what;
    } else {
      hud_.status = "checksums ok (" + std::to_string(simulator_.checksums_matched()) + ")";
      if (simulator_.finished()) hud_.status += ", end of replay";
    }
  }

  Replay replay_;
  ReplaySimulator simulator_;
};

}  // namespace

std::string describe_action(const EnvSpec& spec, const Action& action) {
  if (spec.action_space.is_discrete()) {
    if (action.index >= 0 && action.index < static_cast<int64_t>(spec.action_names.size()))
      return spec.action_names[static_cast<size_t>(action.index)];
    return "action " + std::to_string(action.index);
  }
  std::string out = "[";
  char buf[32];
  for (size_t i = 0; i < action.values.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.2f", i ? ", " : "", action.values[i]);
    out += buf;
  }
  return out + "]";
}

PolicySource random_policy(uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](std::span<const uint8_t>, const Env& env) {
    PolicyDecision decision;
    decision.index = sample_space(env.spec().action_space, *rng, decision.values);
    return decision;
  };
}

std::unique_ptr<WatchSession> make_replay_session(Replay replay, std::string label) {
  return std::make_unique<ReplaySession>(std::move(replay), std::move(label));
}

std::unique_ptr<LiveSession> make_policy_session(LiveOptions options, PolicySource policy) {
  return std::make_unique<LiveSession>(std::move(options), std::move(policy), false);
}

std::unique_ptr<LiveSession> make_human_session(LiveOptions options) {
  return std::make_unique<LiveSession>(std::move(options), nullptr, true);
}

LiveSession::LiveSession(LiveOptions options, PolicySource policy, bool human)
    : options_(std::move(options)), policy_(std::move(policy)) {
  env_ = options_.make_env ? options_.make_env()
                           : EnvRegistry::global().make(options_.env_id, options_.env_params);
  if (human)
    human_.emplace(env_->spec());
  else if (!policy_)
    throw std::invalid_argument("LiveSession: a policy or human input is needed");
  turn_based_ = human_ && human_->turn_based();
  observation_.resize(env_->spec().observation_space.bytes());
  if (options_.recording) {
    recorder_.emplace(options_.env_id,
                      ReplayRecorderOptions{options_.env_params, options_.recording->agent_info,
                                            options_.recording->checkpoint_info, 1},
                      env_->spec().max_episode_steps);
  }
  hud_.env_id = options_.env_id;
  hud_.source = options_.label;
  hud_.action_labels = action_labels(env_->spec());
  start_episode();
}

LiveSession::~LiveSession() = default;

void LiveSession::start_episode() {
  const uint64_t seed = options_.seed + static_cast<uint64_t>(hud_.episode - 1);
  env_->reset(seed, observation_);
  if (recorder_) {
    recorder_->begin(seed);
    recording_saved_ = false;
  }
  hud_.step = 0;
  hud_.episode_return = 0.0;
  hud_.last_action.clear();
  hud_.last_action_index = -1;
  hud_.action_values.clear();
  hud_.memory.clear();
  hud_.status = turn_based_ ? "your move" : "";
}

void LiveSession::restart() {
  save_partial();
  if (human_) human_->clear();
  ++hud_.episode;
  start_episode();
}

bool LiveSession::decide(Action& action) {
  if (human_) {
    if (turn_based_) {
      const std::optional<int64_t> turn = human_->next_turn();
      if (!turn) return false;
      action = Action::discrete(*turn);
    } else {
      action = human_->current_action();
    }
    return true;
  }
  decision_ = policy_(observation_, *env_);
  action = Action{decision_.index, decision_.values};
  hud_.action_values = decision_.action_values;
  hud_.values_label = decision_.values_label;
  hud_.memory = decision_.memory;
  return true;
}

bool LiveSession::advance() {
  if (env_->episode_over()) {
    if (turn_based_ && !human_->next_turn()) return false;  // Any key starts the next game.
    ++hud_.episode;
    start_episode();
    return true;
  }
  Action action;
  if (!decide(action)) return false;
  const StepResult result = env_->step(action, observation_);
  ++steps_taken_;
  after_step(action, result);
  return true;
}

void LiveSession::after_step(const Action& action, const StepResult& result) {
  hud_.step = env_->episode_steps();
  hud_.episode_return = env_->episode_return();
  hud_.last_action = describe_action(env_->spec(), action);
  hud_.last_action_index = env_->spec().action_space.is_discrete() ? action.index : -1;
  if (recorder_ && !recorder_->episode_over()) recorder_->record(action);
  if (result.done()) {
    hud_.status = std::string(result.terminated ? "episode over" : "episode truncated") +
                  (turn_based_ ? ": any key for the next one" : "");
    if (recorder_) {
      recorder_->save(recording_path(hud_.episode));
      recorded_files_.push_back(recording_path(hud_.episode));
      recording_saved_ = true;
    }
  } else if (turn_based_) {
    hud_.status = "your move";
  }
}

void LiveSession::save_partial() {
  if (!recorder_ || recording_saved_ || recorder_->replay().steps() == 0) return;
  recorder_->save(recording_path(hud_.episode));
  recorded_files_.push_back(recording_path(hud_.episode));
  recording_saved_ = true;
}

std::string LiveSession::recording_path(int64_t episode) const {
  const std::filesystem::path path(options_.recording->path);
  if (episode <= 1) return path.string();
  return (path.parent_path() /
          (path.stem().string() + "-" + std::to_string(episode) + path.extension().string()))
      .string();
}

}  // namespace rl::render

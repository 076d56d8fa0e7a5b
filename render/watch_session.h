// What the viewer and the exporters show, without any SFML: an env driven by a recorded
// replay, by a policy (an agent, or random), or by a person's keys, plus the HUD state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "core/replay_file.h"
#include "render/human_input.h"

namespace rl::render {

// What a policy chose for one observation, with its optional view of the choice.
struct PolicyDecision {
  int64_t index = 0;                 // Discrete action spaces.
  std::vector<float> values;         // Box action spaces (numel values).
  std::vector<float> action_values;  // Optional, one per discrete action (Q-values, probs).
  std::string values_label;          // What action_values are, e.g. "Q" or "p".
  std::vector<float> memory;         // Optional: a recurrent policy's state after the choice.
};

// The policy hook: observation (the env's bytes) -> decision. An agent adapter is a thin
// function of this type; the env is passed for its spec.
using PolicySource =
    std::function<PolicyDecision(std::span<const uint8_t> observation, const Env& env)>;

// Uniformly random actions from its own seeded RNG.
PolicySource random_policy(uint64_t seed);

// Everything the HUD shows.
struct HudState {
  std::string env_id;
  std::string source;   // "replay foo.rlr", "agent ...", "human".
  int64_t episode = 1;  // 1-based.
  int64_t step = 0;     // Steps into the current episode.
  double episode_return = 0.0;
  std::string last_action;                 // Name of the last action ("" before the first step).
  int64_t last_action_index = -1;          // Discrete only.
  std::vector<std::string> action_labels;  // One per discrete action.
  std::vector<float> action_values;        // From the policy, if it gave any.
  std::string values_label;
  std::vector<float> memory;  // A recurrent policy's state, if it has one (shown as a strip).
  std::string status;         // E.g. "checksums ok (12)", "episode over", "your move".
  bool diverged = false;      // Replay re-simulation disagreed with the recording.
};

class WatchSession {
 public:
  virtual ~WatchSession() = default;

  // Advances one env step (a live session whose episode ended starts the next one instead).
  // Returns false when nothing happened: the replay is over, or a turn-based human session
  // has no key press waiting.
  virtual bool advance() = 0;
  // Back to the start of the replay; live sessions start their next episode.
  virtual void restart() = 0;
  // True when there is nothing more to show (the end of a replay); live sessions never end.
  virtual bool finished() const = 0;
  // True once the current episode is over (its last frame is on show).
  virtual bool episode_over() const = 0;
  virtual const Env& env() const = 0;
  // Human play: the key mapping (nullptr for replays and policies).
  virtual HumanInput* human_input() { return nullptr; }
  // Where a replay's re-simulation first disagreed with the recording (replays only).
  virtual std::optional<Divergence> divergence() const { return std::nullopt; }
  // True when steps come from key presses rather than from the playback clock.
  bool turn_based() const { return turn_based_; }

  void render(Image& out) const { env().render(out); }
  const HudState& hud() const { return hud_; }

 protected:
  HudState hud_;
  bool turn_based_ = false;
};

// Plays a recorded episode, checking the recording's checksums as it goes.
std::unique_ptr<WatchSession> make_replay_session(Replay replay, std::string label);

// Records every episode a live session plays: the first into `path`, episode k > 1 into
// "<stem>-k<ext>". A partly played episode is saved by save_partial().
struct RecordingOptions {
  std::string path;
  std::string agent_info;
  std::string checkpoint_info;
};

// Episode k starts with env.reset(seed + k - 1). The env is built from the registry (env_id,
// env_params), or by make_env when given: e.g. the wrapped env an agent was trained on.
// Recordings always describe the bare registry env (see ShadowReplayRecorder).
struct LiveOptions {
  std::string env_id;
  std::map<std::string, ParamValue> env_params;
  uint64_t seed = 0;
  std::string label;  // Shown as the HUD source.
  std::optional<RecordingOptions> recording;
  std::function<std::unique_ptr<Env>()> make_env;  // Optional.
};

class LiveSession : public WatchSession {
 public:
  LiveSession(LiveOptions options, PolicySource policy, bool human);
  ~LiveSession() override;

  bool advance() override;
  void restart() override;
  bool finished() const override { return false; }
  bool episode_over() const override { return env_->episode_over(); }
  const Env& env() const override { return *env_; }
  HumanInput* human_input() override { return human_ ? &*human_ : nullptr; }
  // Replaces what the HUD shows as the source (e.g. "agent dqn, weights of step 20k").
  void set_label(std::string label) { hud_.source = std::move(label); }
  // Env steps taken over all episodes.
  int64_t steps_taken() const { return steps_taken_; }

  // Writes the current episode's recording if it has steps and was not saved yet.
  void save_partial();
  // Files written so far by the recorder.
  const std::vector<std::string>& recorded_files() const { return recorded_files_; }

 private:
  void start_episode();
  bool decide(Action& action);
  void after_step(const Action& action, const StepResult& result);
  std::string recording_path(int64_t episode) const;

  LiveOptions options_;
  PolicySource policy_;
  std::optional<HumanInput> human_;
  std::unique_ptr<Env> env_;
  std::vector<uint8_t> observation_;
  PolicyDecision decision_;
  std::optional<ShadowReplayRecorder> recorder_;
  bool recording_saved_ = false;
  int64_t steps_taken_ = 0;
  std::vector<std::string> recorded_files_;
};

// An agent or any other policy plays.
std::unique_ptr<LiveSession> make_policy_session(LiveOptions options, PolicySource policy);
// A person plays with the keyboard (see HumanInput).
std::unique_ptr<LiveSession> make_human_session(LiveOptions options);

// "left" for a discrete action with names, "action 3" without, "[0.50, -1.00]" for Box ones.
std::string describe_action(const EnvSpec& spec, const Action& action);

}  // namespace rl::render

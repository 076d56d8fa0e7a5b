// Replay files (".rlr"): one recorded episode, small enough to commit, that can be played back
// by re-simulating the env from its registry id, parameters, seed and the recorded actions.
// Periodic CRC-32 fingerprints of the observations make any divergence (changed dynamics,
// changed action, different build) visible at the step where it happens.
//
// Recording (e.g. an evaluation episode):
//   ReplayRecorder recorder({.env_params = params, .agent_info = "dqn", .checkpoint_info = ck});
//   env.reset(seed, obs);
//   recorder.begin(env, seed, obs);
//   while (...) { StepResult r = env.step(a, obs); recorder.record(a, r, obs); }
//   recorder.save("runs/x/replays/best.rlr");   // atomic: temp file + rename
//
// Playing back: `Replay replay = read_replay(path);` then a ReplaySimulator (step by step, as
// the viewer does) or `verify_replay(replay)` (whole episode, first divergence).
//
// On-disk layout, version 1 (all integers little-endian; str = u32 length + UTF-8 bytes):
//   header (24 bytes): magic "RLREPLAY" | u32 format version | u64 body size | u32 CRC-32 of body
//   body:  str env_id | u32 param count, then per param: str name, u8 type (0 bool, 1 int,
//          2 float, 3 string), value (u8 | i64 | f64 | str) | u64 seed | i64 max_episode_steps
//          | str agent_info | str checkpoint_info | str rlcade_version | u8 action kind
//          (0 discrete, 1 continuous) | i64 action size (n, or numel) | i64 checksum_interval
//          | i64 steps | actions (i32 per step, or f32 x numel per step) | f32 reward per step
//          | u8 episode end (0 running, 1 terminated, 2 truncated)
//          | u32 checksum count, then per checksum: i64 step, u32 CRC-32 of observation bytes
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"
#include "core/registry.h"

namespace rl {

inline constexpr uint32_t kReplayFormatVersion = 1;
inline constexpr char kReplayMagic[] = "RLREPLAY";  // First 8 bytes of every replay file.
inline constexpr char kReplayExtension[] = ".rlr";

// What is wrong with a replay that cannot be loaded. Every ReplayError message starts with
// the file name and states the kind in words:
//   kIo          "cannot open/read/write ..."
//   kTruncated   "truncated: ..."         (file shorter than its header or declared body)
//   kBadMagic    "not an rlcade replay ..." (wrong first 8 bytes)
//   kBadVersion  "unsupported format version N (this build reads version 1)"
//   kCorrupted   "corrupted: ..."          (body checksum mismatch or trailing bytes)
//   kMalformed   "malformed: ..."          (checksum fine but contents inconsistent)
//   kUnknownEnv  "unknown env ..."         (env id not registered in this build)
//   kBadParams   "env parameters: ..."     (parameters rejected by the env)
enum class ReplayErrorKind {
  kIo,
  kTruncated,
  kBadMagic,
  kBadVersion,
  kCorrupted,
  kMalformed,
  kUnknownEnv,
  kBadParams
};

const char* replay_error_kind_name(ReplayErrorKind kind);

class ReplayError : public std::runtime_error {
 public:
  ReplayError(ReplayErrorKind kind, const std::string& path, const std::string& detail);
  ReplayErrorKind kind() const { return kind_; }
  const std::string& path() const { return path_; }

 private:
  ReplayErrorKind kind_;
  std::string path_;
};

enum class EpisodeEnd : uint8_t { kRunning = 0, kTerminated = 1, kTruncated = 2 };

// CRC-32 of the observation bytes after `step` steps (step 0: the observation from reset).
struct ObservationChecksum {
  int64_t step = 0;
  uint32_t crc = 0;
  bool operator==(const ObservationChecksum&) const = default;
};

// One recorded episode, header and body.
struct Replay {
  std::string env_id;                            // Registry id, e.g. "classic/cartpole-v1".
  std::map<std::string, ParamValue> env_params;  // As passed to EnvRegistry::make.
  uint64_t seed = 0;                             // The episode began with env.reset(seed).
  int64_t max_episode_steps = 0;                 // Step limit in force while recording (0: none).
  std::string agent_info;         // Who acted, free text: "human", "dqn (step 20000)", ...
  std::string checkpoint_info;    // Checkpoint the agent came from, if any.
  std::string rlcade_version;     // Version of rlcade that recorded the file.
  bool continuous = false;        // Box action space (else Discrete).
  int64_t action_size = 0;        // Discrete: number of actions n. Box: values per action.
  int64_t checksum_interval = 1;  // Observations fingerprinted every K steps (and the last).

  std::vector<int32_t> discrete_actions;       // One per step (Discrete).
  std::vector<float> continuous_actions;       // action_size per step (Box).
  std::vector<float> rewards;                  // One per step.
  EpisodeEnd end = EpisodeEnd::kRunning;       // How the recording stopped.
  std::vector<ObservationChecksum> checksums;  // Ascending steps.

  int64_t steps() const { return static_cast<int64_t>(rewards.size()); }
  // The action taken at step `i` (0-based); its values view this replay's storage.
  Action action(int64_t i) const;
  double total_return() const;
  bool operator==(const Replay&) const = default;
};

// Serialises to / parses from the on-disk layout above. `decode_replay` checks the framing
// (magic, version, sizes, body CRC) and the body's internal consistency; `source` names the
// file in errors. It does not consult the env registry.
std::vector<uint8_t> encode_replay(const Replay& replay);
Replay decode_replay(std::span<const uint8_t> bytes, const std::string& source);

// Writes atomically (temp file in the same directory, then rename), creating parent
// directories. Throws ReplayError(kIo) on failure; an existing file is left untouched then.
void write_replay(const Replay& replay, const std::string& path);
// Reads and fully validates: framing and body (decode_replay), then that the env id is
// registered and its parameters are accepted. Throws ReplayError.
Replay read_replay(const std::string& path, const EnvRegistry& registry = EnvRegistry::global());

// Options for a ReplayRecorder; the env id, action space and step limit come from the env.
struct ReplayRecorderOptions {
  std::map<std::string, ParamValue> env_params;  // The parameters the env was built with.
  std::string agent_info;
  std::string checkpoint_info;
  int64_t checksum_interval = 1;  // >= 1.
};

// Accumulates one episode in memory. Reusable: begin() starts over.
class ReplayRecorder {
 public:
  explicit ReplayRecorder(ReplayRecorderOptions options);

  // Starts recording an episode. Call right after `env.reset(seed, first_obs)`: replays are
  // re-simulated from that seed, so episodes started by reset() without a seed (continuing
  // the RNG stream) cannot be recorded faithfully.
  void begin(const Env& env, uint64_t seed, std::span<const uint8_t> first_obs);
  // Records a step taken with `action` that produced `result` and observation `obs`.
  // Throws std::logic_error before begin() or after the episode ended.
  void record(const Action& action, const StepResult& result, std::span<const uint8_t> obs);

  bool started() const { return started_; }
  const Replay& replay() const { return replay_; }
  // write_replay(replay(), path).
  void save(const std::string& path) const;

 private:
  ReplayRecorderOptions options_;
  Replay replay_;
  bool started_ = false;
};

// Records an episode whose actions are played on another env instance, typically one wrapped
// for an agent (frame stacks, normalization, reward clipping change what the agent sees, not
// the game). It applies every action to its own bare env from the registry and records that,
// so the file re-simulates without the wrappers. Wrappers pass reset(seed) through to the env
// they wrap, so both play the same episode.
class ShadowReplayRecorder {
 public:
  // `max_episode_steps`: the step limit of the env actually played (0: the bare env's own).
  // Throws std::invalid_argument for an unknown env or bad parameters.
  ShadowReplayRecorder(const std::string& env_id, ReplayRecorderOptions options,
                       int64_t max_episode_steps = 0,
                       const EnvRegistry& registry = EnvRegistry::global());
  ~ShadowReplayRecorder();

  // Starts an episode with env.reset(seed) on the bare env.
  void begin(uint64_t seed);
  // Applies `action` to the bare env and records the step; returns the bare env's result.
  // Throws std::logic_error before begin() or once the bare env's episode is over.
  StepResult record(const Action& action);
  bool episode_over() const;
  const Replay& replay() const { return recorder_.replay(); }
  void save(const std::string& path) const { recorder_.save(path); }

 private:
  std::unique_ptr<Env> env_;
  std::vector<uint8_t> observation_;
  ReplayRecorder recorder_;
};

// Where re-simulation first disagreed with the recording.
struct Divergence {
  int64_t step = 0;  // Steps taken when it was found (0: right after reset).
  std::string what;  // E.g. "reward 1 differs from recorded 0".
};

// Re-simulates a replay step by step from the env registry, checking rewards, observation
// checksums and the episode end as it goes.
class ReplaySimulator {
 public:
  // Builds the env from `registry`; throws std::invalid_argument for an unknown env or
  // parameters, or when the env's action space no longer matches the recording. The replay
  // must outlive the simulator.
  explicit ReplaySimulator(const Replay& replay,
                           const EnvRegistry& registry = EnvRegistry::global());
  ~ReplaySimulator();

  // Resets the env with the recorded seed (also called by the constructor).
  void restart();
  // True once every recorded step was played, or re-simulation could not continue
  // (the env ended early or rejected an action).
  bool finished() const;
  // Plays the next recorded step (requires !finished()) and returns what the env produced.
  StepResult advance();

  int64_t step() const { return step_; }
  const Replay& replay() const { return replay_; }
  const Env& env() const { return *env_; }
  std::span<const uint8_t> observation() const { return observation_; }
  int64_t checksums_matched() const { return checksums_matched_; }
  // The first divergence found since restart(), if any.
  const std::optional<Divergence>& divergence() const { return divergence_; }

 private:
  void check_observation();
  void diverge(std::string what);

  const Replay& replay_;
  std::unique_ptr<Env> env_;
  std::vector<uint8_t> observation_;
  size_t next_checksum_ = 0;
  int64_t step_ = 0;
  int64_t checksums_matched_ = 0;
  bool stopped_ = false;
  std::optional<Divergence> divergence_;
};

struct ReplayVerification {
  int64_t steps_simulated = 0;
  int64_t checksums_matched = 0;
  std::optional<Divergence> divergence;
  bool ok() const { return !divergence.has_value(); }
  // One line: "ok: 120 steps, 121 observation checksums match" or
  // "diverged at step 17: reward ...".
  std::string summary() const;
};

// Re-simulates the whole episode and reports the first divergence (an env whose action space
// no longer matches the recording is reported as a divergence at step 0).
ReplayVerification verify_replay(const Replay& replay,
                                 const EnvRegistry& registry = EnvRegistry::global());
// read_replay(path) (throws ReplayError) then verify_replay.
ReplayVerification verify_replay(const std::string& path,
                                 const EnvRegistry& registry = EnvRegistry::global());

}  // namespace rl

#include "core/replay_file.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crc32.h"
#include "core/registry.h"

#ifndef RLCADE_VERSION
#define RLCADE_VERSION "unknown"
#endif

namespace rl {

static_assert(std::endian::native == std::endian::little,
              "replay files are little-endian; add byte swapping for this platform");

namespace {

constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderSize = kMagicSize + 4 + 8 + 4;
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;
constexpr uint32_t kMaxStringBytes = 1u << 20;

// ---- encoding ------------------------------------------------------------------------------

class ByteWriter {
 public:
  template <typename T>
  void put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  template <typename T>
  void put_array(const std::vector<T>& values) {
    const auto* p = reinterpret_cast<const uint8_t*>(values.data());
    bytes_.insert(bytes_.end(), p, p + values.size() * sizeof(T));
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

void put_param(ByteWriter& out, const ParamValue& value) {
  out.put(static_cast<uint8_t>(value.index()));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>)
          out.put(static_cast<uint8_t>(v));
        else if constexpr (std::is_same_v<T, std::string>)
          out.put_string(v);
        else
          out.put(v);
      },
      value);
}

std::vector<uint8_t> encode_body(const Replay& r) {
  ByteWriter out;
  out.put_string(r.env_id);
  out.put(static_cast<uint32_t>(r.env_params.size()));
  for (const auto& [name, value] : r.env_params) {
    out.put_string(name);
    put_param(out, value);
  }
  out.put(r.seed);
  out.put(r.max_episode_steps);
  out.put_string(r.agent_info);
  out.put_string(r.checkpoint_info);
  out.put_string(r.rlcade_version);
  out.put(static_cast<uint8_t>(r.continuous ? 1 : 0));
  out.put(r.action_size);
  out.put(r.checksum_interval);
  out.put(r.steps());
  if (r.continuous)
    out.put_array(r.continuous_actions);
  else
    out.put_array(r.discrete_actions);
  out.put_array(r.rewards);
  out.put(static_cast<uint8_t>(r.end));
  out.put(static_cast<uint32_t>(r.checksums.size()));
  for (const auto& c : r.checksums) {
    out.put(c.step);
    out.put(c.crc);
  }
  return std::move(out.bytes());
}

// ---- decoding ------------------------------------------------------------------------------

// Reads the body; every read is bounds-checked so a lying length cannot over-allocate.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, const std::string& source)
      : bytes_(bytes), source_(source) {}

  template <typename T>
  T get(const char* field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string get_string(const char* field) {
    const uint32_t size = get<uint32_t>(field);
    if (size > kMaxStringBytes)
      malformed(std::string(field) + " claims " + std::to_string(size) + " bytes");
    need(size, field);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), size);
    pos_ += size;
    return s;
  }
  template <typename T>
  std::vector<T> get_array(uint64_t count, const char* field) {
    if (count > remaining() / sizeof(T))
      malformed(std::string(field) + ": " + std::to_string(count) +
                " entries do not fit in the remaining " + std::to_string(remaining()) + " bytes");
    std::vector<T> values(count);
    // An empty vector's data() may be null, which memcpy must not get even for 0 bytes.
    if (count > 0) std::memcpy(values.data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return values;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

  [[noreturn]] void malformed(const std::string& what) const {
    throw ReplayError(ReplayErrorKind::kMalformed, source_,
                      what + " (at body offset " + std::to_string(pos_) + ")");
  }

 private:
  void need(size_t n, const char* field) const {
    if (n > remaining())
      malformed(std::string("body ends inside ") + field + " (needs " + std::to_string(n) +
                " bytes, " + std::to_string(remaining()) + " left)");
  }

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  size_t pos_ = 0;
};

ParamValue get_param(ByteReader& in, const std::string& name) {
  const uint8_t type = in.get<uint8_t>("parameter type");
  switch (type) {
    case 0:
      return in.get<uint8_t>("bool parameter") != 0;
    case 1:
      return in.get<int64_t>("int parameter");
    case 2:
      return in.get<double>("float parameter");
    case 3:
      return in.get_string("string parameter");
    default:
      in.malformed("parameter '" + name + "' has unknown type code " + std::to_string(type));
  }
}

void decode_header_fields(ByteReader& in, Replay& r) {
  r.env_id = in.get_string("env id");
  if (r.env_id.empty()) in.malformed("empty env id");
  const uint32_t param_count = in.get<uint32_t>("parameter count");
  for (uint32_t i = 0; i < param_count; ++i) {
    std::string name = in.get_string("parameter name");
    ParamValue value = get_param(in, name);
    if (!r.env_params.emplace(name, std::move(value)).second)
      in.malformed("parameter '" + name + "' appears twice");
  }
  r.seed = in.get<uint64_t>("seed");
  r.max_episode_steps = in.get<int64_t>("max episode steps");
  if (r.max_episode_steps < 0) in.malformed("negative max episode steps");
  r.agent_info = in.get_string("agent info");
  r.checkpoint_info = in.get_string("checkpoint info");
  r.rlcade_version = in.get_string("rlcade version");
  const uint8_t kind = in.get<uint8_t>("action kind");
  if (kind > 1) in.malformed("unknown action kind " + std::to_string(kind));
  r.continuous = kind == 1;
  r.action_size = in.get<int64_t>("action size");
  if (r.action_size < 1 || r.action_size > (int64_t{1} << 31))
    in.malformed("action size " + std::to_string(r.action_size) + " is out of range");
  r.checksum_interval = in.get<int64_t>("checksum interval");
  if (r.checksum_interval < 1)
    in.malformed("checksum interval " + std::to_string(r.checksum_interval) + " is below 1");
}

void decode_steps(ByteReader& in, Replay& r) {
  const int64_t steps = in.get<int64_t>("step count");
  if (steps < 0) in.malformed("negative step count");
  const auto n = static_cast<uint64_t>(steps);
  if (r.continuous) {
    if (n > in.remaining() / (4 * static_cast<uint64_t>(r.action_size)))
      in.malformed(std::to_string(n) + " continuous actions do not fit in the file");
    r.continuous_actions = in.get_array<float>(n * r.action_size, "actions");
    for (float v : r.continuous_actions)
      if (!std::isfinite(v)) in.malformed("a recorded action value is not finite");
  } else {
    r.discrete_actions = in.get_array<int32_t>(n, "actions");
    for (int32_t a : r.discrete_actions)
      if (a < 0 || a >= r.action_size)
        in.malformed("recorded action " + std::to_string(a) + " is outside Discrete(" +
                     std::to_string(r.action_size) + ")");
  }
  r.rewards = in.get_array<float>(n, "rewards");
  const uint8_t end = in.get<uint8_t>("episode end");
  if (end > 2) in.malformed("unknown episode end code " + std::to_string(end));
  r.end = static_cast<EpisodeEnd>(end);
}

void decode_checksums(ByteReader& in, Replay& r) {
  const uint32_t count = in.get<uint32_t>("checksum count");
  if (count > in.remaining() / 12) in.malformed(std::to_string(count) + " checksums do not fit");
  r.checksums.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ObservationChecksum c;
    c.step = in.get<int64_t>("checksum step");
    c.crc = in.get<uint32_t>("checksum");
    if (c.step < 0 || c.step > r.steps())
      in.malformed("checksum for step " + std::to_string(c.step) + " outside 0.." +
                   std::to_string(r.steps()));
    if (!r.checksums.empty() && c.step <= r.checksums.back().step)
      in.malformed("checksum steps are not ascending");
    r.checksums.push_back(c);
  }
}

uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::string hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string format_reward(float v) {
  std::ostringstream out;
  out.precision(9);
  out << v;
  return out.str();
}

const char* end_name(EpisodeEnd end) {
  switch (end) {
    case EpisodeEnd::kTerminated:
      return "terminated";
    case EpisodeEnd::kTruncated:
      return "truncated";
    default:
      return "still running";
  }
}

}  // namespace

// ---- errors ----------------------------------------------------------------------------------

const char* replay_error_kind_name(ReplayErrorKind kind) {
  switch (kind) {
    case ReplayErrorKind::kIo:
      return "io";
    case ReplayErrorKind::kTruncated:
      return "truncated";
    case ReplayErrorKind::kBadMagic:
      return "bad magic";
    case ReplayErrorKind::kBadVersion:
      return "bad version";
    case ReplayErrorKind::kCorrupted:
      return "corrupted";
    case ReplayErrorKind::kMalformed:
      return "malformed";
    case ReplayErrorKind::kUnknownEnv:
      return "unknown env";
    case ReplayErrorKind::kBadParams:
      return "bad params";
  }
  return "?";
}

ReplayError::ReplayError(ReplayErrorKind kind, const std::string& path, const std::string& detail)
    : std::runtime_error(path + ": " + detail), kind_(kind), path_(path) {}

// ---- Replay ----------------------------------------------------------------------------------

Action Replay::action(int64_t i) const {
  if (continuous) {
    return Action::continuous(
        std::span<const float>(continuous_actions)
            .subspan(static_cast<size_t>(i * action_size), static_cast<size_t>(action_size)));
  }
  return Action::discrete(discrete_actions[static_cast<size_t>(i)]);
}

double Replay::total_return() const {
  double sum = 0.0;
  for (float r : rewards) sum += r;
  return sum;
}

std::vector<uint8_t> encode_replay(const Replay& replay) {
  std::vector<uint8_t> body = encode_body(replay);
  ByteWriter out;
  for (size_t i = 0; i < kMagicSize; ++i) out.put(static_cast<uint8_t>(kReplayMagic[i]));
  out.put(kReplayFormatVersion);
  out.put(static_cast<uint64_t>(body.size()));
  out.put(crc32(body));
  out.put_array(body);
  return std::move(out.bytes());
}

Replay decode_replay(std::span<const uint8_t> bytes, const std::string& source) {
  if (!bytes.empty() &&
      std::memcmp(bytes.data(), kReplayMagic, std::min(bytes.size(), kMagicSize)) != 0)
    throw ReplayError(ReplayErrorKind::kBadMagic, source,
                      "not an rlcade replay (the file does not start with \"RLREPLAY\")");
  if (bytes.size() < kHeaderSize)
    throw ReplayError(ReplayErrorKind::kTruncated, source,
                      "truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                          std::to_string(kHeaderSize) + "-byte header");
  const uint32_t version = read_u32(bytes.data() + kMagicSize);
  if (version != kReplayFormatVersion)
    throw ReplayError(ReplayErrorKind::kBadVersion, source,
                      "unsupported format version " + std::to_string(version) +
                          " (this build reads version " + std::to_string(kReplayFormatVersion) +
                          ")");
  const uint64_t body_size = read_u64(bytes.data() + kMagicSize + 4);
  const uint32_t body_crc = read_u32(bytes.data() + kMagicSize + 12);
  const uint64_t actual = bytes.size() - kHeaderSize;
  if (actual < body_size)
    throw ReplayError(ReplayErrorKind::kTruncated, source,
                      "truncated: the header declares a " + std::to_string(body_size) +
                          "-byte body but only " + std::to_string(actual) + " bytes follow");
  if (actual > body_size)
    throw ReplayError(ReplayErrorKind::kCorrupted, source,
                      "corrupted: " + std::to_string(actual - body_size) +
                          " unexpected bytes after the declared body");
  const auto body = bytes.subspan(kHeaderSize);
  const uint32_t computed = crc32(body);
  if (computed != body_crc)
    throw ReplayError(
        ReplayErrorKind::kCorrupted, source,
        "corrupted: body checksum is " + hex32(computed) + ", header says " + hex32(body_crc));
  Replay replay;
  ByteReader in(body, source);
  decode_header_fields(in, replay);
  decode_steps(in, replay);
  decode_checksums(in, replay);
  if (in.remaining() != 0)
    in.malformed(std::to_string(in.remaining()) + " bytes left over after the last field");
  return replay;
}

void write_replay(const Replay& replay, const std::string& path) {
  namespace fs = std::filesystem;
  const std::vector<uint8_t> bytes = encode_replay(replay);
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec)
    throw ReplayError(
        ReplayErrorKind::kIo, path,
        "cannot create directory " + target.parent_path().string() + ": " + ec.message());
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      throw ReplayError(ReplayErrorKind::kIo, path, "cannot write temporary file " + temp);
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw ReplayError(ReplayErrorKind::kIo, path, "cannot rename temporary file: " + ec.message());
  }
}

Replay read_replay(const std::string& path, const EnvRegistry& registry) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw ReplayError(ReplayErrorKind::kIo, path, "cannot open the file");
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kMaxFileBytes)
    throw ReplayError(ReplayErrorKind::kIo, path,
                      "cannot read the file (size " + std::to_string(size) + " bytes)");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!in) throw ReplayError(ReplayErrorKind::kIo, path, "cannot read the file");
  Replay replay = decode_replay(bytes, path);
  if (!registry.contains(replay.env_id)) {
    throw ReplayError(ReplayErrorKind::kUnknownEnv, path,
                      "unknown env '" + replay.env_id + "' (recorded by rlcade " +
                          replay.rlcade_version + "); " + registry.suggestions(replay.env_id));
  }
  try {
    const EnvEntry& entry = registry.find(replay.env_id);
    Params::resolve(entry.params, replay.env_params, replay.env_id);
  } catch (const std::invalid_argument& e) {
    throw ReplayError(ReplayErrorKind::kBadParams, path,
                      std::string("env parameters: ") + e.what());
  }
  return replay;
}

// ---- recording -------------------------------------------------------------------------------

ReplayRecorder::ReplayRecorder(ReplayRecorderOptions options) : options_(std::move(options)) {
  if (options_.checksum_interval < 1)
    throw std::invalid_argument("ReplayRecorder: checksum_interval must be >= 1, got " +
                                std::to_string(options_.checksum_interval));
}

void ReplayRecorder::begin(const Env& env, uint64_t seed, std::span<const uint8_t> first_obs) {
  const EnvSpec& spec = env.spec();
  replay_ = Replay{};
  replay_.env_id = spec.id;
  replay_.env_params = options_.env_params;
  replay_.seed = seed;
  replay_.max_episode_steps = spec.max_episode_steps;
  replay_.agent_info = options_.agent_info;
  replay_.checkpoint_info = options_.checkpoint_info;
  replay_.rlcade_version = RLCADE_VERSION;
  replay_.continuous = !spec.action_space.is_discrete();
  replay_.action_size = replay_.continuous ? spec.action_space.numel() : spec.action_space.n;
  replay_.checksum_interval = options_.checksum_interval;
  replay_.checksums.push_back({0, crc32(first_obs)});
  started_ = true;
}

void ReplayRecorder::record(const Action& action, const StepResult& result,
                            std::span<const uint8_t> obs) {
  if (!started_) throw std::logic_error("ReplayRecorder::record called before begin()");
  if (replay_.end != EpisodeEnd::kRunning)
    throw std::logic_error("ReplayRecorder::record called after the episode ended");
  if (replay_.continuous) {
    if (static_cast<int64_t>(action.values.size()) != replay_.action_size)
      throw std::invalid_argument("ReplayRecorder: action has " +
                                  std::to_string(action.values.size()) + " values, expected " +
                                  std::to_string(replay_.action_size));
    replay_.continuous_actions.insert(replay_.continuous_actions.end(), action.values.begin(),
                                      action.values.end());
  } else {
    replay_.discrete_actions.push_back(static_cast<int32_t>(action.index));
  }
  replay_.rewards.push_back(result.reward);
  if (result.terminated)
    replay_.end = EpisodeEnd::kTerminated;
  else if (result.truncated)
    replay_.end = EpisodeEnd::kTruncated;
  const int64_t step = replay_.steps();
  if (step % replay_.checksum_interval == 0 || result.done())
    replay_.checksums.push_back({step, crc32(obs)});
}

void ReplayRecorder::save(const std::string& path) const {
  if (!started_) throw std::logic_error("ReplayRecorder::save called before begin()");
  write_replay(replay_, path);
}

ShadowReplayRecorder::ShadowReplayRecorder(const std::string& env_id, ReplayRecorderOptions options,
                                           int64_t max_episode_steps, const EnvRegistry& registry)
    : recorder_(options) {
  env_ = registry.make(env_id, options.env_params);
  if (max_episode_steps > 0) env_->set_max_episode_steps(max_episode_steps);
  observation_.resize(env_->spec().observation_space.bytes());
}

ShadowReplayRecorder::~ShadowReplayRecorder() = default;

void ShadowReplayRecorder::begin(uint64_t seed) {
  env_->reset(seed, observation_);
  recorder_.begin(*env_, seed, observation_);
}

StepResult ShadowReplayRecorder::record(const Action& action) {
  if (!recorder_.started())
    throw std::logic_error("ShadowReplayRecorder::record called before begin()");
  const StepResult result = env_->step(action, observation_);
  recorder_.record(action, result, observation_);
  return result;
}

bool ShadowReplayRecorder::episode_over() const { return env_->episode_over(); }

// ---- re-simulation ---------------------------------------------------------------------------

ReplaySimulator::ReplaySimulator(const Replay& replay, const EnvRegistry& registry)
    : replay_(replay) {
  env_ = registry.make(replay.env_id, replay.env_params);
  const Space& actions = env_->spec().action_space;
  const bool continuous = !actions.is_discrete();
  const int64_t size = continuous ? actions.numel() : actions.n;
  if (continuous != replay.continuous || size != replay.action_size)
    throw std::invalid_argument(
        replay.env_id + ": the recording's action space (" +
        (replay.continuous ? "Box of " : "Discrete(") + std::to_string(replay.action_size) +
        (replay.continuous ? ")" : ")") + " does not match the env's " + actions.describe());
  env_->set_max_episode_steps(replay.max_episode_steps);
  observation_.resize(env_->spec().observation_space.bytes());
  restart();
}

ReplaySimulator::~ReplaySimulator() = default;

void ReplaySimulator::restart() {
  step_ = 0;
  next_checksum_ = 0;
  checksums_matched_ = 0;
  stopped_ = false;
  divergence_.reset();
  env_->reset(replay_.seed, observation_);
  check_observation();
}

bool ReplaySimulator::finished() const { return stopped_ || step_ >= replay_.steps(); }

StepResult ReplaySimulator::advance() {
  if (finished()) throw std::logic_error("ReplaySimulator::advance called after the last step");
  StepResult result;
  try {
    result = env_->step(replay_.action(step_), observation_);
  } catch (const std::exception& e) {
    stopped_ = true;
    diverge(std::string("the env rejected the recorded action: ") + e.what());
    return result;
  }
  ++step_;
  const float recorded = replay_.rewards[static_cast<size_t>(step_ - 1)];
  if (std::bit_cast<uint32_t>(result.reward) != std::bit_cast<uint32_t>(recorded))
    diverge("reward " + format_reward(result.reward) + " differs from recorded " +
            format_reward(recorded));
  check_observation();
  const bool last = step_ == replay_.steps();
  if (result.done() && !last) {
    stopped_ = true;
    diverge(std::string("the episode ended (") + (result.terminated ? "terminated" : "truncated") +
            ") but the recording continues for " + std::to_string(replay_.steps() - step_) +
            " more steps");
  } else if (last && replay_.end != EpisodeEnd::kRunning) {
    const EpisodeEnd actual = result.terminated  ? EpisodeEnd::kTerminated
                              : result.truncated ? EpisodeEnd::kTruncated
                                                 : EpisodeEnd::kRunning;
    if (actual != replay_.end)
      diverge(std::string("the episode is ") + end_name(actual) + " after the last step, " +
              "recorded " + end_name(replay_.end));
  }
  return result;
}

void ReplaySimulator::check_observation() {
  if (next_checksum_ >= replay_.checksums.size()) return;
  const ObservationChecksum& expected = replay_.checksums[next_checksum_];
  if (expected.step != step_) return;
  ++next_checksum_;
  const uint32_t actual = crc32(observation_);
  if (actual == expected.crc) {
    ++checksums_matched_;
    return;
  }
  diverge("observation checksum " + hex32(actual) + " differs from recorded " +
          hex32(expected.crc));
}

void ReplaySimulator::diverge(std::string what) {
  if (!divergence_) divergence_ = Divergence{step_, std::move(what)};
}

std::string ReplayVerification::summary() const {
  if (divergence)
    return "diverged at step " + std::to_string(divergence->step) + ": " + divergence->what;
  return "ok: " + std::to_string(steps_simulated) + " steps, " + std::to_string(checksums_matched) +
         " observation checksums match";
}

ReplayVerification verify_replay(const Replay& replay, const EnvRegistry& registry) {
  ReplayVerification report;
  std::optional<ReplaySimulator> simulator;
  try {
    simulator.emplace(replay, registry);
  } catch (const std::invalid_argument& e) {
    report.divergence = Divergence{0, std::string("cannot re-simulate: ") + e.what()};
    return report;
  }
  ReplaySimulator& sim = *simulator;
  while (!sim.finished() && !sim.divergence()) sim.advance();
  report.steps_simulated = sim.step();
  report.checksums_matched = sim.checksums_matched();
  report.divergence = sim.divergence();
  return report;
}

ReplayVerification verify_replay(const std::string& path, const EnvRegistry& registry) {
  const Replay replay = read_replay(path, registry);
  return verify_replay(replay, registry);
}

}  // namespace rl

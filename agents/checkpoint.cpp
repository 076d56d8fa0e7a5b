#include "agents/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "agents/archive_integrity.h"
#include "agents/archive_util.h"
#include "agents/common/agent_util.h"
#include "core/atomic_file.h"
#include "core/crc32.h"
#include "core/replay_buffer.h"

namespace rl {

namespace {

constexpr char kFormatPrefix[] = "rlcade-checkpoint-";
constexpr char kTrailerMagic[8] = {'r', 'l', 'c', 'a', 'd', 'e', 'C', 'K'};
constexpr uint32_t kTrailerVersion = 1;
constexpr size_t kTrailerBytes = 24;

std::string format_name(int version) { return kFormatPrefix + std::to_string(version); }

std::string hex32(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t get_le(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in[offset + i])) << (8 * i);
  }
  return value;
}

uint32_t crc_of(std::string_view bytes) {
  return crc32({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

// Appends the trailer (see checkpoint.h) to an archive's bytes.
std::string seal(std::string archive) {
  const uint64_t size = archive.size();
  const uint32_t crc = crc_of(archive);
  put_le(archive, size, 8);
  put_le(archive, crc, 4);
  put_le(archive, kTrailerVersion, 4);
  archive.append(kTrailerMagic, sizeof kTrailerMagic);
  return archive;
}

[[noreturn]] void fail_corrupt(const std::string& path, const std::string& what) {
  throw CorruptCheckpointError(path + ": cannot read checkpoint: " + what);
}

// The archive inside a checkpoint file's bytes, its trailer checked. Files without a trailer
// (written before it existed, or truncated) are returned whole for the archive reader to judge.
std::string_view unseal(const std::string& path, std::string_view file, bool* has_trailer) {
  *has_trailer =
      file.size() >= kTrailerBytes && file.substr(file.size() - sizeof kTrailerMagic) ==
                                          std::string_view(kTrailerMagic, sizeof kTrailerMagic);
  if (!*has_trailer) return file;
  const size_t trailer = file.size() - kTrailerBytes;
  const uint64_t version = get_le(file, trailer + 12, 4);
  if (version > kTrailerVersion) {
    throw std::runtime_error(path + ": written by a newer rlcade: checksum trailer version " +
                             std::to_string(version) + ", this build reads version " +
                             std::to_string(kTrailerVersion));
  }
  const uint64_t size = get_le(file, trailer, 8);
  if (size != trailer) {
    fail_corrupt(path, "corrupt or cut short: its trailer records " + std::to_string(size) +
                           " archive bytes, the file holds " + std::to_string(trailer));
  }
  const std::string_view archive = file.substr(0, trailer);
  const uint32_t stored = static_cast<uint32_t>(get_le(file, trailer + 8, 4));
  const uint32_t computed = crc_of(archive);
  if (stored != computed) {
    fail_corrupt(path, "corrupt: checksum mismatch (CRC-32 " + hex32(computed) +
                           ", its trailer records " + hex32(stored) + ")");
  }
  return archive;
}

// The version in a "format" entry, or -1 when it is not an rlcade checkpoint format.
int format_version(const std::string& format) {
  const std::string prefix = kFormatPrefix;
  if (format.rfind(prefix, 0) != 0 || format.size() == prefix.size() ||
      format.size() > prefix.size() + 6) {
    return -1;
  }
  int version = 0;
  for (char c : format.substr(prefix.size())) {
    if (c < '0' || c > '9') return -1;
    version = version * 10 + (c - '0');
  }
  return version;
}

void check_format(const std::string& path, torch::serialize::InputArchive& archive) {
  std::string format;
  try {
    format = read_string(archive, "format");
  } catch (const std::runtime_error&) {
    fail_corrupt(path, "not an rlcade checkpoint (no format entry)");
  }
  const int version = format_version(format);
  if (version < 0) fail_corrupt(path, "not an rlcade checkpoint (format '" + format + "')");
  if (version > kCheckpointFormatVersion) {
    throw std::runtime_error(path + ": written by a newer rlcade: checkpoint format version " +
                             std::to_string(version) + ", this build reads versions up to " +
                             std::to_string(kCheckpointFormatVersion) +
                             "; load it with a newer rltrain");
  }
}

// LibTorch's reason why the archive cannot be read: its first non-empty line.
std::string first_line(const std::string& text) {
  const size_t begin = std::min(text.find_first_not_of('\n'), text.size());
  return text.substr(begin, text.find('\n', begin) - begin);
}

[[noreturn]] void fail_unreadable_archive(const std::string& path, bool has_trailer,
                                          const std::string& why) {
  fail_corrupt(path, has_trailer ? "not a LibTorch archive: " + first_line(why)
                                 : "corrupt or cut short (no checksum trailer, and not a "
                                   "readable LibTorch archive: " +
                                       first_line(why) + ")");
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw std::runtime_error(path + ": cannot read checkpoint: no such file");
  }
  std::string file;
  try {
    file = read_file(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": cannot read checkpoint: " + e.what());
  }
  bool has_trailer = false;
  const std::string_view bytes = unseal(path, file, &has_trailer);
  if (const std::string damage = zip_entry_damage(bytes); !damage.empty()) {
    fail_corrupt(path, "corrupt: " + damage);
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    fail_unreadable_archive(path, has_trailer, e.what_without_backtrace());
  } catch (const std::exception& e) {  // E.g. torch::jit::ErrorReport: damaged TorchScript code.
    fail_unreadable_archive(path, has_trailer, e.what());
  }
  check_format(path, archive);
  return archive;
}

void save_wrapper_stats(torch::serialize::OutputArchive& archive, const WrapperContext& context) {
  if (!context.observation_stats) return;
  std::vector<uint8_t> bytes = context.observation_stats->save();
  archive.write(
      "observation_stats",
      torch::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size())}, torch::kUInt8).clone());
}

void load_wrapper_stats(torch::serialize::InputArchive& archive, WrapperContext& context) {
  torch::Tensor bytes;
  const bool stored = archive.try_read("observation_stats", bytes);
  if (stored != static_cast<bool>(context.observation_stats)) {
    throw std::runtime_error(stored ? "it holds observation statistics the config does not use"
                                    : "it lacks the observation statistics the config needs");
  }
  if (!stored) return;
  bytes = bytes.contiguous();
  context.observation_stats->load(
      std::span<const uint8_t>(bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel())));
}

void save_agent_metrics(torch::serialize::OutputArchive& archive,
                        const std::map<std::string, double>& metrics) {
  std::string names;
  std::vector<double> values;
  for (const auto& [name, value] : metrics) {
    names += name + "\n";
    values.push_back(value);
  }
  write_string(archive, "agent_metric_names", names);
  archive.write("agent_metric_values",
                torch::tensor(torch::ArrayRef<double>(values), torch::kFloat64));
}

std::map<std::string, double> load_agent_metrics(torch::serialize::InputArchive& archive) {
  std::vector<std::string> names;
  const std::string joined = read_string(archive, "agent_metric_names");
  for (size_t start = 0, end; (end = joined.find('\n', start)) != std::string::npos;
       start = end + 1) {
    names.push_back(joined.substr(start, end - start));
  }
  torch::Tensor values;
  archive.read("agent_metric_values", values);
  if (values.dim() != 1 || values.numel() != static_cast<int64_t>(names.size()) ||
      values.scalar_type() != torch::kFloat64) {
    throw std::runtime_error("entry 'agent_metric_values' does not match its names");
  }
  std::map<std::string, double> metrics;
  for (size_t i = 0; i < names.size(); ++i) metrics[names[i]] = values[i].item<double>();
  return metrics;
}

void load_resume_state(torch::serialize::InputArchive& archive, Experiment& experiment,
                       ResumeState& resume) {
  resume = ResumeState();
  c10::IValue present;
  if (archive.try_read("env_base_seed", present)) {
    resume.has_env_log = true;
    resume.env_action_log = read_bytes(archive, "env_action_log");
    resume.env_base_seed = static_cast<uint64_t>(read_int(archive, "env_base_seed"));
    resume.env_logged_steps = read_int(archive, "env_logged_steps");
    torch::Tensor stats;
    if (archive.try_read("env_start_observation_stats", stats)) {
      resume.env_start_observation_stats = read_bytes(archive, "env_start_observation_stats");
    }
  }
  if (archive.try_read("agent_metric_names", present)) {
    resume.agent_metrics = load_agent_metrics(archive);
  }
  ReplayBuffer* replay = experiment.agent->replay_buffer();
  torch::Tensor stored;
  if (replay && archive.try_read("replay", stored)) {
    try {
      replay->load(read_bytes(archive, "replay"));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("entry 'replay': ") + e.what());
    }
    resume.replay = true;
  }
}

}  // namespace

std::string checkpoint_bytes(const Experiment& experiment, const TrainerState& state,
                             const ResumeState* resume) {
  torch::serialize::OutputArchive archive;
  write_string(archive, "format", format_name(kCheckpointFormatVersion));
  write_string(archive, "config", experiment.resolved_yaml);
  write_string(archive, "agent_type", experiment.agent->type());
  torch::serialize::OutputArchive agent;
  experiment.agent->save(agent);
  archive.write("agent", agent);
  save_wrapper_stats(archive, experiment.wrapper_context);
  write_int(archive, "env_steps", state.env_steps);
  write_int(archive, "episodes", state.episodes);
  write_double(archive, "wall_seconds", state.wall_seconds);
  write_double(archive, "best_eval_mean", state.best_eval_mean);
  write_double(archive, "last_eval_mean", state.last_eval_mean);
  write_double(archive, "last_eval_std", state.last_eval_std);
  write_int(archive, "last_eval_step", state.last_eval_step);
  write_int(archive, "solved_at_step", state.solved_at_step);
  write_double(archive, "solved_at_seconds", state.solved_at_seconds);
  write_double(archive, "last_eval_success", state.last_eval_success);
  write_double(archive, "best_eval_success", state.best_eval_success);
  write_int(archive, "world_size", state.world_size);
  if (resume) {
    if (resume->has_env_log) {
      write_bytes(archive, "env_action_log", resume->env_action_log);
      write_int(archive, "env_base_seed", static_cast<int64_t>(resume->env_base_seed));
      write_int(archive, "env_logged_steps", resume->env_logged_steps);
      if (!resume->env_start_observation_stats.empty()) {
        write_bytes(archive, "env_start_observation_stats", resume->env_start_observation_stats);
      }
    }
    save_agent_metrics(archive, resume->agent_metrics);
    if (resume->replay && experiment.agent->replay_buffer()) {
      write_bytes(archive, "replay", experiment.agent->replay_buffer()->save());
    }
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  return seal(std::move(bytes).str());
}

void write_checkpoint_file(const std::string& path, const std::string& bytes) {
  try {
    write_file_atomic(path, bytes);
  } catch (const FileWriteError& e) {
    throw FileWriteError(std::string("cannot save checkpoint: ") + e.what());
  }
}

void save_checkpoint(const std::string& path, const Experiment& experiment,
                     const TrainerState& state) {
  write_checkpoint_file(path, checkpoint_bytes(experiment, state));
}

void verify_checkpoint(const std::string& path) { open_archive(path); }

std::string read_checkpoint_config(const std::string& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  try {
    return read_string(archive, "config");
  } catch (const std::runtime_error& e) {
    fail_corrupt(path, e.what());
  }
}

TrainerState load_checkpoint(const std::string& path, Experiment& experiment, ResumeState* resume) {
  torch::serialize::InputArchive archive = open_archive(path);
  try {
    const std::string type = read_string(archive, "agent_type");
    if (type != experiment.agent->type()) {
      throw std::runtime_error("it holds a '" + type + "' agent, the config a '" +
                               experiment.agent->type() + "' one");
    }
    torch::serialize::InputArchive agent;
    archive.read("agent", agent);
    experiment.agent->load(agent);
    load_wrapper_stats(archive, experiment.wrapper_context);
    TrainerState state;
    state.env_steps = read_int(archive, "env_steps");
    state.episodes = read_int(archive, "episodes");
    state.wall_seconds = read_double(archive, "wall_seconds");
    state.best_eval_mean = read_double(archive, "best_eval_mean");
    state.last_eval_mean = read_double(archive, "last_eval_mean");
    state.last_eval_std = read_double(archive, "last_eval_std");
    state.last_eval_step = read_int(archive, "last_eval_step");
    state.solved_at_step = read_int(archive, "solved_at_step");
    state.solved_at_seconds = read_double(archive, "solved_at_seconds");
    // Checkpoints written before success rates existed lack these entries.
    c10::IValue success;
    if (archive.try_read("last_eval_success", success)) {
      state.last_eval_success = read_double(archive, "last_eval_success");
      state.best_eval_success = read_double(archive, "best_eval_success");
    }
    c10::IValue world_size;
    if (archive.try_read("world_size", world_size)) {
      state.world_size = read_int(archive, "world_size");
    }
    if (resume) load_resume_state(archive, experiment, *resume);
    return state;
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": cannot load checkpoint: " + e.what_without_backtrace());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": cannot load checkpoint: " + e.what());
  }
}

Experiment load_experiment_from_checkpoint(const std::string& path, TrainerState* state) {
  ConfigDocument document =
      ConfigDocument::parse(read_checkpoint_config(path), path + " (stored config)");
  Experiment experiment = build_experiment(std::move(document));
  const TrainerState loaded = load_checkpoint(path, experiment);
  if (state) *state = loaded;
  return experiment;
}

}  // namespace rl

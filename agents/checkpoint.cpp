#include "agents/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <sstream>
#include <stdexcept>

#include "agents/archive_util.h"
#include "core/atomic_file.h"

namespace rl {

namespace {

constexpr char kFormat[] = "rlcade-checkpoint-1";

torch::serialize::InputArchive open_archive(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": cannot read checkpoint (missing file or not a LibTorch " +
                             "archive): " + e.what_without_backtrace());
  }
  std::string format;
  try {
    format = read_string(archive, "format");
  } catch (const std::runtime_error&) {
    throw std::runtime_error(path + ": not an rlcade checkpoint (no format entry)");
  }
  if (format != kFormat) {
    throw std::runtime_error(path + ": unsupported checkpoint format '" + format +
                             "' (this build reads " + kFormat + ")");
  }
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

}  // namespace

void save_checkpoint(const std::string& path, const Experiment& experiment,
                     const TrainerState& state) {
  torch::serialize::OutputArchive archive;
  write_string(archive, "format", kFormat);
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
  std::ostringstream bytes;
  archive.save_to(bytes);
  try {
    write_file_atomic(path, bytes.str());
  } catch (const FileWriteError& e) {
    throw std::runtime_error(std::string("cannot save checkpoint: ") + e.what());
  }
}

std::string read_checkpoint_config(const std::string& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  return read_string(archive, "config");
}

TrainerState load_checkpoint(const std::string& path, Experiment& experiment) {
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

#include "agents/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>
#include <typeinfo>

#include "agents/checkpoint_history.h"
#include "agents/distributed/collectives.h"
#include "agents/distributed/data_parallel.h"
#include "agents/distributed/merged_stats.h"
#include "agents/distributed/phase_times.h"
#include "agents/distributed/rank_replay.h"
#include "agents/torch_setup.h"
#include "core/atomic_file.h"
#include "core/env_error.h"
#include "core/json.h"
#include "core/metrics.h"
#include "core/replay_buffer.h"
#include "core/replay_file.h"
#include "core/tensorboard.h"
#include "core/vector_env.h"

namespace rl {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The next multiple of `period` strictly after `step` (never, when period is 0).
int64_t next_multiple(int64_t step, int64_t period) {
  return period > 0 ? (step / period + 1) * period : INT64_MAX;
}

std::string step_tag(int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%09lld", static_cast<long long>(step));
  return buffer;
}

std::string format_seconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  return buffer;
}

json::Value number_or_null(double x) { return std::isfinite(x) ? json::Value(x) : json::Value(); }

// RLCADE_INJECT_KILL_AT_STEP=N (for tests): the process kills itself with SIGKILL once N env
// steps were taken, as `kill -9` would, so that resuming from the last checkpoint can be
// tested deterministically. -1 when unset.
int64_t injected_kill_step() {
  const char* value = std::getenv("RLCADE_INJECT_KILL_AT_STEP");
  if (!value || !*value) return -1;
  char* end = nullptr;
  const long long step = std::strtoll(value, &end, 10);
  return *end == '\0' && step > 0 ? step : -1;
}

// Drops the rows of metrics.csv written after `step` (by a run killed after its last
// checkpoint, which a resumed run continues from) and a last line cut short.
void drop_metrics_after(const fs::path& path, int64_t step) {
  if (!fs::exists(path)) return;
  const std::string text = read_file(path.string());
  std::string kept;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string line = text.substr(start, end - start + 1);
    // The header, then rows whose first column is the step.
    if (start == 0 || std::strtod(line.c_str(), nullptr) <= static_cast<double>(step)) {
      kept += line;
    }
  }
  if (kept.size() != text.size()) write_file_atomic(path.string(), kept);
}

std::string megabytes(size_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buffer;
}

// Actions for a batch of envs, in the layout the action space needs.
struct ActionStorage {
  std::vector<int64_t> discrete;
  std::vector<float> continuous;
  std::vector<uint8_t> masks;  // Legal-action masks, when some env restricts its actions.
  bool masked = false;

  ActionStorage(const Space& space, int batch) {
    if (space.is_discrete()) {
      discrete.assign(batch, 0);
    } else {
      continuous.assign(static_cast<size_t>(batch * space.numel()), 0.f);
    }
  }
  ActionBatch view() {
    return {discrete, continuous,
            masked ? std::span<const uint8_t>(masks) : std::span<const uint8_t>()};
  }
  // Reads the legal-action masks of every env's current observation (all legal for envs
  // without restrictions).
  void read_masks(const VectorEnv& env) {
    masked = false;
    if (discrete.empty()) return;
    const size_t n = static_cast<size_t>(env.spec().action_space.n);
    masks.resize(discrete.size() * n);
    for (int i = 0; i < env.size(); ++i) {
      const std::span<uint8_t> row(masks.data() + i * n, n);
      if (env.env(i).legal_actions(row)) {
        masked = true;
      } else {
        std::fill(row.begin(), row.end(), uint8_t{1});
      }
    }
  }
  void step(VectorEnv& env) const {
    if (!discrete.empty()) {
      env.step(std::span<const int64_t>(discrete));
    } else {
      env.step(std::span<const float>(continuous));
    }
  }
};

// Records the first episode of env 0 of a vector env.
class FirstEpisodeRecorder {
 public:
  FirstEpisodeRecorder(const Experiment& experiment, VectorEnv& env, uint64_t seed)
      : recorder_({.env_params = experiment.run().env.params,
                   .agent_info = experiment.agent->type(),
                   .checkpoint_info = "evaluation",
                   .checksum_interval = 1}) {
    recorder_.begin(env.env(0), seed, env.observations().subspan(0, env.observation_bytes()));
  }

  void record(const VectorEnv& env, const ActionStorage& actions) {
    if (finished_) return;
    const Space& action_space = env.spec().action_space;
    const Action action =
        action_space.is_discrete()
            ? Action::discrete(actions.discrete[0])
            : Action::continuous(std::span<const float>(actions.continuous)
                                     .subspan(0, static_cast<size_t>(action_space.numel())));
    StepResult result;
    result.reward = env.rewards()[0];
    result.terminated = env.terminated()[0];
    result.truncated = env.truncated()[0];
    recorder_.record(action, result, env.next_observation(0));
    finished_ = result.done();
  }

  void save(const std::string& path) const { recorder_.save(path); }

 private:
  ReplayRecorder recorder_;
  bool finished_ = false;
};

// Everything the loop tracks besides the checkpointed TrainerState.
struct LoopState {
  Clock::time_point session_start = Clock::now();
  double wall_offset = 0.0;  // Wall seconds of earlier sessions.
  int64_t session_start_steps = 0;
  RecentMean recent_returns{20};
  RecentMean recent_lengths{20};
  std::map<std::string, double> last_agent_metrics;
  // Multi-process training: the recent-episode means over every rank, from the last
  // synchronization (NaN before any episode ended).
  double pooled_return_mean = NAN, pooled_length_mean = NAN;

  double wall_seconds() const { return wall_offset + seconds_since(session_start); }
  double session_rate(int64_t env_steps) const {
    const double elapsed = seconds_since(session_start);
    return elapsed > 0 ? static_cast<double>(env_steps - session_start_steps) / elapsed : 0.0;
  }
};

// The header line of an existing CSV file, split at commas (empty when there is none).
std::vector<std::string> csv_header(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  if (!in || !std::getline(in, line)) return names;
  std::stringstream cells(line);
  for (std::string name; std::getline(cells, name, ',');) names.push_back(name);
  return names;
}

std::vector<std::string> csv_columns(const Agent& agent, bool success_column) {
  std::vector<std::string> columns = {"step",      "wall_seconds", "steps_per_second",
                                      "episodes",  "return_mean",  "length_mean",
                                      "eval_mean", "eval_std"};
  if (success_column) columns.push_back("eval_success");
  for (const std::string& name : agent.metric_names()) columns.push_back(name);
  return columns;
}

class Trainer {
 public:
  Trainer(Experiment& experiment, const TrainOptions& options)
      : e_(experiment), run_(experiment.run()), options_(options) {}

  TrainSummary run();
  // Rethrows `error`, raised while training (a failed checkpoint or metrics write, ...), saying
  // where training stopped and which checkpoint --resume would continue from.
  [[noreturn]] void rethrow_stopped(const std::runtime_error& error) const;
  // The env went away (a remote server died) but the agent is intact: writes latest.pt.
  void save_after_env_failure();

 private:
  void log(const std::string& text) {
    if (progress_) progress_->message(text);
  }
  void start_or_resume();
  void open_run_files();
  void resume();
  void start_envs(VectorEnv& env);
  bool save_replay();
  // Ranks other than 0 of a multi-process run: their own replay buffer, beside rank 0's
  // checkpoint at the same step (agents/distributed/rank_replay.h).
  void save_own_replay();
  void training_step(VectorEnv& env, ActionStorage& actions, VectorTransitions& transitions);
  void maybe_log_row();
  void run_evaluation();
  void save(const std::string& name);
  void save_latest();
  void snapshot();
  ProgressState progress_state() const;
  TrainSummary summarize(bool interrupted) const;
  // Multi-process training (options_.collectives).
  bool writes_run_folder() const { return !group_ || group_->rank() == 0; }
  int world_size() const { return group_ ? group_->world_size() : 1; }
  void warn_world_size_changed();
  // With RLCADE_PHASE_TIMES: this process's time by phase, on stderr (phase_times.h).
  void print_phase_times();
  bool synchronization_due();
  enum class GroupDecision { kContinue, kStop, kSolved };
  // Every rank: pools the stop requests and episode statistics of the ranks.
  GroupDecision synchronize();
  std::optional<double> recent_return_mean() const;
  std::optional<double> recent_length_mean() const;

  Experiment& e_;
  const RunConfig& run_;
  TrainOptions options_;
  TrainerState state_;
  LoopState loop_;
  std::optional<ProgressPrinter> progress_;
  std::optional<CsvWriter> csv_;
  int64_t next_log_ = 0, next_eval_ = 0, next_checkpoint_ = 0;
  bool started_ = false;                 // The run folder is set up; training is under way.
  int64_t latest_checkpoint_step_ = -1;  // Step of the newest latest.pt (-1: none yet).
  Clock::time_point last_snapshot_;
  // Exact resume: what latest.pt restored (and, while training, the env log's origin).
  ResumeState resume_;
  const VectorEnv* env_ = nullptr;   // The training envs, while run() is under way.
  std::optional<bool> save_replay_;  // Decided (and said) at the first save.
  int64_t kill_at_step_ = injected_kill_step();
  distributed::Collectives* group_ = options_.collectives;
  int64_t iterations_ = 0;         // Loop steps of this session (the same on every rank).
  int64_t unsynced_episodes_ = 0;  // Episodes this rank ended since the last synchronization.
  bool solved_pending_ = false;    // Rank 0 reached the threshold; stop at the next agreement.
  // Straggler cut-off: rollouts differ in length between the ranks, so the env steps are
  // summed (and the ranks synchronize) after each update, the one point all ranks share.
  bool cut_rollouts_ = false;
  int64_t unsynced_steps_ = 0;  // This rank's env steps since the last synchronization.
  bool updated_ = false;        // The last training step ended with an update.
  std::chrono::microseconds step_delay_{0};  // Tests: distributed::injected_step_delay.
  distributed::PhaseTimes phases_{distributed::PhaseTimes::requested()};
  // Multi-process runs with observation normalization: merges the ranks' statistics.
  std::optional<distributed::MergedStats> observation_stats_merge_;
};

// The loop steps at which the ranks agree (stop requests, episode statistics): every
// kSynchronizeEvery steps and before each metrics row, evaluation and checkpoint. Every rank
// counts the same steps, so all of them take part in the same collectives.
constexpr int64_t kSynchronizeEvery = 32;

void Trainer::start_or_resume() {
  const fs::path dir(options_.run_dir);
  if (writes_run_folder()) fs::create_directories(dir / "checkpoints");
  if (options_.resume) resume();
  state_.world_size = world_size();  // What the checkpoints of this session record.
  if (writes_run_folder()) open_run_files();
  next_log_ = next_multiple(state_.env_steps, run_.train.log_every);
  next_eval_ = next_multiple(state_.env_steps, run_.train.eval_every);
  next_checkpoint_ = next_multiple(state_.env_steps, run_.train.checkpoint_every);
  started_ = true;
}

// config.yaml, metrics.csv and the TensorBoard events (rank 0 of a multi-process run only).
void Trainer::open_run_files() {
  const fs::path dir(options_.run_dir);
  write_file_atomic(
      (dir / "config.yaml").string(),
      "# Resolved config of run '" + run_.name + "' (written by rltrain).\n" + e_.resolved_yaml);
  // eval_success is a column for envs that report success, unless a resumed run's file was
  // started without it.
  const fs::path metrics = dir / "metrics.csv";
  if (options_.resume) drop_metrics_after(metrics, state_.env_steps);
  bool success_column = e_.env_spec.reports_success;
  if (options_.resume && fs::exists(metrics)) {
    const auto header = csv_header(metrics);
    success_column =
        success_column && std::find(header.begin(), header.end(), "eval_success") != header.end();
  }
  csv_.emplace(metrics.string(), csv_columns(*e_.agent, success_column), options_.resume);
  if (run_.train.tensorboard) {  // Fed the same rows as metrics.csv (core/tensorboard.h).
    tensorboard::RunEventOptions events;
    events.run_dir = dir.string();
    events.config_yaml = e_.resolved_yaml;
    events.columns = csv_->columns();
    events.resumed_at_step = state_.env_steps;
    if (run_.train.record_eval && run_.env.wrappers.empty()) {
      events.evaluation_replay = [dir](int64_t step) {
        return (dir / "replays" / ("eval_" + step_tag(step) + kReplayExtension)).string();
      };
    }
    events.stop_requested = options_.stop_requested;
    csv_->add_sink(std::make_unique<tensorboard::RunEventWriter>(std::move(events)));
  }
}

// Loads latest.pt, or the newest valid checkpoint when it is corrupt (saying so).
void Trainer::resume() {
  const fs::path dir(options_.run_dir);
  const CheckpointChoice choice =
      choose_valid_checkpoint((dir / "checkpoints" / kLatestCheckpoint).string());
  for (const std::string& line : choice.report()) log(line);
  if (writes_run_folder()) {
    for (const std::string& moved : set_aside_rejected(choice)) log("set aside as " + moved);
  }
  state_ = load_checkpoint(choice.path, e_, &resume_);
  // The env log rebuilds rank 0's envs only: every rank of a multi-process run starts new
  // episodes.
  if (group_) resume_.has_env_log = false;
  if (e_.agent->replay_buffer()) {
    log(resume_.replay ? "replay buffer restored: " +
                             std::to_string(e_.agent->replay_buffer()->size()) + " transitions"
                       : "the checkpoint holds no replay buffer: it starts empty, so this run "
                         "will not continue exactly as an uninterrupted one");
  }
  if (!resume_.agent_metrics.empty()) loop_.last_agent_metrics = resume_.agent_metrics;
  loop_.wall_offset = state_.wall_seconds;
  loop_.session_start_steps = state_.env_steps;
  latest_checkpoint_step_ = state_.env_steps;
  if (group_ && !writes_run_folder() && e_.agent->replay_buffer()) {
    // latest.pt holds rank 0's transitions: this rank takes back its own when it saved them.
    distributed::load_rank_replay(options_.run_dir, group_->rank(), state_.env_steps,
                                  *e_.agent->replay_buffer());
  }
  log("resuming " + options_.run_dir + " at step " + std::to_string(state_.env_steps));
  if (state_.world_size != world_size()) warn_world_size_changed();
}

// Resuming with another number of processes: what was restored and what was not.
void Trainer::warn_world_size_changed() {
  const auto processes = [](int64_t n) {
    return std::to_string(n) + (n == 1 ? " process" : " processes");
  };
  log("warning: the checkpoint was written by a run of " + processes(state_.world_size) +
      ", this run has " + processes(world_size()) +
      ": the weights, optimizer state, normalization statistics and counters are restored; "
      "the data per update and the env seeds follow the new number of processes");
}

// Resets the training envs; when resuming with the checkpoint's env log, replays it to rebuild
// every env mid-episode as the interrupted run left it (VectorEnv::replay), along with the
// recent episode statistics, then puts back the checkpoint's observation statistics.
void Trainer::start_envs(VectorEnv& env) {
  const bool remote = env.spec().id == "remote";
  const auto& stats = e_.wrapper_context.observation_stats;
  const std::vector<uint8_t> loaded_stats = stats ? stats->save() : std::vector<uint8_t>();
  if (resume_.has_env_log && stats && !resume_.env_start_observation_stats.empty()) {
    stats->load(resume_.env_start_observation_stats);
  }
  if (!resume_.has_env_log && stats) resume_.env_start_observation_stats = loaded_stats;
  env.reset();
  env.set_action_log(!remote);
  if (options_.resume && !resume_.has_env_log) {
    log(remote   ? "remote envs cannot be rebuilt mid-episode: they start new episodes"
        : group_ ? "a multi-process run does not rebuild its envs: every rank starts new episodes"
                 : "the checkpoint holds no env state: the envs start new episodes");
  }
  if (!options_.resume || !resume_.has_env_log) {
    resume_.has_env_log = !remote;
    resume_.env_base_seed = run_.seed + static_cast<uint64_t>(state_.env_steps);
    return;
  }
  const Clock::time_point start = Clock::now();
  try {
    env.replay(resume_.env_action_log, resume_.env_logged_steps, [&] {
      for (const auto& episode : env.finished_episodes()) {
        loop_.recent_returns.add(episode.episode_return);
        loop_.recent_lengths.add(static_cast<double>(episode.length));
      }
    });
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("cannot rebuild the envs from the checkpoint (was the "
                                         "env or num_envs changed?): ") +
                             e.what());
  }
  resume_.env_action_log = {};
  if (stats) stats->load(loaded_stats);
  log("rebuilt the " + std::to_string(env.size()) + " envs mid-episode by replaying " +
      std::to_string(resume_.env_logged_steps) + " vector steps in " +
      format_seconds(seconds_since(start)));
}

void Trainer::training_step(VectorEnv& env, ActionStorage& actions,
                            VectorTransitions& transitions) {
  phases_.enter(distributed::PhaseTimes::kRollout);
  e_.agent->act(transitions.begin_step(env), env.size(), ActMode::kExplore, actions.view());
  actions.step(env);
  actions.read_masks(env);  // For the next act; with masks the agent also gets the next ones.
  e_.agent->observe(
      transitions.end_step(env, actions.discrete, actions.continuous, actions.masked));
  if (step_delay_.count() > 0) std::this_thread::sleep_for(step_delay_);
  if (cut_rollouts_) {
    unsynced_steps_ += env.size();
  } else {
    state_.env_steps += static_cast<int64_t>(env.size()) * world_size();
  }
  if (kill_at_step_ > 0 && state_.env_steps >= kill_at_step_) std::raise(SIGKILL);
  for (const auto& episode : env.finished_episodes()) {
    loop_.recent_returns.add(episode.episode_return);
    loop_.recent_lengths.add(static_cast<double>(episode.length));
    ++(group_ ? unsynced_episodes_ : state_.episodes);
  }
  phases_.enter(distributed::PhaseTimes::kUpdate);
  auto metrics = e_.agent->update(state_.env_steps);
  phases_.enter(distributed::PhaseTimes::kBookkeeping);
  updated_ = !metrics.empty();
  if (updated_) loop_.last_agent_metrics = std::move(metrics);
}

void Trainer::maybe_log_row() {
  if (state_.env_steps < next_log_) return;
  next_log_ = next_multiple(state_.env_steps, run_.train.log_every);
  if (!writes_run_folder()) return;
  std::map<std::string, double> row = loop_.last_agent_metrics;
  row["step"] = static_cast<double>(state_.env_steps);
  row["wall_seconds"] = loop_.wall_seconds();
  row["steps_per_second"] = loop_.session_rate(state_.env_steps);
  row["episodes"] = static_cast<double>(state_.episodes);
  if (const auto returns = recent_return_mean()) {
    row["return_mean"] = *returns;
    row["length_mean"] = *recent_length_mean();
  }
  csv_->write(row);
}

void Trainer::run_evaluation() {
  std::string record_path;
  const fs::path replays = fs::path(options_.run_dir) / "replays";
  if (run_.train.record_eval && run_.env.wrappers.empty()) {
    record_path = (replays / ("eval_" + step_tag(state_.env_steps) + kReplayExtension)).string();
  }
  const EvalResult result =
      evaluate(e_, run_.train.eval_episodes, run_.seed + kEvaluationSeedOffset,
               run_.train.eval_max_steps, record_path);
  state_.last_eval_mean = result.mean;
  state_.last_eval_std = result.std;
  state_.last_eval_step = state_.env_steps;
  state_.last_eval_success = result.success_rate;
  const bool has_success = std::isfinite(result.success_rate);
  if (has_success && !(result.success_rate <= state_.best_eval_success)) {
    state_.best_eval_success = result.success_rate;
  }
  std::map<std::string, double> row = {{"step", static_cast<double>(state_.env_steps)},
                                       {"wall_seconds", loop_.wall_seconds()},
                                       {"episodes", static_cast<double>(state_.episodes)},
                                       {"eval_mean", result.mean},
                                       {"eval_std", result.std}};
  const auto& columns = csv_->columns();
  if (has_success && std::find(columns.begin(), columns.end(), "eval_success") != columns.end()) {
    row["eval_success"] = result.success_rate;
  }
  csv_->write(row);
  const auto& threshold = e_.env_spec.reward_threshold;
  if (threshold && result.mean >= *threshold && state_.solved_at_step < 0) {
    state_.solved_at_step = state_.env_steps;
    state_.solved_at_seconds = loop_.wall_seconds();
  }
  char line[200];
  std::snprintf(line, sizeof line, "eval @ %s steps: return %.1f +- %.1f over %lld episodes",
                format_count(static_cast<double>(state_.env_steps)).c_str(), result.mean,
                result.std, static_cast<long long>(result.returns.size()));
  if (has_success) {
    const size_t used = std::strlen(line);
    std::snprintf(line + used, sizeof line - used, ", success %.2f", result.success_rate);
  }
  const bool best = !(result.mean <= state_.best_eval_mean);  // NaN (no best yet) counts.
  log(std::string(line) + (best ? "  (best)" : ""));
  if (best) {
    state_.best_eval_mean = result.mean;
    save("best.pt");
    if (!record_path.empty()) {
      fs::copy_file(record_path, replays / (std::string("best") + kReplayExtension),
                    fs::copy_options::overwrite_existing);
    }
  }
  snapshot();
}

void Trainer::snapshot() {
  if (!options_.on_snapshot) return;
  options_.on_snapshot(e_, state_.env_steps);
  last_snapshot_ = Clock::now();
}

void Trainer::save(const std::string& name) {
  state_.wall_seconds = loop_.wall_seconds();
  save_checkpoint((fs::path(options_.run_dir) / "checkpoints" / name).string(), e_, state_);
}

// Whether checkpoints hold the replay buffer (train.save_replay, under the size limit); says
// so, with the size, the first time.
bool Trainer::save_replay() {
  const ReplayBuffer* replay = e_.agent->replay_buffer();
  if (!replay) return false;
  if (save_replay_) return *save_replay_;
  const size_t bytes = replay->memory_bytes();
  save_replay_ = run_.train.save_replay && bytes < kSaveReplayLimitBytes;
  if (*save_replay_) {
    log("replay buffer (" + megabytes(bytes) + " when full) saved in checkpoints");
  } else {
    log("replay buffer (" + megabytes(bytes) + ") not saved in checkpoints (" +
        (run_.train.save_replay ? "over the " + megabytes(kSaveReplayLimitBytes) + " limit"
                                : std::string("train.save_replay: false")) +
        "): a resumed run starts it empty and will not continue exactly");
  }
  return *save_replay_;
}

void Trainer::save_own_replay() {
  if (!group_ || writes_run_folder() || !save_replay()) return;
  distributed::save_rank_replay(options_.run_dir, group_->rank(), state_.env_steps,
                                *e_.agent->replay_buffer());
}

// latest.pt, then its copy in the history (agents/checkpoint_history.h): latest.pt is never
// older than the newest step file. Both hold what an exact resume needs (ResumeState).
void Trainer::save_latest() {
  state_.wall_seconds = loop_.wall_seconds();
  const fs::path dir = fs::path(options_.run_dir) / "checkpoints";
  ResumeState resume = resume_;
  resume.has_env_log = resume_.has_env_log && env_ && env_->action_log_on();
  if (resume.has_env_log) {
    resume.env_logged_steps = env_->logged_steps();
    resume.env_action_log.assign(env_->action_log().begin(), env_->action_log().end());
  }
  resume.agent_metrics = loop_.last_agent_metrics;
  resume.replay = save_replay();
  const std::string bytes = checkpoint_bytes(e_, state_, &resume);
  write_checkpoint_file((dir / kLatestCheckpoint).string(), bytes);
  latest_checkpoint_step_ = state_.env_steps;
  add_to_checkpoint_history(dir.string(), bytes, state_.env_steps, run_.train.keep_checkpoints);
}

void Trainer::save_after_env_failure() {
  if (!started_ || !writes_run_folder()) return;
  try {
    save_latest();
  } catch (const std::exception& e) {
    log(std::string("could not save a checkpoint: ") + e.what());
  }
}

void Trainer::rethrow_stopped(const std::runtime_error& error) const {
  // Errors of other types (a PeerError of a remote env, ...) keep their type for callers.
  const bool plain = typeid(error) == typeid(std::runtime_error) ||
                     typeid(error) == typeid(FileWriteError) ||
                     typeid(error) == typeid(EnvUnavailableError) ||
                     typeid(error) == typeid(distributed::DistributedError);
  if (!started_ || !plain || !writes_run_folder()) throw;
  std::string message = std::string(error.what()) + "\ntraining stopped at step " +
                        std::to_string(state_.env_steps) + "; ";
  if (latest_checkpoint_step_ < 0) {
    message += "no checkpoint was saved yet";
  } else {
    message += "checkpoints/latest.pt (step " + std::to_string(latest_checkpoint_step_) +
               ") is intact: continue with: rltrain --resume " + options_.run_dir;
  }
  if (dynamic_cast<const FileWriteError*>(&error)) throw FileWriteError(message);
  if (dynamic_cast<const EnvUnavailableError*>(&error)) throw EnvUnavailableError(message);
  if (dynamic_cast<const distributed::DistributedError*>(&error)) {
    throw distributed::DistributedError(message);
  }
  throw std::runtime_error(message);
}

ProgressState Trainer::progress_state() const {
  ProgressState p;
  p.step = state_.env_steps;
  p.total_steps = run_.train.total_steps;
  p.steps_per_second = loop_.session_rate(state_.env_steps);
  if (const auto returns = recent_return_mean()) p.recent_return = *returns;
  if (std::isfinite(state_.last_eval_mean)) p.last_eval = state_.last_eval_mean;
  return p;
}

TrainSummary Trainer::summarize(bool interrupted) const {
  TrainSummary s;
  s.run_dir = options_.run_dir;
  s.env_id = run_.env.id;
  s.agent_type = run_.agent_type;
  s.seed = run_.seed;
  s.total_steps = state_.env_steps;
  s.episodes = state_.episodes;
  s.wall_seconds = state_.wall_seconds;
  s.steps_per_second = s.wall_seconds > 0 ? static_cast<double>(s.total_steps) / s.wall_seconds : 0;
  s.final_eval_mean = state_.last_eval_mean;
  s.final_eval_std = state_.last_eval_std;
  s.best_eval_mean = state_.best_eval_mean;
  s.final_eval_success = state_.last_eval_success;
  s.best_eval_success = state_.best_eval_success;
  s.solved_at_step = state_.solved_at_step;
  s.solved_at_seconds = state_.solved_at_seconds;
  s.interrupted = interrupted;
  return s;
}

TrainSummary Trainer::run() {
  set_compute_threads(static_cast<int>(run_.train.threads));
  if (options_.log) {
    const int64_t print_every = std::max(run_.train.log_every, run_.train.total_steps / 20);
    progress_.emplace(*options_.log, options_.interactive, print_every);
  }
  start_or_resume();
  if (group_) {
    distributed::make_data_parallel(*e_.agent, *group_);
    cut_rollouts_ = distributed::enable_rollout_cutoff(
        *e_.agent, {run_.distributed.sync_fraction, run_.distributed.min_rollout_fraction});
    step_delay_ = distributed::injected_step_delay(group_->rank());
  }
  if (group_ && e_.wrapper_context.observation_stats) {
    observation_stats_merge_.emplace(e_.wrapper_context.observation_stats->snapshot());
  }
  // The ranks' envs are seeded apart, as if they were one vector env of num_envs * world size.
  const uint64_t rank_offset =
      group_ ? static_cast<uint64_t>(group_->rank()) * static_cast<uint64_t>(run_.env.num_envs) : 0;
  const uint64_t env_seed = resume_.has_env_log
                                ? resume_.env_base_seed
                                : run_.seed + static_cast<uint64_t>(state_.env_steps) + rank_offset;
  VectorEnv env([this] { return e_.make_env(); }, run_.env.num_envs, env_seed, run_.env.vector_mode,
                run_.env.vector_threads);
  start_envs(env);
  env_ = &env;
  VectorTransitions transitions(env);
  ActionStorage actions(env.spec().action_space, env.size());
  actions.read_masks(env);
  bool interrupted = false;
  snapshot();
  while (state_.env_steps < run_.train.total_steps) {
    if (!group_ && options_.stop_requested && options_.stop_requested->load()) {
      interrupted = true;
      break;
    }
    training_step(env, actions, transitions);
    if (group_ && synchronization_due()) {
      phases_.enter(distributed::PhaseTimes::kSynchronize);
      const GroupDecision decision = synchronize();
      phases_.enter(distributed::PhaseTimes::kBookkeeping);
      if (decision == GroupDecision::kStop) {
        interrupted = true;
        break;
      }
      if (decision == GroupDecision::kSolved) {
        log("solved: evaluation mean reached the env's reward threshold");
        break;
      }
    }
    maybe_log_row();
    if (state_.env_steps >= next_eval_) {
      next_eval_ = next_multiple(state_.env_steps, run_.train.eval_every);
      if (writes_run_folder()) run_evaluation();
      if (run_.train.stop_when_solved && state_.solved_at_step >= 0) {
        if (group_) {
          solved_pending_ = true;  // Every rank stops at the next agreement.
        } else {
          log("solved: evaluation mean reached the env's reward threshold");
          break;
        }
      }
    }
    if (state_.env_steps >= next_checkpoint_) {
      next_checkpoint_ = next_multiple(state_.env_steps, run_.train.checkpoint_every);
      if (writes_run_folder()) save_latest();
      save_own_replay();
    }
    if (options_.on_snapshot && options_.snapshot_seconds > 0 &&
        seconds_since(last_snapshot_) >= options_.snapshot_seconds) {
      snapshot();
    }
    if (progress_) progress_->update(progress_state());
  }
  phases_.enter(distributed::PhaseTimes::kEnd);
  if (!writes_run_folder()) {
    save_own_replay();
    env_ = nullptr;
    print_phase_times();
    return summarize(interrupted);
  }
  if (!interrupted && state_.last_eval_step != state_.env_steps) run_evaluation();
  if (progress_) progress_->finish(progress_state());
  save_latest();
  env_ = nullptr;
  if (!interrupted) save("final.pt");
  const TrainSummary summary = summarize(interrupted);
  write_file_atomic((fs::path(options_.run_dir) / "summary.json").string(),
                    summary.to_json() + "\n");
  print_phase_times();
  if (interrupted) {
    log("stopped at step " + std::to_string(state_.env_steps) +
        "; checkpoint saved. Continue with: rltrain --resume " + options_.run_dir);
  }
  return summary;
}

void Trainer::print_phase_times() {
  if (!phases_.enabled()) return;
  std::cerr << "rltrain: " << (group_ ? "rank " + std::to_string(group_->rank()) + "'s " : "")
            << "time by phase: " << phases_.report() << std::endl;
}

bool Trainer::synchronization_due() {
  if (cut_rollouts_) return updated_;
  ++iterations_;
  return iterations_ % kSynchronizeEvery == 0 || state_.env_steps >= next_log_ ||
         state_.env_steps >= next_eval_ || state_.env_steps >= next_checkpoint_;
}

Trainer::GroupDecision Trainer::synchronize() {
  const bool stop = options_.stop_requested && options_.stop_requested->load();
  const auto recent_sum = [](const RecentMean& m) { return m.mean() * m.count(); };
  double values[] = {stop ? 1.0 : 0.0,
                     solved_pending_ ? 1.0 : 0.0,
                     static_cast<double>(unsynced_episodes_),
                     static_cast<double>(loop_.recent_returns.count()),
                     recent_sum(loop_.recent_returns),
                     recent_sum(loop_.recent_lengths),
                     static_cast<double>(unsynced_steps_)};
  group_->sum(values);
  state_.env_steps += static_cast<int64_t>(values[6]);
  unsynced_steps_ = 0;
  if (observation_stats_merge_) {
    SharedRunningStats& stats = *e_.wrapper_context.observation_stats;
    stats.restore(observation_stats_merge_->merge(*group_, stats.snapshot()));
  }
  state_.episodes += static_cast<int64_t>(values[2]);
  unsynced_episodes_ = 0;
  if (values[3] > 0) {
    loop_.pooled_return_mean = values[4] / values[3];
    loop_.pooled_length_mean = values[5] / values[3];
  }
  if (values[0] > 0) return GroupDecision::kStop;
  if (values[1] > 0) return GroupDecision::kSolved;
  return GroupDecision::kContinue;
}

std::optional<double> Trainer::recent_return_mean() const {
  if (group_) {
    return std::isfinite(loop_.pooled_return_mean) ? std::optional(loop_.pooled_return_mean)
                                                   : std::nullopt;
  }
  return loop_.recent_returns.empty() ? std::nullopt : std::optional(loop_.recent_returns.mean());
}

std::optional<double> Trainer::recent_length_mean() const {
  if (group_) {
    return std::isfinite(loop_.pooled_length_mean) ? std::optional(loop_.pooled_length_mean)
                                                   : std::nullopt;
  }
  return loop_.recent_lengths.empty() ? std::nullopt : std::optional(loop_.recent_lengths.mean());
}

double mean_of(const std::vector<double>& xs) {
  double sum = 0;
  for (double x : xs) sum += x;
  return xs.empty() ? 0.0 : sum / static_cast<double>(xs.size());
}

double std_of(const std::vector<double>& xs, double mean) {
  double sum = 0;
  for (double x : xs) sum += (x - mean) * (x - mean);
  return xs.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(xs.size()));
}

}  // namespace

VectorTransitions::VectorTransitions(const VectorEnv& env)
    : observations_(env.observations().size()), next_observations_(observations_.size()) {
  const Space& actions = env.spec().action_space;
  if (actions.is_discrete()) next_masks_.assign(static_cast<size_t>(env.size() * actions.n), 1);
}

std::span<const uint8_t> VectorTransitions::begin_step(const VectorEnv& env) {
  std::memcpy(observations_.data(), env.observations().data(), observations_.size());
  return observations_;
}

TransitionBatch VectorTransitions::end_step(const VectorEnv& env,
                                            std::span<const int64_t> discrete_actions,
                                            std::span<const float> continuous_actions,
                                            bool next_masks) {
  env.copy_next_observations(next_observations_);
  TransitionBatch batch;
  batch.batch = env.size();
  batch.observations = observations_;
  batch.discrete_actions = discrete_actions;
  batch.continuous_actions = continuous_actions;
  batch.rewards = env.rewards();
  batch.next_observations = next_observations_;
  batch.terminated = env.terminated();
  batch.truncated = env.truncated();
  if (next_masks) {
    const size_t width = next_masks_.size() / static_cast<size_t>(env.size());
    for (int i = 0; i < env.size(); ++i)
      env.next_legal_actions(i, std::span<uint8_t>(next_masks_).subspan(i * width, width));
    batch.next_legal_actions = next_masks_;
  }
  return batch;
}

EvalResult evaluate(Experiment& experiment, int64_t episodes, uint64_t seed, int64_t max_steps,
                    const std::string& record_path) {
  const int n = static_cast<int>(episodes);
  // Evaluation copies must not update shared observation statistics: freeze them.
  VectorEnv env(
      [&experiment] {
        auto copy = experiment.make_env();
        if (auto* normalizer = find_wrapper<NormalizeObservation>(*copy)) {
          normalizer->set_frozen(true);
        }
        return copy;
      },
      n, seed);
  env.reset();
  std::optional<FirstEpisodeRecorder> recorder;
  if (!record_path.empty()) recorder.emplace(experiment, env, seed);
  ActionStorage actions(env.spec().action_space, n);
  std::vector<uint8_t> done(n, 0);
  EvalResult result;
  result.returns.assign(n, 0.0);
  result.lengths.assign(n, 0);
  const bool judge_success = env.spec().reports_success;
  if (judge_success) result.successes.assign(n, 0);
  int remaining = n;
  std::vector<uint8_t> observations(env.observation_bytes() * n);
  const ActMode mode =
      experiment.run().train.eval_deterministic ? ActMode::kGreedy : ActMode::kSample;
  experiment.agent->seed_sampling(seed);
  // Recurrent agents act from this memory of the evaluation envs (empty for feed-forward ones).
  RecurrentState memory = experiment.agent->initial_state(n);
  for (int64_t t = 0; t < max_steps && remaining > 0; ++t) {
    std::memcpy(observations.data(), env.observations().data(), observations.size());
    actions.read_masks(env);
    ActionBatch batch = actions.view();
    batch.recurrent_state = &memory;
    experiment.agent->act(observations, n, mode, batch);
    actions.step(env);
    if (recorder) recorder->record(env, actions);
    for (int i = 0; i < n; ++i) {
      if (env.done(i)) memory.reset(i);  // Its env was auto-reset: a new episode.
      if (done[i]) continue;
      result.returns[i] += env.rewards()[i];
      result.lengths[i] += 1;
      if (env.done(i)) {
        done[i] = 1;
        --remaining;
        // The env was auto-reset already; it still remembers how the episode ended.
        if (judge_success) result.successes[i] = env.env(i).last_episode_succeeded() ? 1 : 0;
      }
    }
  }
  result.mean = mean_of(result.returns);
  result.std = std_of(result.returns, result.mean);
  if (judge_success) {
    const double successes = std::count(result.successes.begin(), result.successes.end(), 1);
    result.success_rate = n > 0 ? successes / n : NAN;
  }
  if (recorder) recorder->save(record_path);
  return result;
}

TrainSummary train(Experiment& experiment, const TrainOptions& options) {
  Trainer trainer(experiment, options);
  try {
    return trainer.run();
  } catch (const ConfigError&) {
    throw;
  } catch (const EnvUnavailableError& e) {
    trainer.save_after_env_failure();
    trainer.rethrow_stopped(e);
  } catch (const std::runtime_error& e) {
    trainer.rethrow_stopped(e);
  }
}

std::string TrainSummary::to_json() const {
  json::Value v = json::Value::object();
  v.set("env", env_id);
  v.set("agent", agent_type);
  v.set("seed", seed);  // exact: a uint64 seed beyond 2^53 stays itself
  v.set("total_steps", total_steps);
  v.set("episodes", episodes);
  v.set("wall_seconds", wall_seconds);
  v.set("steps_per_second", steps_per_second);
  v.set("final_eval_mean", number_or_null(final_eval_mean));
  v.set("final_eval_std", number_or_null(final_eval_std));
  v.set("best_eval_mean", number_or_null(best_eval_mean));
  v.set("final_eval_success", number_or_null(final_eval_success));
  v.set("best_eval_success", number_or_null(best_eval_success));
  v.set("solved_at_step", solved_at_step >= 0 ? json::Value(solved_at_step) : json::Value());
  v.set("solved_at_seconds", number_or_null(solved_at_seconds));
  v.set("interrupted", interrupted);
  v.set("run_dir", run_dir);
  return json::dump(v);
}

std::string TrainSummary::one_line() const {
  char success[64] = "";
  if (std::isfinite(final_eval_success)) {
    std::snprintf(success, sizeof success, ", success %.2f (best %.2f)", final_eval_success,
                  best_eval_success);
  }
  char buffer[576];
  std::snprintf(
      buffer, sizeof buffer,
      "%s %s on %s: %lld steps in %.1f s (%s steps/s), eval %.1f +- %.1f, best %.1f%s%s "
      "-> %s",
      interrupted ? "stopped" : "done", agent_type.c_str(), env_id.c_str(),
      static_cast<long long>(total_steps), wall_seconds, format_count(steps_per_second).c_str(),
      final_eval_mean, final_eval_std, best_eval_mean, success,
      solved_at_step >= 0 ? (", solved at " + format_count(static_cast<double>(solved_at_step)) +
                             " steps (" + format_seconds(solved_at_seconds) + ")")
                                .c_str()
                          : "",
      run_dir.c_str());
  return buffer;
}

}  // namespace rl

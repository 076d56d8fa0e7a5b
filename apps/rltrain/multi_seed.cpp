#include "apps/rltrain/multi_seed.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <thread>

#include "core/atomic_file.h"
#include "core/run_statistics.h"

extern char** environ;

namespace rl::multi_seed {
namespace {

namespace fs = std::filesystem;

constexpr char kManifest[] = "seeds.json";
constexpr char kSeedsConfig[] = "seeds_config.yaml";
constexpr char kSummary[] = "summary.json";
constexpr int kExitInterrupted = 130;

// Interval settings of the aggregate (documented in its "bootstrap" entry).
constexpr stats::BootstrapSettings kBootstrap{.resamples = 2000, .confidence = 0.95, .seed = 0};

// ---- Seed lists ----

std::string trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") + 1 - begin);
}

std::optional<uint64_t> parse_seed(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value > INT64_MAX) return {};
  return value;
}

// The seeds of one item: "7" or "1-5".
std::vector<uint64_t> parse_item(const std::string& item, const std::string& whole) {
  const std::string expected =
      "expects seeds like 1-5 or 1,3,7 (integers >= 0), got '" + whole + "'";
  const size_t dash = item.find('-', 1);
  const std::optional<uint64_t> first = parse_seed(trimmed(item.substr(0, dash)));
  if (!first) throw std::invalid_argument(expected);
  if (dash == std::string::npos) return {*first};
  const std::optional<uint64_t> last = parse_seed(trimmed(item.substr(dash + 1)));
  if (!last) throw std::invalid_argument(expected);
  if (*last < *first) {
    throw std::invalid_argument("range '" + trimmed(item) + "' goes down (write " +
                                std::to_string(*last) + "-" + std::to_string(*first) + ")");
  }
  if (*last - *first >= kMaxSeeds) {
    throw std::invalid_argument("lists more than " + std::to_string(kMaxSeeds) + " seeds");
  }
  std::vector<uint64_t> seeds;
  for (uint64_t s = *first; s <= *last; ++s) seeds.push_back(s);
  return seeds;
}

// ---- Child processes ----

fs::path seed_dir(const fs::path& dir, uint64_t seed) {
  return dir / ("seed-" + std::to_string(seed));
}

fs::path log_path(const fs::path& dir, uint64_t seed) { return seed_dir(dir, seed) / "train.log"; }

// A seed's summary.json, or null when it has none yet.
json::Value read_seed_summary(const fs::path& dir, uint64_t seed) {
  const fs::path file = seed_dir(dir, seed) / kSummary;
  if (!fs::exists(file)) return {};
  try {
    return json::parse(read_file(file.string()));
  } catch (const json::JsonError& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

double number_or(const json::Value& summary, const char* key, double otherwise) {
  const json::Value* value = summary.find(key);
  return value && value->is_number() ? value->as_number() : otherwise;
}

// Finished: not interrupted, and trained to `steps_to_finish` or stopped on solving (a run with
// stop_when_solved ends at the step that solved it).
bool finished(const json::Value& summary, int64_t steps_to_finish) {
  if (!summary.is_object()) return false;
  const json::Value* interrupted = summary.find("interrupted");
  if (interrupted && interrupted->is_bool() && interrupted->as_bool()) return false;
  const double steps = number_or(summary, "total_steps", 0);
  return steps >= static_cast<double>(steps_to_finish) ||
         number_or(summary, "solved_at_step", -1) == steps;
}

// SIGINT/SIGTERM received by this process while seeds run.
std::atomic<int> g_interrupts{0};
extern "C" void count_interrupt(int) { g_interrupts.fetch_add(1); }

struct Child {
  uint64_t seed = 0;
  pid_t pid = -1;
};

// Starts `rltrain args...` (this program when `rltrain` is empty) with its output appended to the
// seed's train.log, in a process group of its own (so that a terminal's Ctrl-C reaches it once,
// through us).
pid_t spawn_rltrain(const fs::path& rltrain, const std::vector<std::string>& args,
                    const fs::path& log) {
  const std::string program =
      rltrain.empty() ? fs::read_symlink("/proc/self/exe").string() : rltrain.string();
  std::vector<std::string> argv_strings = args;
  argv_strings.insert(argv_strings.begin(), program);
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(error));
  }
  return pid;
}

// The command line of one seed: resume it when it has started, else start it from the
// folder's config.
std::vector<std::string> seed_arguments(const Options& options, uint64_t seed) {
  const fs::path run = seed_dir(options.dir, seed);
  std::vector<std::string> args;
  if (fs::exists(run / "config.yaml")) {
    args = {"--resume", run.string()};
  } else {
    args = {(options.dir / kSeedsConfig).string(), "--out", run.string(), "--set",
            "seed=" + std::to_string(seed)};
  }
  for (const std::string& o : options.overrides) args.insert(args.end(), {"--set", o});
  args.insert(args.end(), options.seed_args.begin(), options.seed_args.end());
  return args;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string format_value(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

struct Outcome {
  std::vector<uint64_t> failed;  // Seeds that did not finish, other than by an interrupt.
  bool interrupted = false;
};

// Runs the seeds `todo`, at most options.jobs at once, reporting each start and end to
// options.log; interrupts (g_interrupts) are passed on to the running seeds as SIGINT.
class Scheduler {
 public:
  Scheduler(const Options& options, std::vector<uint64_t> todo)
      : options_(options), todo_(std::move(todo)), total_(todo_.size()) {}

  Outcome run() {
    size_t next = 0;
    int forwarded = 0;
    while (next < todo_.size() || !running_.empty()) {
      while (g_interrupts.load() == 0 && next < todo_.size() &&
             running_.size() < static_cast<size_t>(options_.jobs)) {
        launch(todo_[next++]);
      }
      if (g_interrupts.load() > 0 && next < todo_.size()) next = todo_.size();  // Start no more.
      for (; forwarded < g_interrupts.load(); ++forwarded) {
        for (const Child& child : running_) ::kill(child.pid, SIGINT);
      }
      if (!reap_one()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    outcome_.interrupted = g_interrupts.load() > 0;
    return outcome_;
  }

 private:
  // Starts a seed; one that cannot start counts as failed (the running ones go on).
  void launch(uint64_t seed) {
    const fs::path run = seed_dir(options_.dir, seed);
    pid_t pid = -1;
    try {
      fs::create_directories(run);
      pid = spawn_rltrain(options_.program, seed_arguments(options_, seed),
                          log_path(options_.dir, seed));
    } catch (const std::exception& e) {
      ++ended_;
      outcome_.failed.push_back(seed);
      *options_.log << "rltrain: seed " << seed << " failed to start: " << e.what() << std::endl;
      return;
    }
    running_.push_back({seed, pid});
    *options_.log << "rltrain: seed " << seed << " started -> " << run.string() << " (log "
                  << log_path(options_.dir, seed).string() << ")" << std::endl;
  }

  // Collects one child that ended, if any; true when one did.
  bool reap_one() {
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      int status = 0;
      const pid_t done = ::waitpid(it->pid, &status, WNOHANG);
      if (done == 0) continue;
      const uint64_t seed = it->seed;
      running_.erase(it);
      ++ended_;
      report(seed, done < 0 ? -1 : status);
      return true;
    }
    return false;
  }

  void report(uint64_t seed, int status) {
    std::ostream& log = *options_.log;
    const std::string progress =
        " (" + std::to_string(ended_) + " of " + std::to_string(total_) + ")";
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      const json::Value summary = read_seed_summary(options_.dir, seed);
      const json::Value* value = summary.is_object() ? summary.find("final_eval_mean") : nullptr;
      log << "rltrain: seed " << seed << " done: final eval "
          << (value && value->is_number() ? format_value(value->as_number()) : "none") << progress
          << std::endl;
      return;
    }
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == kExitInterrupted) {
      log << "rltrain: seed " << seed << " stopped (checkpoint saved)" << progress << std::endl;
      return;
    }
    outcome_.failed.push_back(seed);
    log << "rltrain: seed " << seed << " failed ("
        << (status < 0 ? "lost track of its process" : describe_exit(status)) << "); see its log "
        << log_path(options_.dir, seed).string() << progress << std::endl;
  }

  const Options& options_;
  const std::vector<uint64_t> todo_;
  const size_t total_;
  std::vector<Child> running_;
  size_t ended_ = 0;
  Outcome outcome_;
};

// ---- Manifest and aggregate ----

struct Manifest {
  std::string name;
  std::vector<uint64_t> seeds;
};

Manifest read_manifest(const fs::path& dir) {
  const fs::path file = dir / kManifest;
  try {
    const json::Value value = json::parse(read_file(file.string()));
    Manifest manifest;
    manifest.name = value.find("name") ? value.find("name")->as_string() : dir.filename().string();
    const json::Value* seeds = value.find("seeds");
    if (!seeds) throw json::JsonError("no \"seeds\" list");
    for (const json::Value& s : seeds->items()) {
      const double seed = s.as_number();
      if (!(seed >= 0 && seed <= 9e15 && seed == std::floor(seed))) {
        throw json::JsonError("seed " + json::dump(s) + " is not an integer >= 0");
      }
      manifest.seeds.push_back(static_cast<uint64_t>(seed));
    }
    if (manifest.seeds.empty()) throw json::JsonError("the \"seeds\" list is empty");
    return manifest;
  } catch (const json::JsonError& e) {
    throw std::runtime_error(file.string() + ": " + e.what());
  }
}

json::Value interval_json(const stats::Interval& interval) {
  return json::Value::array({interval.low, interval.high});
}

// The statistics block of one metric over the seeds.
json::Value metric_json(const std::vector<double>& values) {
  const stats::ScoresByTask one_task = {values};
  json::Value block = json::Value::object();
  json::Value per_seed = json::Value::array();
  for (double v : values) per_seed.push_back(v);
  block.set("per_seed", per_seed);
  block.set("mean", stats::mean(values));
  block.set("median", stats::median(values));
  block.set("iqm", stats::interquartile_mean(values));
  block.set("mean_ci95", interval_json(stats::stratified_bootstrap_interval(
                             one_task, stats::aggregate_mean, kBootstrap)));
  block.set("iqm_ci95", interval_json(stats::stratified_bootstrap_interval(
                            one_task, stats::aggregate_iqm, kBootstrap)));
  return block;
}

json::Value bootstrap_json() {
  json::Value bootstrap = json::Value::object();
  bootstrap.set("method",
                "percentile interval of a stratified bootstrap (one task: the seeds resampled "
                "with replacement), as rliable");
  bootstrap.set("resamples", kBootstrap.resamples);
  bootstrap.set("confidence", kBootstrap.confidence);
  bootstrap.set("rng_seed", static_cast<int64_t>(kBootstrap.seed));
  return bootstrap;
}

std::string interval_text(const json::Value& block, const char* key) {
  const auto& interval = block.find(key)->items();
  std::string text = format_value(interval[0].as_number());
  text += " to ";
  text += format_value(interval[1].as_number());
  return text;
}

// "final eval over seeds 1-5: mean 412 (95% CI 350 to 460), IQM ..., median ... -> <file>"
std::string summary_line(const json::Value& summary, const std::vector<uint64_t>& seeds,
                         const fs::path& file) {
  const json::Value& eval = *summary.find("final_eval_mean");
  std::string line = "final eval over seeds " + describe_seeds(seeds) + ": mean " +
                     format_value(eval.find("mean")->as_number()) + " (95% CI " +
                     interval_text(eval, "mean_ci95") + "), IQM " +
                     format_value(eval.find("iqm")->as_number()) + " (95% CI " +
                     interval_text(eval, "iqm_ci95") + "), median " +
                     format_value(eval.find("median")->as_number());
  if (const json::Value* success = summary.find("final_eval_success")) {
    line += ", success mean " + format_value(success->find("mean")->as_number());
  }
  return line + " -> " + file.string();
}

}  // namespace

std::vector<uint64_t> parse_seed_list(const std::string& text) {
  if (trimmed(text).empty()) {
    throw std::invalid_argument("expects seeds like 1-5 or 1,3,7, got an empty list");
  }
  std::vector<uint64_t> seeds;
  std::set<uint64_t> seen;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    for (uint64_t seed : parse_item(text.substr(begin, comma - begin), text)) {
      if (!seen.insert(seed).second) {
        throw std::invalid_argument("lists seed " + std::to_string(seed) + " twice in '" + text +
                                    "'");
      }
      seeds.push_back(seed);
    }
    if (seeds.size() > kMaxSeeds) {
      throw std::invalid_argument("lists more than " + std::to_string(kMaxSeeds) + " seeds");
    }
    begin = comma + 1;
  }
  return seeds;
}

std::string describe_seeds(const std::vector<uint64_t>& seeds) {
  bool consecutive = seeds.size() > 1;
  for (size_t i = 1; i < seeds.size(); ++i)
    consecutive = consecutive && seeds[i] == seeds[i - 1] + 1;
  if (consecutive) return std::to_string(seeds.front()) + "-" + std::to_string(seeds.back());
  std::string text;
  for (uint64_t seed : seeds) text += (text.empty() ? "" : ", ") + std::to_string(seed);
  return text;
}

bool is_multi_seed_folder(const fs::path& dir) { return fs::exists(dir / kManifest); }

int start(const Options& options, const std::string& name, const std::string& resolved_config,
          const std::vector<uint64_t>& seeds) {
  write_file_atomic((options.dir / kSeedsConfig).string(),
                    "# Config every seed of '" + name +
                        "' starts from (written by rltrain --seeds; each seed sets its own "
                        "seed).\n" +
                        resolved_config);
  json::Value manifest = json::Value::object();
  manifest.set("name", name);
  json::Value list = json::Value::array();
  for (uint64_t seed : seeds) list.push_back(static_cast<int64_t>(seed));
  manifest.set("seeds", list);
  manifest.set("config", kSeedsConfig);
  write_file_atomic((options.dir / kManifest).string(), json::dump(manifest) + "\n");
  return train_seeds(options);
}

int train_seeds(const Options& options) {
  const Manifest manifest = read_manifest(options.dir);
  std::vector<uint64_t> todo;
  for (uint64_t seed : manifest.seeds) {
    if (!finished(read_seed_summary(options.dir, seed), options.steps_to_finish)) {
      todo.push_back(seed);
    }
  }
  std::ostream& log = *options.log;
  const fs::path summary_file = options.dir / kSummary;
  if (!todo.empty()) {
    fs::remove(summary_file);  // Stale until every seed has finished again.
    log << "rltrain: " << manifest.name << ": training seed" << (todo.size() > 1 ? "s " : " ")
        << describe_seeds(todo);
    if (todo.size() < manifest.seeds.size()) {
      log << " (of " << describe_seeds(manifest.seeds) << "; the others have finished)";
    }
    log << " (" << std::min<size_t>(todo.size(), options.jobs) << " at a time) -> "
        << options.dir.string() << std::endl;
  }
  g_interrupts.store(0);
  struct sigaction action = {};
  action.sa_handler = count_interrupt;
  sigemptyset(&action.sa_mask);
  struct sigaction previous_int, previous_term;
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
  const Outcome outcome = Scheduler(options, todo).run();
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);

  const std::string resume_hint = "rltrain --resume " + options.dir.string();
  if (outcome.interrupted) {
    log << "rltrain: stopped; continue with: " << resume_hint << std::endl;
    return kExitInterrupted;
  }
  if (!outcome.failed.empty()) {
    log << "rltrain: seed" << (outcome.failed.size() > 1 ? "s " : " ")
        << describe_seeds(outcome.failed) << " failed; no aggregate written. Once fixed, "
        << "continue with: " << resume_hint << std::endl;
    return 1;
  }
  const json::Value summary = aggregate(options.dir, manifest.seeds);
  write_file_atomic(summary_file.string(), json::dump(summary) + "\n");
  *options.out << summary_line(summary, manifest.seeds, summary_file) << std::endl;
  return 0;
}

json::Value aggregate(const fs::path& dir, const std::vector<uint64_t>& seeds) {
  std::vector<double> eval_means, eval_successes;
  json::Value first;
  for (uint64_t seed : seeds) {
    const fs::path file = seed_dir(dir, seed) / kSummary;
    const json::Value summary = read_seed_summary(dir, seed);
    if (!summary.is_object()) throw std::runtime_error(file.string() + ": missing");
    const json::Value* mean = summary.find("final_eval_mean");
    if (!mean || !mean->is_number()) {
      throw std::runtime_error(file.string() + ": no final_eval_mean (the run has no evaluation)");
    }
    eval_means.push_back(mean->as_number());
    const json::Value* success = summary.find("final_eval_success");
    if (success && success->is_number()) eval_successes.push_back(success->as_number());
    if (first.is_null()) first = summary;
  }
  json::Value result = json::Value::object();
  result.set("name", read_manifest(dir).name);
  for (const char* key : {"env", "agent"}) {
    if (const json::Value* v = first.find(key)) result.set(key, *v);
  }
  json::Value list = json::Value::array();
  for (uint64_t seed : seeds) list.push_back(static_cast<int64_t>(seed));
  result.set("seeds", list);
  result.set("final_eval_mean", metric_json(eval_means));
  if (eval_successes.size() == seeds.size()) {
    result.set("final_eval_success", metric_json(eval_successes));
  }
  result.set("bootstrap", bootstrap_json());
  return result;
}

}  // namespace rl::multi_seed

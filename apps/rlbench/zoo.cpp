#include "apps/rlbench/zoo.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

#include "agents/experiment.h"
#include "apps/rlbench/zoo_table.h"
#include "apps/rlreport/html_report.h"
#include "apps/rlreport/report_stats.h"
#include "apps/rltrain/multi_seed.h"
#include "core/atomic_file.h"
#include "core/command_line.h"
#include "core/json.h"
#include "core/run_statistics.h"

namespace rl::bench {

namespace fs = std::filesystem;

const std::vector<std::string> kSmokeOverrides = {
    "train.total_steps=600",    "train.eval_every=0",          "train.eval_episodes=2",
    "train.eval_max_steps=300", "train.checkpoint_every=0",    "train.keep_checkpoints=0",
    "train.log_every=300",      "train.tensorboard=false",     "train.record_eval=false",
    "train.save_replay=false",  "train.stop_when_solved=false"};

namespace {

constexpr int kExitInterrupted = 130;
// The intervals of the table (the same settings as rltrain --seeds' summary.json).
constexpr stats::BootstrapSettings kBootstrap{.resamples = 2000, .confidence = 0.95, .seed = 0};

// A config to run: its file, validated with the zoo's overrides.
struct ZooConfig {
  std::string name;  // The file's stem: "dqn_cartpole".
  fs::path file;
  std::string run_name;  // The config's `name`.
  std::string agent, env;
  std::string resolved_yaml;
  int64_t total_steps = 0;  // The budget every seed trains to.
  std::optional<RunTarget> target;
  std::vector<uint64_t> seeds;
};

// How one config fared.
struct ZooResult {
  const ZooConfig* config = nullptr;
  int train_exit = 0;                         // multi_seed::train_seeds' exit code.
  std::string error;                          // Why it could not be judged, when it could not.
  std::vector<std::optional<double>> judged;  // Per seed: the judged evaluation's value.
  std::optional<report::TargetReport> verdict;
  std::optional<double> iqm;
  stats::Interval iqm_ci;
  double slowest_seed_seconds = 0;  // Wall time of the slowest seed's last evaluation.
  bool judged_every_seed = false;
};

std::vector<std::string> shipped_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<uint64_t> seeds_up_to(int64_t count) {
  std::vector<uint64_t> seeds;
  for (int64_t s = 1; s <= count; ++s) seeds.push_back(static_cast<uint64_t>(s));
  return seeds;
}

// The target is judged at its within_steps, so training past them is wasted: a config whose
// total_steps are longer (e.g. a paper's full budget) trains only up to the target's budget.
std::optional<std::string> budget_override(const RunConfig& run) {
  if (!run.target || run.train.total_steps <= run.target->within_steps) return std::nullopt;
  return "train.total_steps=" + std::to_string(run.target->within_steps);
}

// Loads and validates every config before anything trains (ConfigError on a bad one).
std::vector<ZooConfig> load_configs(const ZooOptions& options, const fs::path& dir) {
  const std::vector<std::string> shipped = shipped_names(dir);
  std::vector<std::string> names = options.configs.empty() ? shipped : options.configs;
  std::vector<ZooConfig> configs;
  for (const std::string& name : names) {
    if (std::find(shipped.begin(), shipped.end(), name) == shipped.end()) {
      std::string known;
      for (const std::string& s : shipped) known += (known.empty() ? "" : ", ") + s;
      throw cli::UsageError("--configs: no config '" + name + "' in " + dir.string() +
                            "; configs: " + known);
    }
    ZooConfig config;
    config.name = name;
    config.file = dir / (name + ".yaml");
    std::vector<std::string> overrides =
        options.smoke ? kSmokeOverrides : std::vector<std::string>{};
    Experiment experiment = build_experiment(load_config(config.file.string(), overrides));
    if (!options.smoke) {
      std::optional<std::string> budget = budget_override(experiment.run());
      if (budget) {
        overrides.push_back(*budget);
        experiment = build_experiment(load_config(config.file.string(), overrides));
      }
    }
    config.run_name = experiment.run().name;
    config.agent = experiment.run().agent_type;
    config.env = experiment.run().env.id;
    config.resolved_yaml = experiment.resolved_yaml;
    config.total_steps = experiment.run().train.total_steps;
    config.target = experiment.run().target;
    const int64_t default_seeds = options.smoke ? 1 : config.target ? config.target->seeds : 5;
    config.seeds = seeds_up_to(options.seeds.value_or(default_seeds));
    configs.push_back(std::move(config));
  }
  // Shortest budget first: quick configs report early.
  std::stable_sort(configs.begin(), configs.end(), [](const ZooConfig& a, const ZooConfig& b) {
    const int64_t budget_a = a.target ? a.target->within_steps : INT64_MAX;
    const int64_t budget_b = b.target ? b.target->within_steps : INT64_MAX;
    return budget_a < budget_b;
  });
  return configs;
}

// A resolved config without its top-level `target:` section and its `train.total_steps`: the
// claim and the budget do not change how a seed trains up to a given step, so seeds trained
// before a threshold was restated still count, and seeds trained to a shorter budget continue.
std::string without_target_and_budget(const std::string& yaml) {
  std::istringstream lines(yaml);
  std::string line, kept, section;
  while (std::getline(lines, line)) {
    const bool top_level = !line.empty() && line[0] != ' ';
    if (top_level) section = line.substr(0, line.find(':'));
    const bool budget = section == "train" && line.rfind("  total_steps:", 0) == 0;
    if (section != "target" && !budget) kept += line + '\n';
  }
  return kept;
}

// The config a multi-seed folder was started from, resolved again by this build: a setting
// added since (absent from the file) takes its default, which by the rule for new settings is
// the behaviour the seeds trained with, so a folder does not become "another config" when the
// config schema grows. Empty when the file no longer loads.
std::string resolved_by_this_build(const fs::path& file) {
  try {
    return build_experiment(load_config(file.string(), {})).resolved_yaml;
  } catch (const std::exception&) {
    return "";
  }
}

// Whether a multi-seed folder holds this config's seeds (its config equal up to the target and
// the budget).
bool folder_matches(const fs::path& dir, const ZooConfig& config) {
  const std::string written = resolved_by_this_build(dir / "seeds_config.yaml");
  if (written.empty() ||
      without_target_and_budget(written) != without_target_and_budget(config.resolved_yaml)) {
    return false;
  }
  const json::Value manifest = json::parse(read_file((dir / "seeds.json").string()));
  const json::Value* seeds = manifest.find("seeds");
  if (!seeds || seeds->items().size() != config.seeds.size()) return false;
  for (size_t i = 0; i < config.seeds.size(); ++i) {
    if (seeds->items()[i].as_number() != static_cast<double>(config.seeds[i])) return false;
  }
  return true;
}

// Every folder that holds a run must hold this config's, so that nothing is mixed or lost.
void check_folders(const std::vector<ZooConfig>& configs, const fs::path& out) {
  for (const ZooConfig& config : configs) {
    const fs::path dir = out / config.name;
    if (!fs::exists(dir)) continue;
    if (!multi_seed::is_multi_seed_folder(dir) || !folder_matches(dir, config)) {
      throw cli::UsageError(dir.string() +
                            " holds a run of another config or other seeds (the config changed?); "
                            "remove it or choose another --out");
    }
  }
}

fs::path rltrain_beside_this_program() {
  const fs::path rltrain = fs::read_symlink("/proc/self/exe").parent_path() / "rltrain";
  if (!fs::exists(rltrain)) {
    throw std::runtime_error("rlbench --zoo runs rltrain, which is not at " + rltrain.string() +
                             " (build it: ninja rltrain)");
  }
  return rltrain;
}

int train_config(const ZooConfig& config, const ZooOptions& options, const fs::path& out) {
  multi_seed::Options seeds;
  seeds.dir = out / config.name;
  seeds.jobs = options.jobs;
  seeds.log = &std::cerr;
  seeds.out = &std::cerr;
  seeds.program = rltrain_beside_this_program();
  seeds.overrides = {"train.total_steps=" + std::to_string(config.total_steps)};
  seeds.steps_to_finish = config.total_steps;
  std::cerr << "rlbench: zoo: " << config.name << " (" << config.agent << " on " << config.env
            << "), seeds " << multi_seed::describe_seeds(config.seeds) << std::endl;
  if (multi_seed::is_multi_seed_folder(seeds.dir)) return multi_seed::train_seeds(seeds);
  fs::create_directories(seeds.dir);
  return multi_seed::start(seeds, config.run_name, config.resolved_yaml, config.seeds);
}

// Judges a trained config from its folder (rlreport's reading and verdicts).
ZooResult judge(const ZooConfig& config, const report::ConfigRuns& runs) {
  ZooResult result;
  result.config = &config;
  result.verdict = report::judge_config(runs);
  std::vector<double> values;
  result.judged_every_seed = result.verdict.has_value();
  for (size_t s = 0; s < runs.seeds.size(); ++s) {
    const report::SeedRun& seed = runs.seeds[s];
    result.slowest_seed_seconds =
        std::max(result.slowest_seed_seconds, seed.evaluations.back().wall_seconds);
    std::optional<double> value;
    if (result.verdict && result.verdict->seeds[s].judged) {
      value = result.verdict->seeds[s].judged->value;
      values.push_back(*value);
    } else {
      result.judged_every_seed = false;
    }
    result.judged.push_back(value);
  }
  if (!values.empty()) {
    result.iqm = stats::interquartile_mean(values);
    result.iqm_ci = stats::stratified_bootstrap_interval(stats::ScoresByTask{values},
                                                         stats::aggregate_iqm, kBootstrap);
  }
  if (!result.verdict) result.error = "the config declares no target";
  return result;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string verdict_text(const ZooResult& r, bool smoke) {
  if (!r.error.empty()) return "not judged: " + r.error;
  const TargetVerdict& v = r.verdict->verdict;
  std::string text = std::to_string(v.seeds_met) + "/" + std::to_string(v.seeds_judged) +
                     " seeds, needs " + std::to_string(r.verdict->target.of_seeds) + ": ";
  text += v.met ? "met" : "NOT met";
  if (!v.complete)
    text +=
        " (incomplete: the target is about " + std::to_string(r.verdict->target.seeds) + " seeds)";
  if (smoke) text += " (smoke budget)";
  return text;
}

std::string per_seed_text(const ZooResult& r) {
  std::string text;
  for (size_t s = 0; s < r.judged.size(); ++s) {
    text += s ? ", " : "";
    text += r.judged[s] ? number(*r.judged[s]) : "none";
    if (r.judged[s] && r.verdict && !r.verdict->seeds[s].met) text += "✗";
  }
  return text;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

ZooRow table_row(const ZooResult& r, const ZooOptions& options) {
  const ZooConfig& c = *r.config;
  ZooRow row;
  row.cells = {c.name, c.agent + " on " + c.env, c.target ? describe_target(*c.target) : "none"};
  if (r.train_exit != 0) {
    row.cells.insert(row.cells.end(),
                     {"", "", "training failed (exit " + std::to_string(r.train_exit) + ")", ""});
    return row;
  }
  row.cells.push_back(per_seed_text(r));
  row.cells.push_back(r.iqm ? number(*r.iqm) + " [" + number(r.iqm_ci.low) + ", " +
                                  number(r.iqm_ci.high) + "]"
                            : "");
  row.cells.push_back(verdict_text(r, options.smoke));
  row.cells.push_back(number(r.slowest_seed_seconds));
  row.measured = {options.command, utc_now()};
  return row;
}

json::Value result_json(const ZooResult& r) {
  json::Value item = json::Value::object();
  item.set("config", r.config->name);
  item.set("agent", r.config->agent);
  item.set("env", r.config->env);
  item.set("train_exit", r.train_exit);
  if (r.config->target) item.set("target", describe_target(*r.config->target));
  json::Value seeds = json::Value::array();
  for (const auto& value : r.judged) seeds.push_back(value ? json::Value(*value) : json::Value());
  item.set("judged_per_seed", seeds);
  if (r.verdict) {
    item.set("seeds_met", r.verdict->verdict.seeds_met);
    item.set("met", r.verdict->verdict.met);
    item.set("complete", r.verdict->verdict.complete);
  }
  if (r.iqm) item.set("iqm", *r.iqm);
  if (!r.error.empty()) item.set("error", r.error);
  return item;
}

// A config's result is good when it trained and was judged on every seed (and, outside a
// smoke run, met its target).
bool passed(const ZooResult& r, bool smoke) {
  if (r.train_exit != 0 || !r.error.empty() || !r.judged_every_seed) return false;
  return smoke || r.verdict->verdict.met;
}

// The shipped configs without a row.
std::vector<std::string> without_rows(const std::vector<std::string>& shipped,
                                      const std::vector<ZooRow>& rows) {
  std::vector<std::string> missing;
  for (const std::string& name : shipped) {
    if (std::none_of(rows.begin(), rows.end(),
                     [&name](const ZooRow& r) { return r.config() == name; }))
      missing.push_back(name);
  }
  return missing;
}

// OUT/zoo.md holds this run's rows; --docs FILE also keeps FILE's rows of the configs this run
// did not measure (a smoke run's table replaces FILE: its rows are not measurements).
void write_tables(const std::vector<ZooResult>& results, const std::vector<ZooRow>& earlier_rows,
                  const std::vector<std::string>& shipped, const ZooOptions& options,
                  const fs::path& out) {
  std::vector<ZooRow> rows;
  for (const ZooResult& r : results) rows.push_back(table_row(r, options));
  const std::string table =
      render_zoo_table(rows, without_rows(shipped, rows), options.smoke, options.command);
  write_file_atomic((out / "zoo.md").string(), table);
  std::cout << table;
  if (!options.docs) return;
  if (options.smoke) {
    write_file_atomic(options.docs->string(), table);
    return;
  }
  const std::vector<ZooRow> merged = merge_zoo_rows(earlier_rows, rows, shipped);
  write_file_atomic(options.docs->string(), render_zoo_table(merged, without_rows(shipped, merged),
                                                             false, options.command));
}

void write_outputs(const std::vector<ZooResult>& results,
                   const std::vector<report::ConfigRuns>& runs, const ZooOptions& options,
                   const fs::path& out) {
  json::Value list = json::Value::array();
  for (const ZooResult& r : results) list.push_back(result_json(r));
  json::Value root = json::Value::object();
  root.set("command", options.command);
  root.set("smoke", options.smoke);
  root.set("configs", list);
  write_file_atomic((out / "zoo.json").string(), json::dump(root) + "\n");
  if (!runs.empty()) {
    report::ReportOptions report_options;
    report_options.title = "rlbench --zoo";
    report_options.episodes = !options.smoke;
    std::vector<std::string> warnings;
    write_file_atomic((out / "report.html").string(),
                      report::html_report(runs, report_options, &warnings));
    for (const std::string& w : warnings) std::cerr << "rlbench: zoo: warning: " << w << "\n";
  }
  std::cerr << "rlbench: zoo: wrote " << (out / "zoo.md").string() << ", "
            << (out / "report.html").string()
            << (options.docs ? " and " + options.docs->string() : "") << std::endl;
}

// The rows of the --docs file to keep, read before anything trains so that an unreadable file
// is an error at once.
std::vector<ZooRow> earlier_table_rows(const ZooOptions& options) {
  if (!options.docs || options.smoke || !fs::exists(*options.docs)) return {};
  try {
    return parse_zoo_table(read_file(options.docs->string()));
  } catch (const std::runtime_error& e) {
    throw cli::UsageError("--docs " + options.docs->string() + ": " + e.what() +
                          " (remove the file or choose another)");
  }
}

}  // namespace

fs::path shipped_config_dir() {
  if (fs::is_directory("configs")) return "configs";
  return fs::path(RLCADE_SOURCE_DIR) / "configs";
}

int run_zoo(const ZooOptions& options) {
  const fs::path config_dir = shipped_config_dir();
  const fs::path out = options.out.value_or(options.smoke ? "runs/zoo-smoke" : "runs/zoo");
  const std::vector<ZooConfig> configs = load_configs(options, config_dir);
  check_folders(configs, out);
  const std::vector<ZooRow> earlier_rows = earlier_table_rows(options);
  std::vector<ZooResult> results;
  std::vector<report::ConfigRuns> runs;
  for (const ZooConfig& config : configs) {
    const int exit_code = train_config(config, options, out);
    if (exit_code == kExitInterrupted) return kExitInterrupted;
    ZooResult result;
    result.config = &config;
    result.train_exit = exit_code;
    if (exit_code == 0) {
      report::ConfigRuns loaded = report::load_config_runs(out / config.name);
      loaded.name = config.name;
      loaded.target = config.target;  // The shipped config's claim, even if restated since.
      result = judge(config, loaded);
      runs.push_back(std::move(loaded));
    }
    results.push_back(std::move(result));
  }
  write_tables(results, earlier_rows, shipped_names(config_dir), options, out);
  write_outputs(results, runs, options, out);
  const bool all_passed =
      std::all_of(results.begin(), results.end(),
                  [&options](const ZooResult& r) { return passed(r, options.smoke); });
  return all_passed ? cli::kExitOk : cli::kExitFailure;
}

}  // namespace rl::bench

// rltrain: train an agent from a YAML config.
//   rltrain configs/dqn.yaml            (or a shipped config by bare name: rltrain dqn.yaml)
//   rltrain CONFIG --out DIR --set agent.lr=1e-4 --set train.total_steps=20000
//   rltrain --resume runs/dqn           (continues the run; --set may extend total_steps)
//   rltrain configs/dqn.yaml --watch    (a window shows the current policy playing)
//   rltrain configs/ppo.yaml --nproc 2  (one run, two processes: docs/distributed.md)
//   rltrain --evaluate runs/dqn/checkpoints/final.pt --episodes 300
//   rltrain --list | --help
#include <c10/util/Exception.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "agents/agent.h"
#include "agents/checkpoint_history.h"
#include "agents/distributed/data_parallel.h"
#include "agents/distributed/gloo_group.h"
#include "agents/experiment.h"
#include "agents/torch_setup.h"
#include "agents/trainer.h"
#include "apps/rltrain/local_launch.h"
#include "apps/rltrain/multi_seed.h"
#include "apps/rltrain/watch.h"
#include "core/command_line.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/registry.h"
#include "core/wrappers.h"

namespace fs = std::filesystem;

namespace {

using rl::cli::kExitFailure;
using rl::cli::kExitOk;
using rl::cli::kExitUsage;
using rl::cli::UsageError;

// Ctrl-C (SIGINT) and SIGTERM (how clusters stop jobs) both ask the trainer to checkpoint and
// stop; rltrain then exits with 128 + the signal's number (130, 143), as the shell reports a
// process killed by it.
std::atomic<bool> g_stop_requested{false};
std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signal) {
  g_stop_signal.store(signal);
  g_stop_requested.store(true);
  std::signal(signal, SIG_DFL);  // A second one stops at once.
}

int interrupted_exit_code() { return 128 + g_stop_signal.load(); }

const char kSynopsis[] =
    R"(rltrain CONFIG [--out DIR] [--set KEY.PATH=VALUE]... [--watch]
       rltrain CONFIG --seeds 1-5 [--jobs N | --nproc N] [--out DIR] [--set KEY.PATH=VALUE]...
       rltrain --resume RUN_DIR [--set KEY.PATH=VALUE]... [--watch | --jobs N]
       rltrain (CONFIG [--out DIR] | --resume RUN_DIR) [--set ...]... (--nproc N |
               --rank R --world-size W [--master HOST:PORT])
       rltrain --evaluate CHECKPOINT [--episodes N] [--seed N]
       rltrain --list | --help)";

const char kDescription[] =
    R"(Trains an agent as the YAML config says and writes the run folder (default runs/<name>):
config.yaml (resolved), metrics.csv, checkpoints/{latest,best,final}.pt, replays/, summary.json.
With --seeds, once per seed into DIR/seed-<k>/ (each a run folder, its output in train.log),
then DIR/summary.json: per-seed final evaluations, mean, median, IQM and 95% bootstrap intervals.
)";

const char kFooter[] =
    R"(--set values are YAML (1e-4, true, [64, 64], adam), read by the config's types: an integer
setting accepts 1e3 (= 1000); env parameters follow the same rule as rlwatch/rlserve --param.
Ctrl-C or SIGTERM saves a checkpoint and stops cleanly (a second one quits at once).
--seeds runs each seed as a child rltrain; a failed seed is reported with its log and the others
finish first. --resume DIR of a --seeds folder trains its unfinished seeds, then the aggregate.
--nproc, --rank/--world-size (or torchrun's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT, or SLURM's
SLURM_PROCID/SLURM_NTASKS) train one run in several processes (docs/distributed.md).
Exit codes: 0 done, 1 failed while running (with --seeds: a seed failed), 2 bad arguments or
config (nothing was done), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
)";

struct Args {
  std::string config;
  std::optional<std::string> out;
  std::optional<std::string> resume;
  std::optional<std::string> evaluate;  // Checkpoint to evaluate.
  std::optional<int64_t> episodes;
  std::optional<uint64_t> seed;
  std::optional<std::vector<uint64_t>> seeds;  // --seeds: train once per seed.
  std::optional<int64_t> jobs;
  std::vector<std::string> overrides;
  std::optional<std::string> help;  // The help text, when --help was given.
  bool list = false;
  bool watch = false;
  // Distributed training: --nproc (local launcher) or one rank's place.
  std::optional<int64_t> nproc;
  std::optional<int64_t> rank;
  std::optional<int64_t> world_size;
  std::optional<std::string> master;
};

// Checks --nproc, --rank, --world-size and --master against each other and the other options.
void check_distributed_args(const Args& args) {
  const bool as_rank = args.rank || args.world_size || args.master;
  if (!args.nproc && !as_rank) return;
  if (args.nproc && as_rank) {
    throw UsageError("--nproc cannot be combined with --rank/--world-size/--master");
  }
  if (as_rank && (!args.rank || !args.world_size)) {
    throw UsageError("--rank and --world-size go together (and --master with them)");
  }
  // --nproc goes with --seeds (and the --resume of a seeds folder): each seed a distributed
  // run, one after another.
  if (as_rank && args.seeds) throw UsageError("--rank cannot be combined with --seeds");
  if (args.evaluate || args.watch || args.jobs) {
    throw UsageError(std::string(args.nproc ? "--nproc" : "--rank") +
                     " cannot be combined with --evaluate, --watch or --jobs");
  }
  if (args.rank && *args.rank >= *args.world_size) {
    throw UsageError("--rank " + std::to_string(*args.rank) + " must be below --world-size " +
                     std::to_string(*args.world_size));
  }
}

// Checks the combinations of --evaluate, --episodes and --seed with the other options.
void check_evaluate_args(const Args& args) {
  if (!args.evaluate) {
    if (args.episodes || args.seed) throw UsageError("--episodes and --seed go with --evaluate");
    return;
  }
  if (!args.config.empty() || args.resume || args.out || args.watch || !args.overrides.empty() ||
      args.seeds || args.jobs) {
    throw UsageError(
        "--evaluate takes no config, --resume, --out, --set, --watch, --seeds or --jobs");
  }
}

// Checks --seeds and --jobs against the other options (--jobs with --resume is checked once
// the folder is known to hold seeds).
void check_seeds_args(const Args& args) {
  if (!args.seeds) {
    if (args.jobs && !args.resume) throw UsageError("--jobs goes with --seeds");
    return;
  }
  if (args.resume) {
    throw UsageError("--seeds cannot be combined with --resume (the folder lists its seeds)");
  }
  if (args.watch) throw UsageError("--watch cannot be combined with --seeds");
  for (const std::string& assignment : args.overrides) {
    if (assignment.rfind("seed=", 0) == 0) {
      throw UsageError("--set " + assignment +
                       " cannot be combined with --seeds (each seed sets it)");
    }
  }
}

void check_train_args(const Args& args) {
  if (args.resume && !args.config.empty()) {
    throw UsageError("give either a config or --resume DIR, not both");
  }
  if (args.resume && args.out) throw UsageError("--out cannot be combined with --resume");
  if (!args.resume && args.config.empty()) {
    throw UsageError("no config given (e.g. rltrain configs/dqn.yaml)");
  }
}

// Stores the value of a text option into an optional.
CLI::Option* add_text(CLI::App& app, const std::string& flag, std::optional<std::string>& target,
                      const std::string& doc) {
  return rl::cli::add_value(app, flag, doc, [&target](const std::string& text) { target = text; });
}

Args parse_args(int argc, char** argv) {
  Args args;
  CLI::App app("", "rltrain");
  rl::cli::configure(app, kSynopsis, kDescription, kFooter);
  app.add_option("CONFIG", args.config,
                 "a config file, or the bare name of a shipped one (dqn.yaml, dqn_cartpole)")
      ->type_name("");
  add_text(app, "--out", args.out, "run folder to create (must not hold a run already)")
      ->type_name("DIR");
  rl::cli::add_repeated(app, "--set", args.overrides, "K=V",
                        "override a config value before validation, e.g. --set agent.lr=1e-4 "
                        "(repeatable)");
  add_text(app, "--resume", args.resume,
           "continue the run in DIR from checkpoints/latest.pt (counters continue), or from the "
           "newest valid checkpoint when it is corrupt")
      ->type_name("DIR");
  app.add_flag("--watch", args.watch,
               "open a window showing the current policy play greedily on its own env copy "
               "(weights refreshed every 2 s and after each evaluation); closing it does not "
               "stop training. Needs a display (or xvfb-run).");
  add_text(app, "--evaluate", args.evaluate,
           "evaluate a checkpoint as the trainer does (its config's eval_epsilon and env "
           "parameters) and print mean, std and standard error of the returns")
      ->type_name("FILE");
  rl::cli::add_value(app, "--seeds",
                     "train once per seed (e.g. 1-5 or 1,3,7) into DIR/seed-<k>/ (DIR: --out or "
                     "runs/<name>), then write the aggregate DIR/summary.json",
                     [&args](const std::string& text) {
                       try {
                         args.seeds = rl::multi_seed::parse_seed_list(text);
                       } catch (const std::invalid_argument& e) {
                         throw UsageError(std::string("--seeds ") + e.what());
                       }
                     })
      ->type_name("LIST");
  rl::cli::add_int(app, "--jobs", args.jobs, 1, 64,
                   "with --seeds (or --resume of a --seeds folder): seeds trained at once, each "
                   "a child rltrain process (default 1)");
  rl::cli::add_int(app, "--episodes", args.episodes, 1, INT64_MAX,
                   "with --evaluate: episodes (default: the config's train.eval_episodes)");
  rl::cli::add_int(app, "--seed", args.seed, 0, INT64_MAX,
                   "with --evaluate: env seed of the first episode (default: the trainer's "
                   "evaluation seed, run seed + 1000000; episode k uses N + k - 1)");
  rl::cli::add_int(app, "--nproc", args.nproc, 1, 256,
                   "train this run in N processes on this machine (data-parallel, loopback; "
                   "rank 0 prints the progress and writes the run folder)");
  rl::cli::add_int(app, "--rank", args.rank, 0, 1 << 20,
                   "this process's rank in a multi-machine run (with --world-size and --master)");
  rl::cli::add_int(app, "--world-size", args.world_size, 1, 1 << 20,
                   "processes in a multi-machine run");
  add_text(app, "--master", args.master,
           "HOST:PORT of rank 0's rendezvous store (default 127.0.0.1:29500)")
      ->type_name("HOST:PORT");
  app.add_flag("--list", args.list,
               "list every env id, agent type and wrapper with a one-line description");
  if (!rl::cli::parse(app, std::vector<std::string>(argv + 1, argv + argc))) {
    args.help = app.help();
    return args;
  }
  if (args.list) return args;
  check_evaluate_args(args);
  check_distributed_args(args);
  if (!args.evaluate) {
    check_train_args(args);
    check_seeds_args(args);
  }
  return args;
}

// A path as given, or a shipped config found by bare name in ./configs or the source tree.
std::string find_config(const std::string& name) {
  if (fs::exists(name)) return name;
  std::vector<std::string> tried = {name};
  if (name.find('/') == std::string::npos) {
    const std::string file = fs::path(name).has_extension() ? name : name + ".yaml";
    for (const fs::path& dir : {fs::path("configs"), fs::path(RLCADE_SOURCE_DIR) / "configs"}) {
      const fs::path candidate = dir / file;
      if (fs::exists(candidate)) return candidate.string();
      tried.push_back(candidate.string());
    }
  }
  std::string message = "config '" + name + "' not found (looked for";
  for (size_t i = 0; i < tried.size(); ++i) message += (i ? ", " : " ") + tried[i];
  throw rl::ConfigError(message + ")");
}

// True when `dir` holds a run or a multi-seed run.
bool holds_run(const fs::path& dir) {
  return fs::exists(dir / "config.yaml") || rl::multi_seed::is_multi_seed_folder(dir);
}

// runs/<name>, or runs/<name>-2, -3, ... when a run already lives there.
std::string choose_run_dir(const rl::Experiment& experiment,
                           const std::optional<std::string>& out) {
  if (out) {
    if (holds_run(*out)) {
      throw UsageError("--out " + *out + " already holds a run; choose another folder or " +
                       "continue it with --resume " + *out);
    }
    return *out;
  }
  const fs::path base = fs::path("runs") / experiment.run().name;
  fs::path dir = base;
  for (int i = 2; holds_run(dir); ++i) {
    dir = base.string() + "-" + std::to_string(i);
  }
  return dir.string();
}

void print_list(std::ostream& out) {
  const auto& envs = rl::EnvRegistry::global();
  out << "envs:\n";
  for (const std::string& id : envs.ids()) {
    out << "  " << id << std::string(id.size() < 34 ? 34 - id.size() : 1, ' ')
        << envs.find(id).description << '\n';
  }
  out << "agents:\n";
  const auto& agents = rl::AgentRegistry::global();
  for (const std::string& type : agents.types()) {
    out << "  " << type << std::string(type.size() < 34 ? 34 - type.size() : 1, ' ')
        << agents.find(type).description << '\n';
  }
  out << "wrappers (env.wrappers: [{name: ..., params: {...}}]):\n";
  for (const rl::WrapperInfo& w : rl::wrapper_catalog()) {
    out << "  " << w.name << std::string(w.name.size() < 34 ? 34 - w.name.size() : 1, ' ')
        << w.description << '\n';
  }
}

// --evaluate: the checkpoint's agent on fresh episodes, as the trainer's evaluation runs them.
int evaluate_checkpoint(const Args& args) {
  // A corrupt or truncated file gives way to the newest valid checkpoint of its folder.
  const rl::CheckpointChoice checkpoint = rl::choose_valid_checkpoint(*args.evaluate);
  for (const std::string& line : checkpoint.report()) std::cerr << "rltrain: " << line << '\n';
  rl::TrainerState state;
  rl::Experiment experiment = rl::load_experiment_from_checkpoint(checkpoint.path, &state);
  const rl::TrainConfig& train = experiment.run().train;
  const int64_t episodes = args.episodes.value_or(train.eval_episodes);
  const uint64_t seed = args.seed.value_or(experiment.run().seed + rl::kEvaluationSeedOffset);
  rl::set_compute_threads(static_cast<int>(train.threads));
  std::cerr << "rltrain: evaluating " << checkpoint.path << " (" << experiment.run().agent_type
            << " on " << experiment.run().env.id << ", step " << state.env_steps
            << "): " << episodes << " episodes from seed " << seed << '\n';
  const rl::EvalResult result = rl::evaluate(experiment, episodes, seed, train.eval_max_steps);
  const double standard_error = result.std / std::sqrt(static_cast<double>(episodes));
  std::cout << "eval over " << episodes << " episodes: mean " << result.mean << " +- std "
            << result.std << " (standard error " << standard_error << ")";
  if (std::isfinite(result.success_rate)) std::cout << ", success " << result.success_rate;
  std::cout << std::endl;
  return kExitOk;
}

// Refuses (exit code 2) an agent without multi-process training.
void check_data_parallel(const rl::Experiment& experiment) {
  try {
    rl::distributed::check_data_parallel(*experiment.agent);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// The processes of each run: --nproc N, else 1.
int processes(const Args& args) { return static_cast<int>(args.nproc.value_or(1)); }

rl::multi_seed::Options multi_seed_options(const Args& args, const std::string& dir) {
  rl::multi_seed::Options options;
  options.dir = dir;
  options.jobs = static_cast<int>(args.jobs.value_or(1));
  if (args.nproc && *args.nproc > 1) options.seed_args = {"--nproc", std::to_string(*args.nproc)};
  options.log = &std::cerr;
  options.out = &std::cout;
  return options;
}

// --seeds: validates the config once, then trains it per seed.
int train_seeds(const Args& args) {
  rl::Experiment experiment = rl::build_experiment(
      rl::load_config(find_config(args.config), args.overrides), processes(args));
  if (processes(args) > 1) check_data_parallel(experiment);
  const std::string dir = choose_run_dir(experiment, args.out);
  std::cerr << "rltrain: " << experiment.run().agent_type << " on " << experiment.run().env.id
            << ", " << rl::format_count(static_cast<double>(experiment.run().train.total_steps))
            << " steps, seeds " << rl::multi_seed::describe_seeds(*args.seeds) << " -> " << dir
            << '\n';
  return rl::multi_seed::start(multi_seed_options(args, dir), experiment.run().name,
                               experiment.resolved_yaml, *args.seeds);
}

// --resume of a --seeds folder: checks --set against its config, then trains what is left.
int resume_seeds(const Args& args) {
  rl::multi_seed::Options options = multi_seed_options(args, *args.resume);
  options.overrides = args.overrides;
  const rl::Experiment experiment = rl::build_experiment(
      rl::load_config((options.dir / "seeds_config.yaml").string(), args.overrides),
      processes(args));
  options.steps_to_finish = experiment.run().train.total_steps;  // --set may have raised it.
  if (args.watch) throw UsageError("--watch cannot be combined with the --resume of seeds");
  return rl::multi_seed::train_seeds(options);
}

// This process's place in a distributed run: from --rank/--world-size/--master, else from
// torchrun's or SLURM's environment variables; nothing for a run of one process.
std::optional<rl::distributed::LaunchSpec> launch_spec(const Args& args) {
  try {
    if (!args.rank) return rl::distributed::launch_from_environment();
    rl::distributed::LaunchSpec spec;
    spec.source = "--rank/--world-size";
    spec.rank = static_cast<int>(*args.rank);
    spec.world_size = static_cast<int>(*args.world_size);
    if (args.master) {
      std::tie(spec.master_host, spec.master_port) =
          rl::distributed::parse_host_port(*args.master, "--master");
    }
    if (const char* name = std::getenv("GLOO_SOCKET_IFNAME"); name && *name) spec.interface = name;
    spec.store_hosted_elsewhere = std::getenv(rl::local_launch::kStoreHostedVariable) != nullptr;
    if (spec.world_size == 1) return std::nullopt;
    return spec;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// --nproc N: validates the config and the run folder once, then starts the N workers.
int launch_local(const Args& args) {
  const std::string config =
      args.resume ? (fs::path(*args.resume) / "config.yaml").string() : find_config(args.config);
  if (args.resume && !fs::exists(config)) {
    throw rl::ConfigError("--resume " + *args.resume + ": no run there (missing " + config + ")");
  }
  rl::Experiment experiment =
      rl::build_experiment(rl::load_config(config, args.overrides), static_cast<int>(*args.nproc));
  check_data_parallel(experiment);
  std::vector<std::string> worker_args = {"--resume", config};
  if (args.resume) {
    worker_args[1] = *args.resume;
  } else {
    worker_args = {config, "--out", choose_run_dir(experiment, args.out)};
  }
  for (const std::string& o : args.overrides) worker_args.insert(worker_args.end(), {"--set", o});
  rl::local_launch::Options options;
  options.processes = static_cast<int>(*args.nproc);
  options.worker_args = worker_args;
  options.timeout_s = experiment.run().distributed.timeout_s;
  options.log = &std::cerr;
  return rl::local_launch::run(options);
}

// Joins the group of a multi-process run; returns the run folder rank 0 chose.
std::string join_group(const Args& args, const rl::Experiment& experiment,
                       const rl::distributed::LaunchSpec& launch, std::string run_dir,
                       std::unique_ptr<rl::distributed::GlooGroup>& group) {
  check_data_parallel(experiment);
  if (args.watch) throw UsageError("--watch cannot be combined with a multi-process run");
  const auto timeout = std::chrono::milliseconds(
      static_cast<int64_t>(experiment.run().distributed.timeout_s * 1000.0));
  group = rl::distributed::GlooGroup::connect(
      launch, {timeout, rl::distributed::config_hash(experiment.resolved_yaml),
               experiment.run().distributed.gradient_dtype});
  // Rank 0 chooses the run folder (the others only read it, to resume).
  if (!args.resume && launch.rank == 0) run_dir = choose_run_dir(experiment, args.out);
  return group->share_from_rank0("run_dir", run_dir);
}

void print_start(const rl::Experiment& experiment, const std::string& run_dir,
                 const std::optional<rl::distributed::LaunchSpec>& launch) {
  std::cerr << "rltrain: " << experiment.run().agent_type << " on " << experiment.run().env.id
            << " (" << experiment.env_spec.observation_space.describe() << " -> "
            << experiment.env_spec.action_space.describe() << "), "
            << rl::format_count(static_cast<double>(experiment.run().train.total_steps))
            << " steps, seed " << experiment.run().seed << " -> " << run_dir << '\n'
            << "rltrain: " << experiment.agent->describe() << '\n';
  if (launch) {
    std::cerr << "rltrain: " << launch->world_size << " processes (data-parallel), master "
              << launch->master_host << ":" << launch->master_port << " (" << launch->source
              << ")\n";
  }
  std::cerr << "rltrain: " << rl::blas_description() << '\n';
}

int run(const Args& args) {
  if (args.evaluate) return evaluate_checkpoint(args);
  if (args.seeds) return train_seeds(args);
  if (args.resume && rl::multi_seed::is_multi_seed_folder(*args.resume)) return resume_seeds(args);
  if (processes(args) > 1) return launch_local(args);
  if (args.jobs) throw UsageError("--jobs goes with --seeds or the --resume of a --seeds folder");
  std::string run_dir;
  rl::ConfigDocument document = [&] {
    if (!args.resume) return rl::load_config(find_config(args.config), args.overrides);
    run_dir = *args.resume;
    const fs::path config = fs::path(run_dir) / "config.yaml";
    if (!fs::exists(config)) {
      throw rl::ConfigError("--resume " + run_dir + ": no run there (missing " + config.string() +
                            ")");
    }
    return rl::load_config(config.string(), args.overrides);
  }();
  const std::optional<rl::distributed::LaunchSpec> launch = launch_spec(args);
  rl::Experiment experiment =
      rl::build_experiment(std::move(document), launch ? launch->world_size : 1);
  std::unique_ptr<rl::distributed::GlooGroup> group;
  if (launch) {
    run_dir = join_group(args, experiment, *launch, run_dir, group);
  } else if (!args.resume) {
    run_dir = choose_run_dir(experiment, args.out);
  }
  const bool quiet = launch && launch->rank != 0;  // Ranks other than 0 print errors only.
  if (!quiet) print_start(experiment, run_dir, launch);
  rl::set_compute_threads(static_cast<int>(experiment.run().train.threads));

  std::unique_ptr<rl::train_watch::WatchWindow> watch;
  if (args.watch) {
    try {
      watch = std::make_unique<rl::train_watch::WatchWindow>(experiment);
    } catch (const std::runtime_error& e) {
      throw UsageError(std::string("--watch: ") + e.what());
    }
  }

  rl::TrainOptions options;
  options.run_dir = run_dir;
  options.resume = args.resume.has_value();
  options.log = quiet ? nullptr : &std::cerr;
  options.interactive = rl::is_terminal(std::cerr);
  options.stop_requested = &g_stop_requested;
  options.collectives = group.get();
  if (watch) {
    options.on_snapshot = [&watch](const rl::Experiment& e, int64_t steps) {
      watch->on_snapshot(e, steps);
    };
    options.snapshot_seconds = rl::train_watch::WatchWindow::kSnapshotSeconds;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const rl::TrainSummary summary = rl::train(experiment, options);
  if (watch) std::cerr << "rltrain: " << watch->finish() << '\n';
  if (!quiet) std::cout << summary.one_line() << std::endl;
  if (group && !quiet) {
    std::cerr << "rltrain: rank 0's collectives: "
              << rl::distributed::describe(group->traffic(), summary.wall_seconds) << '\n';
  }
  return summary.interrupted ? interrupted_exit_code() : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    if (args.help) {
      std::cout << *args.help;
      return kExitOk;
    }
    if (args.list) {
      print_list(std::cout);
      return kExitOk;
    }
    return run(args);
  } catch (const UsageError& e) {
    std::cerr << rl::cli::usage_error_line("rltrain", e.what());
    return kExitUsage;
  } catch (const rl::ConfigError& e) {
    std::cerr << "rltrain: " << e.what() << '\n';
    return kExitUsage;
  } catch (const c10::Error& e) {  // LibTorch errors carry a backtrace: leave it out.
    std::cerr << "rltrain: error: " << e.what_without_backtrace() << '\n';
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "rltrain: error: " << e.what() << '\n';
    return kExitFailure;
  }
}

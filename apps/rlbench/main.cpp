// rlbench: speed and sanity benchmarks, printed as a table or, with --json, as JSON.
//   rlbench                      every default case (env throughput of all envs, DQN e2e)
//   rlbench --env classic/cartpole-v1 [--episodes 100]
//   rlbench --case dqn_cartpole_e2e --steps 100000 --json
//   rlbench --zoo [--configs a,b] [--seeds N] [--jobs N] [--smoke] [--out DIR] [--docs FILE]
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "agents/torch_setup.h"
#include "apps/rlbench/bench.h"
#include "apps/rlbench/zoo.h"
#include "core/command_line.h"
#include "core/config.h"
#include "core/json.h"
#include "core/metrics.h"

namespace rl::bench {

std::vector<BenchCase>& bench_cases() {
  static std::vector<BenchCase> cases;
  return cases;
}

namespace {

const char kSynopsis[] =
    R"(rlbench [--case NAME]... [--env ID] [--episodes N] [--steps N] [--seconds S] [--seed N]
               [--json]
       rlbench --zoo [--configs NAME,...] [--seeds N] [--jobs N] [--smoke] [--out DIR]
               [--docs FILE]
       rlbench --list | --help)";

const char kDescription[] =
    "Speed and sanity benchmarks (env throughput, training cases), printed as a table or JSON.\n"
    "--zoo trains the shipped configs (configs/*.yaml) over seeds 1..N with rltrain --seeds into\n"
    "DIR/<config>/ (default runs/zoo; a rerun continues unfinished seeds, also those trained to a\n"
    "shorter budget than the target now asks), judges each config's\n"
    "target: by its final policy, and writes DIR/zoo.md (the table; --docs FILE replaces in FILE\n"
    "the rows of the configs measured and keeps the others), DIR/zoo.json and DIR/report.html. "
    "--smoke: every config on one seed for a tiny\n"
    "budget (does it load, train, evaluate, get judged?), into runs/zoo-smoke by default.\n";

const char kFooter[] =
    "Exit codes: 0 done, 1 failed while running (a case failed, e.g. python3 missing or a "
    "LibTorch\n"
    "error; --zoo: a config failed to train or missed its target, except with --smoke\n"
    "runs), 2 bad arguments, also those a case rejects (e.g. --steps it does not accept)\n"
    "and, with --zoo, a config that does not load, 130 interrupted (Ctrl-C; --zoo continues\n"
    "where it stopped on a rerun).\n";

struct Args {
  BenchOptions options;
  std::vector<std::string> cases;
  std::optional<std::string> help;  // The help text, when --help was given.
  bool json = false, list = false;
  bool zoo = false;
  ZooOptions zoo_options;
};

// The --zoo options go only with --zoo, and the benchmark options not with it.
void check_zoo_args(const Args& args, const CLI::App& app) {
  const std::vector<std::string> zoo_only = {"--configs", "--seeds", "--jobs",
                                             "--smoke",   "--out",   "--docs"};
  const std::vector<std::string> bench_only = {"--case",    "--env",  "--episodes", "--steps",
                                               "--seconds", "--seed", "--json",     "--list"};
  for (const std::string& flag : args.zoo ? bench_only : zoo_only) {
    if (app.get_option(flag)->count() > 0) {
      throw cli::UsageError(flag +
                            (args.zoo ? " cannot be combined with --zoo" : " goes with --zoo"));
    }
  }
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string name = text.substr(begin, comma - begin);
    if (name.empty())
      throw cli::UsageError("--configs expects names like dqn,ppo, got '" + text + "'");
    names.push_back(name);
    begin = comma + 1;
  }
  return names;
}

// Every --case must name a registered case.
void check_case_names(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    bool known = false;
    std::string valid;
    for (const BenchCase& c : bench_cases()) {
      known = known || c.name == name;
      valid += (valid.empty() ? "" : ", ") + c.name;
    }
    if (!known) throw cli::UsageError("unknown case '" + name + "'; cases: " + valid);
  }
}

Args parse_args(int argc, char** argv) {
  Args args;
  CLI::App app("", "rlbench");
  cli::configure(app, kSynopsis, kDescription, kFooter);
  cli::add_repeated(app, "--case", args.cases, "NAME",
                    "run only this case (repeatable); default: every case");
  cli::add_value(app, "--env", "only this env (env cases); the DQN case always uses CartPole",
                 [&args](const std::string& text) { args.options.env = text; })
      ->type_name("ID");
  cli::add_int(app, "--episodes", args.options.episodes, 1, INT64_MAX,
               "also report mean return and length over N random-play episodes");
  cli::add_int(app, "--steps", args.options.steps, 1, INT64_MAX,
               "env steps for training cases (dqn_cartpole_e2e: default 500000, "
               "dqn_minatar_breakout: default 30000)");
  cli::add_int(app, "--repeat", args.options.repeat, 1, 1000,
               "ddppo_scaling: K rounds of a 1-process, a 2-process and an overlapped 2-process "
               "run, each round's ratios and their medians");
  cli::add_value(app, "--seconds", "measuring time per env for throughput (default 0.3)",
                 [&args](const std::string& text) {
                   args.options.seconds_per_env = cli::float_value(
                       "--seconds", text, [](double x) { return x > 0.0; }, "a positive number");
                 })
      ->type_name("S");
  cli::add_int(app, "--seed", args.options.seed, 0, INT64_MAX,
               "seed for envs and agents (default 0)");
  app.add_flag("--json", args.json, "print results as JSON instead of a table");
  app.add_flag("--list", args.list, "list the cases");
  app.add_flag("--zoo", args.zoo, "train the shipped configs over seeds and judge their targets");
  cli::add_value(app, "--configs", "--zoo: only these configs (names of configs/*.yaml)",
                 [&args](const std::string& text) { args.zoo_options.configs = split_names(text); })
      ->type_name("NAME,...");
  cli::add_value(app, "--seeds", "--zoo: seeds 1..N (default: each target's seeds, 5)",
                 [&args](const std::string& text) {
                   args.zoo_options.seeds = cli::int_value("--seeds", text, 1, 1000);
                 })
      ->type_name("N");
  cli::add_int(app, "--jobs", args.zoo_options.jobs, 1, 64, "--zoo: seeds trained at once");
  app.add_flag("--smoke", args.zoo_options.smoke, "--zoo: every config, tiny budget, one seed");
  cli::add_value(app, "--out", "--zoo: the folder of the runs and tables (default runs/zoo)",
                 [&args](const std::string& text) { args.zoo_options.out = text; })
      ->type_name("DIR");
  cli::add_value(
      app, "--docs",
      "--zoo: also update the table in this file (docs/zoo.md): the rows of the configs measured "
      "are replaced, the others kept with the command that measured them",
      [&args](const std::string& text) { args.zoo_options.docs = text; })
      ->type_name("FILE");
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  if (!cli::parse(app, arguments)) {
    args.help = app.help();
    return args;
  }
  check_zoo_args(args, app);
  args.zoo_options.command = "rlbench";
  for (const std::string& a : arguments) args.zoo_options.command += " " + a;
  check_case_names(args.cases);
  return args;
}

bool selected(const Args& args, const BenchCase& c) {
  if (args.cases.empty()) {
    // --env narrows the default run to env cases.
    return c.by_default && !(args.options.env && c.name.rfind("env_", 0) != 0);
  }
  for (const std::string& name : args.cases) {
    if (name == c.name) return true;
  }
  return false;
}

std::string format_value(const std::string& name, double value) {
  char buffer[64];
  if (std::isnan(value)) return "n/a";
  if (name.find("per_second") != std::string::npos) return format_count(value);
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

void print_table(const BenchResults& results) {
  std::printf("%-22s %-44s %-20s %s\n", "case", "target", "metric", "value");
  for (const BenchResult& r : results) {
    for (size_t i = 0; i < r.metrics.size(); ++i) {
      const auto& [name, value] = r.metrics[i];
      if (name.size() > 7 && name.compare(name.size() - 7, 7, "_stderr") == 0) continue;
      std::string text = format_value(name, value);
      for (const auto& [other, error] : r.metrics) {
        if (other == name + "_stderr") text += " +- " + format_value(name, error);
      }
      std::printf("%-22s %-44s %-20s %s\n", i == 0 ? r.case_name.c_str() : "",
                  i == 0 ? r.target.c_str() : "", name.c_str(), text.c_str());
    }
  }
}

std::string to_json(const BenchResults& results) {
  json::Value root = json::Value::object();
  root.set("blas", blas_description());
  json::Value list = json::Value::array();
  for (const BenchResult& r : results) {
    json::Value item = json::Value::object();
    item.set("case", r.case_name);
    item.set("target", r.target);
    json::Value metrics = json::Value::object();
    for (const auto& [name, value] : r.metrics) {
      metrics.set(name, std::isfinite(value) ? json::Value(value) : json::Value());
    }
    item.set("metrics", metrics);
    list.push_back(item);
  }
  root.set("results", list);
  return json::dump(root);
}

int run(const Args& args) {
  set_compute_threads(1);
  if (!args.json) std::fprintf(stderr, "rlbench: %s\n", blas_description().c_str());
  // Env cases first (quick), then training cases; registration order depends on link order.
  std::vector<BenchCase> cases = bench_cases();
  std::stable_partition(cases.begin(), cases.end(),
                        [](const BenchCase& c) { return c.name.rfind("env_", 0) == 0; });
  BenchResults all;
  for (const BenchCase& c : cases) {
    if (!selected(args, c)) continue;
    if (!args.json) std::fprintf(stderr, "rlbench: running %s ...\n", c.name.c_str());
    std::fflush(stderr);
    BenchResults results = c.run(args.options);
    all.insert(all.end(), results.begin(), results.end());
  }
  if (args.json) {
    std::cout << to_json(all) << std::endl;
  } else {
    print_table(all);
  }
  return 0;
}

}  // namespace
}  // namespace rl::bench

int main(int argc, char** argv) {
  using namespace rl::bench;
  try {
    const Args args = parse_args(argc, argv);
    if (args.help) {
      std::cout << *args.help;
      return rl::cli::kExitOk;
    }
    if (args.zoo) return run_zoo(args.zoo_options);
    if (args.list) {
      for (const BenchCase& c : bench_cases()) {
        std::printf("%-22s %s\n", c.name.c_str(), c.description.c_str());
      }
      return rl::cli::kExitOk;
    }
    return run(args);
  } catch (const rl::cli::UsageError& e) {
    std::cerr << rl::cli::usage_error_line("rlbench", e.what());
    return rl::cli::kExitUsage;
  } catch (const rl::ConfigError& e) {  // --zoo: a config that does not load.
    std::fprintf(stderr, "rlbench: %s\n", e.what());
    return rl::cli::kExitUsage;
  } catch (const std::invalid_argument& e) {  // A case rejecting its options, an unknown --env.
    std::fprintf(stderr, "rlbench: %s\n", e.what());
    return rl::cli::kExitUsage;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "rlbench: error: %s\n", e.what_without_backtrace());
    return rl::cli::kExitFailure;
  } catch (const std::exception& e) {  // A case that failed while running.
    std::fprintf(stderr, "rlbench: error: %s\n", e.what());
    return rl::cli::kExitFailure;
  }
}

// rlbench: speed and sanity benchmarks, printed as a table or, with --json, as JSON.
//   rlbench                      every default case (env throughput of all envs, DQN e2e)
//   rlbench --env classic/cartpole-v1 [--episodes 100]
//   rlbench --case dqn_cartpole_e2e --steps 100000 --json
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "agents/torch_setup.h"
#include "apps/rlbench/bench.h"
#include "core/json.h"
#include "core/metrics.h"

namespace rl::bench {

std::vector<BenchCase>& bench_cases() {
  static std::vector<BenchCase> cases;
  return cases;
}

namespace {

const char kUsage[] =
    R"(usage: rlbench [--case NAME]... [--env ID] [--episodes N] [--steps N] [--seconds S]
               [--seed N] [--json] [--list] [--help]

  --case NAME    run only this case (repeatable); default: every case
  --env ID       only this env (env cases); the DQN case always uses CartPole
  --episodes N   also report mean return and length over N random-play episodes
  --steps N      env steps for training cases (dqn_cartpole_e2e: default 500000,
                 dqn_minatar_breakout: default 30000)
  --seconds S    measuring time per env for throughput (default 0.3)
  --seed N       seed for envs and agents (default 0)
  --json         print results as JSON instead of a table
  --list         list the cases
)";

struct Args {
  BenchOptions options;
  std::vector<std::string> cases;
  bool json = false, list = false, help = false;
};

int64_t parse_int(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    throw std::invalid_argument(flag + " expects an integer, got '" + text + "'");
  }
  return value;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--json") {
      args.json = true;
    } else if (arg == "--list") {
      args.list = true;
    } else if (arg == "--case") {
      args.cases.push_back(value());
    } else if (arg == "--env") {
      args.options.env = value();
    } else if (arg == "--episodes") {
      args.options.episodes = parse_int(arg, value());
    } else if (arg == "--steps") {
      args.options.steps = parse_int(arg, value());
      if (*args.options.steps < 1) throw std::invalid_argument("--steps must be >= 1");
    } else if (arg == "--seed") {
      args.options.seed = static_cast<uint64_t>(parse_int(arg, value()));
    } else if (arg == "--seconds") {
      const std::string text = value();
      char* end = nullptr;
      args.options.seconds_per_env = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(args.options.seconds_per_env > 0)) {
        throw std::invalid_argument("--seconds expects a positive number, got '" + text + "'");
      }
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "' (see rlbench --help)");
    }
  }
  for (const std::string& name : args.cases) {
    bool known = false;
    std::string names;
    for (const BenchCase& c : bench_cases()) {
      known = known || c.name == name;
      names += (names.empty() ? "" : ", ") + c.name;
    }
    if (!known) throw std::invalid_argument("unknown case '" + name + "'; cases: " + names);
  }
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
      std::cout << kUsage;
      return 0;
    }
    if (args.list) {
      for (const BenchCase& c : bench_cases()) {
        std::printf("%-22s %s\n", c.name.c_str(), c.description.c_str());
      }
      return 0;
    }
    return run(args);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "rlbench: error: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rlbench: %s\n", e.what());
    return 2;
  }
}

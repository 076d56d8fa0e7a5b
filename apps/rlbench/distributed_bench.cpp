// rlbench --case ddppo_scaling (issue #13): DD-PPO on MinAtar Breakout
// (configs/ppo_minatar_breakout.yaml, its CNN) in 1 and 2 processes: env steps per second of
// rltrain runs of equal length, and the share of a minibatch update that the gradient
// all-reduce takes between 2 ranks (2 threads of this process on loopback Gloo, the config's
// network and minibatch on LibTorch (its optimizer needs LibTorch's own gradients; the engine
// computes the same minibatch in less time, so training's share is higher: rank 0's collectives
// line of the 2-process run gives it); a warm-up all-reduce before each timed one keeps waiting
// for the slower rank out of the figure). The 2-process run (sums in the calling thread,
// gloo_direct.h) is repeated with overlapped gradient sums (direct_overlap), ProcessGroupGloo's
// sums, busy-polling sums and bfloat16 gradient sums, and each 2-process line is followed by
// where both ranks' time at collectives went (traces). With --repeat K: K rounds of 1 process,
// 2 processes and 2 overlapped, each round's ratios and the medians.
// Also --case ddppo_sums (one gradient all-reduce's CPU per distributed.gradient_dtype) and
// --case ddppo_learning (seeds 1-3 in 1 and 2 processes, evaluations at equal env steps).
#include <sys/resource.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agents/common/on_policy.h"
#include "agents/distributed/gloo_group.h"
#include "agents/experiment.h"
#include "apps/rlbench/bench.h"
#include "apps/rlreport/run_data.h"
#include "core/atomic_file.h"
#include "core/json.h"

namespace rl::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kMinibatchRows = 128 * 16 / 8;  // num_steps x num_envs / num_minibatches.
constexpr int kTimedMinibatches = 40;

fs::path breakout_config() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  const fs::path config =
      fs::path(dir ? dir : RLCADE_SOURCE_DIR) / "configs" / "ppo_minatar_breakout.yaml";
  if (!fs::exists(config)) {
    throw std::runtime_error("ddppo_scaling: " + config.string() +
                             " not found (set RLCADE_SOURCE_DIR to the rlcade checkout)");
  }
  return config;
}

std::string rltrain_command(int64_t steps, int processes, const fs::path& out,
                            const std::string& gradient_dtype = "") {
  const fs::path rltrain = fs::read_symlink("/proc/self/exe").parent_path() / "rltrain";
  // RLCADE_PHASE_TIMES: each process prints where its time went (agents/distributed/phase_times.h).
  std::string command = "RLCADE_PHASE_TIMES=1 " + rltrain.string() + " '" +
                        breakout_config().string() + "' --out '" + out.string() +
                        "' --set train.total_steps=" + std::to_string(steps) +
                        " --set train.eval_every=0 --set train.eval_episodes=1"
                        " --set train.eval_max_steps=100 --set train.log_every=8192"
                        " --set train.checkpoint_every=0 --set train.tensorboard=false";
  if (processes > 1) command += " --nproc " + std::to_string(processes);
  if (!gradient_dtype.empty()) command += " --set distributed.gradient_dtype=" + gradient_dtype;
  return command + " >/dev/null 2>'" + out.string() + ".log'";
}

struct RunFigures {
  double steps_per_second = 0;  // Summed over the runs (each from its summary.json).
  double cpu_seconds = 0;       // User + system CPU of every process of the runs.
  double system_seconds = 0;
  double wall_seconds = 0;            // From starting the processes to their exit.
  std::vector<std::string> phases;    // Each process's time by phase.
  std::string collectives;            // Rank 0's line on its collectives (multi-process runs).
  std::string collectives_breakdown;  // Both ranks' waiting and collective times (2 processes).
};

double child_cpu_seconds(bool system_only) {
  rusage usage{};
  ::getrusage(RUSAGE_CHILDREN, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_stime) + (system_only ? 0.0 : seconds(usage.ru_utime));
}

// Runs the commands at the same time (in one shell) and reads their run folders `outs`.
RunFigures run_rltrain(const std::vector<std::string>& commands,
                       const std::vector<fs::path>& outs) {
  // One command runs as it is (its exit status counts); several run in the background (their
  // summary.json says whether they finished).
  std::string script = commands.front();
  if (commands.size() > 1) {
    script.clear();
    for (const std::string& c : commands) script += c + " & ";
    script += "wait";
  }
  const double cpu_before = child_cpu_seconds(false), system_before = child_cpu_seconds(true);
  const Clock::time_point start = Clock::now();
  const int status = std::system(script.c_str());
  RunFigures figures;
  figures.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  figures.cpu_seconds = child_cpu_seconds(false) - cpu_before;
  figures.system_seconds = child_cpu_seconds(true) - system_before;
  for (const fs::path& out : outs) {
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        !fs::exists(out / "summary.json")) {
      throw std::runtime_error("ddppo_scaling: rltrain failed (" + out.string() +
                               ".log): " + script);
    }
    const json::Value summary = json::parse(read_file((out / "summary.json").string()));
    figures.steps_per_second += summary.find("steps_per_second")->as_number();
    std::istringstream log(read_file(out.string() + ".log"));
    for (std::string line; std::getline(log, line);) {
      const std::string tag = "collectives: ";
      if (const size_t at = line.find(tag); at != std::string::npos) {
        figures.collectives = line.substr(at + tag.size());
      }
      if (const size_t at = line.find("time by phase: "); at != std::string::npos) {
        figures.phases.push_back(line.substr(line.find("rltrain: ") + 9));
      }
    }
  }
  return figures;
}

// One collective as one rank saw it (RLCADE_COLLECTIVE_TRACE, agents/distributed/gloo_group.h).
struct TracedCollective {
  char kind = 0;
  int64_t entry_ns = 0, exit_ns = 0;
};

std::vector<TracedCollective> read_trace(const fs::path& path) {
  std::istringstream text(read_file(path.string()));
  std::vector<TracedCollective> rows;
  std::string line;
  std::getline(text, line);  // The header.
  while (std::getline(text, line)) {
    TracedCollective row;
    long long entry = 0, exit = 0, bytes = 0;
    if (std::sscanf(line.c_str(), "%c\t%lld\t%lld\t%lld", &row.kind, &entry, &exit, &bytes) != 4) {
      throw std::runtime_error("ddppo_scaling: bad line in " + path.string() + ": " + line);
    }
    row.entry_ns = entry;
    row.exit_ns = exit;
    rows.push_back(row);
  }
  return rows;
}

// Where each rank's time at collectives went, from both ranks' traces: waiting for the other
// rank to arrive (the later arrival sets the start), and the collective itself once both were
// in it (data, and the hand-offs between threads), for gradient all-reduces and the rest.
std::string trace_breakdown(const fs::path& prefix) {
  const std::vector<TracedCollective> ranks[2] = {read_trace(prefix.string() + ".rank0.tsv"),
                                                  read_trace(prefix.string() + ".rank1.tsv")};
  if (ranks[0].size() != ranks[1].size()) {
    return "the ranks' traces differ in length (" + std::to_string(ranks[0].size()) + " and " +
           std::to_string(ranks[1].size()) + " collectives)";
  }
  double waiting[2] = {0, 0}, inside[2][2] = {{0, 0}, {0, 0}};  // [rank][gradient?]
  int64_t counts[2] = {0, 0};
  for (size_t i = 0; i < ranks[0].size(); ++i) {
    const int64_t both_in = std::max(ranks[0][i].entry_ns, ranks[1][i].entry_ns);
    const int gradient = ranks[0][i].kind == 'g' ? 1 : 0;
    ++counts[gradient];
    for (int r = 0; r < 2; ++r) {
      waiting[r] += static_cast<double>(both_in - ranks[r][i].entry_ns) / 1e9;
      inside[r][gradient] += static_cast<double>(ranks[r][i].exit_ns - both_in) / 1e9;
    }
  }
  char text[400];
  std::snprintf(text, sizeof text,
                "waiting for the other rank: rank 0 %.2f s, rank 1 %.2f s; once both were in: "
                "%lld gradient all-reduces %.2f/%.2f s (%.2f ms each), %lld others %.2f/%.2f s "
                "(%.2f ms each) on rank 0/1",
                waiting[0], waiting[1], static_cast<long long>(counts[1]), inside[0][1],
                inside[1][1], counts[1] ? 1e3 * inside[0][1] / counts[1] : 0.0,
                static_cast<long long>(counts[0]), inside[0][0], inside[1][0],
                counts[0] ? 1e3 * inside[0][0] / counts[0] : 0.0);
  return text;
}

// Trains `steps` env steps in `processes` processes, with the sums run as RLCADE_COLLECTIVES
// `collectives` says (agents/distributed/gloo_group.cpp; empty: the default). 2 processes:
// with both ranks' collective traces, summarized in `collectives_breakdown`.
// `gradient_dtype` (empty: the default) sets distributed.gradient_dtype.
RunFigures distributed_run(int64_t steps, int processes, const fs::path& out,
                           const std::string& collectives = "",
                           const std::string& gradient_dtype = "") {
  std::string command = rltrain_command(steps, processes, out, gradient_dtype);
  const fs::path trace = out.string() + ".trace";
  if (processes == 2) command = "RLCADE_COLLECTIVE_TRACE='" + trace.string() + "' " + command;
  if (!collectives.empty()) command = "RLCADE_COLLECTIVES=" + collectives + " " + command;
  RunFigures figures = run_rltrain({command}, {out});
  if (processes == 2) figures.collectives_breakdown = trace_breakdown(trace);
  return figures;
}

// Two independent one-process runs of `steps` / 2 at the same time: what two processes get
// from this machine with no communication at all (the ceiling of a 2-process run here).
RunFigures independent_pair(int64_t steps, const fs::path& out) {
  fs::create_directories(out);
  return run_rltrain(
      {rltrain_command(steps / 2, 1, out / "a"), rltrain_command(steps / 2, 1, out / "b")},
      {out / "a", out / "b"});
}

struct UpdateTimes {
  double compute_seconds = 0;    // Forward, backward and the Adam step.
  double allreduce_seconds = 0;  // The gradient all-reduce alone.
};

// One rank's timed minibatch updates of the config's network on random observations.
UpdateTimes time_rank_updates(distributed::GlooGroup& group, Experiment& e) {
  ActorCritic& net = dynamic_cast<OnPolicyAgent&>(*e.agent).network();
  const Space& space = e.env_spec.observation_space;
  std::vector<int64_t> shape = {kMinibatchRows};
  shape.insert(shape.end(), space.shape.begin(), space.shape.end());
  const torch::Tensor observations = torch::rand(shape).round();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-4));
  UpdateTimes times;
  for (int i = 0; i < kTimedMinibatches + 2; ++i) {
    const bool timed = i >= 2;  // Two warm-up minibatches.
    const Clock::time_point start = Clock::now();
    adam.zero_grad();
    const PolicyOutput output = net->forward(observations);
    (output.actor.pow(2).mean() + output.value.pow(2).mean()).backward();
    const Clock::time_point computed = Clock::now();
    double align[1] = {0};
    group.sum(align);  // Both ranks reach the all-reduce: waiting is not timed.
    const Clock::time_point aligned = Clock::now();
    group.average_gradients(net->parameters());
    const Clock::time_point reduced = Clock::now();
    adam.step();
    const Clock::time_point stepped = Clock::now();
    if (!timed) continue;
    times.compute_seconds += std::chrono::duration<double>(computed - start).count() +
                             std::chrono::duration<double>(stepped - reduced).count();
    times.allreduce_seconds += std::chrono::duration<double>(reduced - aligned).count();
  }
  return times;
}

// Runs `body(group)` on 2 ranks (threads of this process) joined on loopback, their sums in
// `dtype`; throws naming `what` when a rank failed.
void run_on_two_ranks(const std::function<void(distributed::GlooGroup&)>& body,
                      distributed::GradientDtype dtype, const std::string& what) {
  distributed::StoreServer store;
  std::string errors;
  std::mutex mutex;
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        const distributed::LaunchSpec spec =
            distributed::loopback_rank(rank, 2, store.port(), "rlbench");
        const auto group =
            distributed::GlooGroup::connect(spec, {std::chrono::seconds(60), "b", dtype});
        body(*group);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        errors += e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  if (!errors.empty()) throw std::runtime_error(what + ": " + errors);
}

// Rank 0's update times over 2 ranks.
UpdateTimes two_rank_update_times() {
  ConfigDocument config =
      load_config(breakout_config().string(), {"train.threads=1", "agent.backend=torch"});
  std::vector<Experiment> experiments;
  experiments.reserve(2);
  for (int rank = 0; rank < 2; ++rank) experiments.push_back(build_experiment(config));
  torch::set_num_threads(1);
  UpdateTimes rank0;
  run_on_two_ranks(
      [&](distributed::GlooGroup& group) {
        const UpdateTimes times = time_rank_updates(group, experiments[group.rank()]);
        if (group.rank() == 0) rank0 = times;
      },
      distributed::GradientDtype::kFloat32, "ddppo_scaling");
  return rank0;
}

void print_figures(const char* what, const RunFigures& f, int64_t steps) {
  std::printf(
      "ddppo_scaling: %-34s %7.0f env steps/s, %6.1f CPU s (%5.1f system); from the processes' "
      "start to their exit %.2f s (%.0f env steps/s)\n",
      what, f.steps_per_second, f.cpu_seconds, f.system_seconds, f.wall_seconds,
      static_cast<double>(steps) / f.wall_seconds);
  for (const std::string& line : f.phases) std::printf("ddppo_scaling:   %s\n", line.c_str());
  if (!f.collectives.empty()) std::printf("ddppo_scaling:   rank 0: %s\n", f.collectives.c_str());
  if (!f.collectives_breakdown.empty()) {
    std::printf("ddppo_scaling:   %s\n", f.collectives_breakdown.c_str());
  }
}

// The CPU seconds of the update phase, summed over the processes of a run (their phase lines).
double update_cpu_seconds(const RunFigures& f) {
  double total = 0;
  for (const std::string& line : f.phases) {
    const size_t at = line.find(" update ");
    double wall = 0, cpu = 0;
    if (at == std::string::npos ||
        std::sscanf(line.c_str() + at, " update %lf s wall / %lf s CPU", &wall, &cpu) != 2) {
      throw std::runtime_error("ddppo_scaling: no update phase in: " + line);
    }
    total += cpu;
  }
  return total;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// --repeat K: K rounds of 1 process, 2 processes (calling-thread sums, the default) and 2
// processes with overlapped gradient sums (RLCADE_COLLECTIVES=direct_overlap), the order
// rotated each round so that a drift of the machine's load favours none; each round's ratios to
// its 1-process run, the update phase's CPU seconds, and the medians over the rounds.
BenchResults repeated_scaling(int64_t steps, int64_t rounds, const fs::path& out) {
  const char* names[3] = {"1 process", "2 processes (direct)", "2 processes (direct_overlap)"};
  std::vector<double> ratios[2], update_cpu[3];
  for (int64_t round = 0; round < rounds; ++round) {
    RunFigures figures[3];
    for (int k = 0; k < 3; ++k) {
      const int variant = static_cast<int>((k + round) % 3);
      const fs::path dir = out / ("r" + std::to_string(round) + "v" + std::to_string(variant));
      figures[variant] = variant == 0   ? distributed_run(steps, 1, dir)
                         : variant == 1 ? distributed_run(steps, 2, dir)
                                        : distributed_run(steps, 2, dir, "direct_overlap");
    }
    std::printf("ddppo_scaling: round %lld, load average %s", static_cast<long long>(round + 1),
                read_file("/proc/loadavg").c_str());
    for (int v = 0; v < 3; ++v) {
      update_cpu[v].push_back(update_cpu_seconds(figures[v]));
      print_figures(names[v], figures[v], steps);
    }
    for (int v = 1; v < 3; ++v) {
      ratios[v - 1].push_back(figures[v].steps_per_second / figures[0].steps_per_second);
    }
    std::printf(
        "ddppo_scaling: round %lld: %.2fx (direct), %.2fx (direct_overlap); update CPU s, all "
        "processes: %.2f / %.2f / %.2f\n",
        static_cast<long long>(round + 1), ratios[0].back(), ratios[1].back(), update_cpu[0].back(),
        update_cpu[1].back(), update_cpu[2].back());
  }
  std::printf(
      "ddppo_scaling: medians over %lld rounds: %.2fx (direct), %.2fx (direct_overlap); update "
      "CPU s %.2f / %.2f / %.2f\n",
      static_cast<long long>(rounds), median(ratios[0]), median(ratios[1]), median(update_cpu[0]),
      median(update_cpu[1]), median(update_cpu[2]));
  return {{"ddppo_scaling",
           "minatar/breakout-v0 ppo, " + std::to_string(steps) + " steps, median of " +
               std::to_string(rounds) + " rounds",
           {{"speedup", median(ratios[0])},
            {"speedup_overlap", median(ratios[1])},
            {"update_cpu_seconds_1proc", median(update_cpu[0])},
            {"update_cpu_seconds_2proc", median(update_cpu[1])},
            {"update_cpu_seconds_2proc_overlap", median(update_cpu[2])}}}};
}

BenchResults run_ddppo_scaling(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(65536);
  if (options.repeat) {
    const fs::path out =
        fs::temp_directory_path() / ("rlbench_ddppo_" + std::to_string(::getpid()));
    fs::remove_all(out);
    fs::create_directories(out);
    try {
      BenchResults results = repeated_scaling(steps, *options.repeat, out);
      fs::remove_all(out);
      return results;
    } catch (...) {
      fs::remove_all(out);
      throw;
    }
  }
  const fs::path out = fs::temp_directory_path() / ("rlbench_ddppo_" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  BenchResult speed{
      "ddppo_scaling", "minatar/breakout-v0 ppo, " + std::to_string(steps) + " steps", {}};
  std::printf("ddppo_scaling: load average before: %s", read_file("/proc/loadavg").c_str());
  try {
    const RunFigures one = distributed_run(steps, 1, out / "n1");
    print_figures("1 process", one, steps);
    const RunFigures two = distributed_run(steps, 2, out / "n2");
    print_figures("2 processes (--nproc 2: sums in the calling thread)", two, steps);
    const RunFigures overlap = distributed_run(steps, 2, out / "n2overlap", "direct_overlap");
    print_figures("2 processes, overlapped gradient sums", overlap, steps);
    const RunFigures pg = distributed_run(steps, 2, out / "n2pg", "process_group");
    print_figures("2 processes, ProcessGroupGloo's sums", pg, steps);
    const RunFigures polling = distributed_run(steps, 2, out / "n2poll", "direct_busy_poll");
    print_figures("2 processes, busy-polling sums", polling, steps);
    const RunFigures bf16 = distributed_run(steps, 2, out / "n2bf16", "", "bfloat16");
    print_figures("2 processes, bfloat16 gradient sums", bf16, steps);
    const RunFigures pair = independent_pair(steps, out / "pair");
    print_figures("2 independent 1-process runs", pair, steps);
    speed.metrics = {{"steps_per_second_1proc", one.steps_per_second},
                     {"steps_per_second_2proc", two.steps_per_second},
                     {"speedup", two.steps_per_second / one.steps_per_second},
                     {"steps_per_second_2proc_overlap", overlap.steps_per_second},
                     {"speedup_overlap", overlap.steps_per_second / one.steps_per_second},
                     {"steps_per_second_2proc_process_group", pg.steps_per_second},
                     {"steps_per_second_2proc_busy_poll", polling.steps_per_second},
                     {"steps_per_second_2proc_bfloat16", bf16.steps_per_second},
                     {"steps_per_second_2_independent", pair.steps_per_second},
                     {"independent_speedup", pair.steps_per_second / one.steps_per_second},
                     {"cpu_seconds_1proc", one.cpu_seconds},
                     {"cpu_seconds_2proc", two.cpu_seconds},
                     {"system_seconds_2proc", two.system_seconds}};
  } catch (...) {
    fs::remove_all(out);
    throw;
  }
  fs::remove_all(out);
  std::printf("ddppo_scaling: load average after: %s", read_file("/proc/loadavg").c_str());
  const UpdateTimes times = two_rank_update_times();
  const double per = 1000.0 / kTimedMinibatches;
  BenchResult update{"ddppo_scaling",
                     "all-reduce per " + std::to_string(kMinibatchRows) + "-row minibatch, 2 ranks",
                     {{"compute_ms", times.compute_seconds * per},
                      {"allreduce_ms", times.allreduce_seconds * per},
                      {"allreduce_share", times.allreduce_seconds /
                                              (times.compute_seconds + times.allreduce_seconds)}}};
  return {speed, update};
}

RLBENCH_CASE(
    "ddppo_scaling",
    "DD-PPO on MinAtar Breakout: env steps/s in 1 and 2 processes (--steps N, default "
    "65536; --repeat K: K alternating rounds with overlapped sums, ratios and medians) and "
    "the all-reduce share of a minibatch update",
    false, run_ddppo_scaling);

// --- ddppo_sums: the CPU one gradient all-reduce costs, per gradient_dtype ---

constexpr int kTimedSums = 200;

double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct SumTimes {
  double cpu_seconds = 0;   // The calling thread's CPU (user and system) in the sums.
  double wall_seconds = 0;  // Once both ranks were in (an alignment sum comes first).
};

// One rank's kTimedSums averages of `count` gradients laid out as the engine's (views of one
// flat buffer, two parameters).
SumTimes time_rank_sums(distributed::GlooGroup& group, int64_t count) {
  torch::Tensor flat = torch::randn({count});
  std::vector<torch::Tensor> parameters = {torch::zeros({count / 2}),
                                           torch::zeros({count - count / 2})};
  parameters[0].mutable_grad() = flat.narrow(0, 0, count / 2);
  parameters[1].mutable_grad() = flat.narrow(0, count / 2, count - count / 2);
  SumTimes times;
  for (int i = 0; i < kTimedSums + 5; ++i) {
    double align[1] = {0};
    group.sum(align);
    const double cpu = thread_cpu_seconds();
    const Clock::time_point start = Clock::now();
    group.average_gradients(parameters);
    if (i < 5) continue;  // Warm-up: the rings are built on first use.
    times.wall_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    times.cpu_seconds += thread_cpu_seconds() - cpu;
  }
  return times;
}

// Both ranks' sum times over 2 ranks (threads of this process) with `dtype`.
std::vector<SumTimes> two_rank_sum_times(int64_t count, distributed::GradientDtype dtype) {
  std::vector<SumTimes> times(2);
  run_on_two_ranks(
      [&](distributed::GlooGroup& group) { times[group.rank()] = time_rank_sums(group, count); },
      dtype, "ddppo_sums");
  return times;
}

BenchResults run_ddppo_sums(const BenchOptions&) {
  ConfigDocument config = load_config(breakout_config().string(), {"train.threads=1"});
  Experiment experiment = build_experiment(config);
  int64_t count = 0;
  for (const auto& p : dynamic_cast<OnPolicyAgent&>(*experiment.agent).network()->parameters()) {
    count += p.numel();
  }
  torch::set_num_threads(1);
  std::printf("ddppo_sums: load average: %s", read_file("/proc/loadavg").c_str());
  BenchResults results;
  for (const std::string& name : distributed::gradient_dtype_names()) {
    const std::vector<SumTimes> times =
        two_rank_sum_times(count, distributed::parse_gradient_dtype(name));
    const double per = 1e3 / kTimedSums;
    std::printf(
        "ddppo_sums: %-8s %lld gradients: CPU %.3f / %.3f ms per all-reduce on rank 0 / 1, "
        "wall %.3f / %.3f ms\n",
        name.c_str(), static_cast<long long>(count), times[0].cpu_seconds * per,
        times[1].cpu_seconds * per, times[0].wall_seconds * per, times[1].wall_seconds * per);
    results.push_back({"ddppo_sums",
                       name + " gradient all-reduce of the Breakout CNN, 2 ranks",
                       {{"cpu_ms_rank0", times[0].cpu_seconds * per},
                        {"cpu_ms_rank1", times[1].cpu_seconds * per},
                        {"wall_ms_rank0", times[0].wall_seconds * per}}});
  }
  return results;
}

RLBENCH_CASE("ddppo_sums",
             "CPU and wall time of one gradient all-reduce of the MinAtar Breakout CNN between "
             "2 ranks (threads) for each distributed.gradient_dtype",
             false, run_ddppo_sums);

// --- ddppo_learning: evaluations at equal env steps, 1 against 2 processes, seeds 1-3 ---

constexpr int kLearningSeeds = 3;

// Trains seeds 1-3 of the Breakout config for `steps` env steps, evaluating every steps / 4
// (30 episodes), in `processes` processes with the extra `--set` arguments `sets`.
void train_seeds(int64_t steps, int processes, const std::string& sets, const fs::path& out) {
  const fs::path rltrain = fs::read_symlink("/proc/self/exe").parent_path() / "rltrain";
  std::string command = rltrain.string() + " '" + breakout_config().string() + "' --seeds 1-" +
                        std::to_string(kLearningSeeds) + " --out '" + out.string() +
                        "' --set train.total_steps=" + std::to_string(steps) +
                        " --set train.eval_every=" + std::to_string(steps / 4) +
                        " --set train.checkpoint_every=0 --set train.tensorboard=false " + sets;
  if (processes > 1) command += " --nproc " + std::to_string(processes);
  std::printf("ddppo_learning: %s\n", command.c_str());
  std::fflush(stdout);
  const int status = std::system((command + " >'" + out.string() + ".log' 2>&1").c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("ddppo_learning: rltrain failed (" + out.string() + ".log)");
  }
}

// Each seed's evaluations (step -> eval_mean) from its metrics.csv, each step rounded to the
// nearest multiple of `every` (2 processes add 32 envs' steps per loop step, so they evaluate
// at 250016 where one process does at 250000).
std::vector<std::map<int64_t, double>> seed_evaluations(const fs::path& out, int64_t every) {
  std::vector<std::map<int64_t, double>> seeds;
  for (int seed = 1; seed <= kLearningSeeds; ++seed) {
    const report::MetricsTable table =
        report::read_metrics_csv(out / ("seed-" + std::to_string(seed)) / "metrics.csv");
    const int step = table.column("step"), eval = table.column("eval_mean");
    std::map<int64_t, double> evaluations;
    for (const auto& row : table.rows) {
      if (std::isnan(row[eval])) continue;
      evaluations[std::llround(row[step] / static_cast<double>(every)) * every] = row[eval];
    }
    seeds.push_back(std::move(evaluations));
  }
  return seeds;
}

// "s1 s2 s3 (mean m)" at `step`, or "-" for a seed without an evaluation there.
std::string evaluations_at(const std::vector<std::map<int64_t, double>>& seeds, int64_t step,
                           double& mean) {
  std::string text;
  double sum = 0;
  int count = 0;
  for (const auto& seed : seeds) {
    const auto found = seed.find(step);
    char cell[32];
    std::snprintf(cell, sizeof cell, "%6.2f ", found == seed.end() ? NAN : found->second);
    text += cell;
    if (found != seed.end()) sum += found->second, ++count;
  }
  mean = count ? sum / count : NAN;
  char tail[32];
  std::snprintf(tail, sizeof tail, "(mean %5.2f)", mean);
  return text + tail;
}

BenchResults run_ddppo_learning(const BenchOptions& options) {
  const int64_t steps = options.steps.value_or(1'000'000);
  const char* extra = std::getenv("RLCADE_DDPPO_LEARNING_SET");  // --set ... for 2 processes.
  const std::string sets = extra ? extra : "";
  const fs::path out =
      fs::temp_directory_path() / ("rlbench_ddppo_learning_" + std::to_string(::getpid()));
  fs::create_directories(out);
  std::printf("ddppo_learning: run folders kept in %s\n", out.string().c_str());
  train_seeds(steps, 1, "", out / "n1");
  train_seeds(steps, 2, sets, out / "n2");
  const auto one = seed_evaluations(out / "n1", steps / 4);
  const auto two = seed_evaluations(out / "n2", steps / 4);
  std::map<int64_t, int> steps_seen;
  for (const auto& seed : one) {
    for (const auto& [step, value] : seed) ++steps_seen[step];
  }
  BenchResult result{"ddppo_learning",
                     "minatar/breakout-v0 ppo, seeds 1-3, " + std::to_string(steps) + " steps",
                     {}};
  std::printf("ddppo_learning: step      1 process: seeds 1-3              2 processes%s\n",
              sets.empty() ? "" : (" (" + sets + ")").c_str());
  for (const auto& [step, count] : steps_seen) {
    double mean_one = 0, mean_two = 0;
    const std::string a = evaluations_at(one, step, mean_one);
    const std::string b = evaluations_at(two, step, mean_two);
    std::printf("ddppo_learning: %8lld  %s  %s\n", static_cast<long long>(step), a.c_str(),
                b.c_str());
    result.metrics.push_back({"eval_1proc_" + std::to_string(step), mean_one});
    result.metrics.push_back({"eval_2proc_" + std::to_string(step), mean_two});
  }
  return {result};
}

RLBENCH_CASE("ddppo_learning",
             "PPO on MinAtar Breakout, seeds 1-3 in 1 and in 2 processes: evaluations at equal "
             "env steps (--steps N, default 1000000; RLCADE_DDPPO_LEARNING_SET adds --set "
             "arguments to the 2-process runs)",
             false, run_ddppo_learning);

}  // namespace
}  // namespace rl::bench

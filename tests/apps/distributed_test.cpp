// rltrain as several processes on loopback (docs/distributed.md): --nproc 2 trains DD-PPO on
// CartPole into one run folder written by rank 0; a killed rank makes the other exit with an
// error naming it; ranks with different configs, a port in use and an unreachable master get
// clear errors; DQN and SAC train data-parallel; a resume with another number of processes
// warns; a resumed DQN run gives rank 1 its own replay; distributed.split_envs divides the envs
// over the ranks; --seeds runs each seed in N processes.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "apps/distributed_metrics.h"
#include "apps/run_app.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

std::string config(const std::string& name) {
  return (test::source_dir() / "configs" / name).string();
}

// A port for a test's rendezvous, apart from other tests running at the same time.
int test_port(int offset) { return 20000 + (static_cast<int>(::getpid()) * 7 + offset) % 20000; }

// Starts one rank of a PPO CartPole run; its output goes to `log`.
pid_t start_rank(int rank, int port, const fs::path& run, const fs::path& log,
                 std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {config("ppo.yaml"),
                                   "--out",
                                   run.string(),
                                   "--rank",
                                   std::to_string(rank),
                                   "--world-size",
                                   "2",
                                   "--master",
                                   "127.0.0.1:" + std::to_string(port),
                                   "--set",
                                   "distributed.timeout_s=8",
                                   "--set",
                                   "train.eval_episodes=2"};
  args.insert(args.end(), extra.begin(), extra.end());
  const pid_t pid = test::spawn_logged((test::bin_dir() / "rltrain").string(), args, log);
  REQUIRE(pid > 0);
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_CASE("rltrain --nproc 2: DD-PPO on CartPole learns; rank 0 writes the run folder") {
  test::TempDir dir("nproc");
  const fs::path run = dir.path / "run";
  const test::AppResult result =
      test::run_app("rltrain", test::shell_quoted(config("ppo.yaml")) + " --nproc 2 --out " +
                                   test::shell_quoted(run) +
                                   " --set train.total_steps=40000 --set train.eval_every=0"
                                   " --set train.eval_episodes=5");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  CHECK(test::contains(result.output, "2 processes (data-parallel)"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 40000);
  // Random play scores about 20; 40k steps of PPO reach well above 100.
  CHECK(summary.find("final_eval_mean")->as_number() > 100);
  CHECK(fs::exists(run / "checkpoints" / "final.pt"));
  // One summary line: rank 1 is quiet.
  CHECK(result.output.find("done ppo on") == result.output.rfind("done ppo on"));
}

// The first part of a resumed run: 8192 steps of PPO CartPole in 2 processes into `run`.
void train_ppo_8192_steps_in_two_processes(const fs::path& run) {
  const test::AppResult first =
      test::run_app("rltrain", test::shell_quoted(config("ppo.yaml")) + " --nproc 2 --out " +
                                   test::shell_quoted(run) +
                                   " --set train.total_steps=8192 --set train.eval_every=0"
                                   " --set train.eval_episodes=2");
  CAPTURE(first.output);
  REQUIRE(first.exit_code == 0);
}

TEST_CASE("rltrain --nproc 2: --resume continues a distributed run") {
  test::TempDir dir("nproc_resume");
  const fs::path run = dir.path / "run";
  train_ppo_8192_steps_in_two_processes(run);
  const test::AppResult resumed =
      test::run_app("rltrain", "--resume " + test::shell_quoted(run) +
                                   " --nproc 2 --set train.total_steps=16384");
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(test::contains(resumed.output, "resuming " + run.string() + " at step 8192"));
  CHECK(test::contains(resumed.output, "every rank starts new episodes"));
  CHECK_FALSE(test::contains(resumed.output, "the checkpoint was written by a run of"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 16384);
}

TEST_CASE("rltrain ranks: a killed rank makes the other exit with an error naming it") {
  test::TempDir dir("killed_rank");
  const fs::path run = dir.path / "run";
  const int port = test_port(1);
  const auto start = std::chrono::steady_clock::now();
  const pid_t rank0 =
      start_rank(0, port, run, dir.path / "rank0.log",
                 {"--set", "train.total_steps=100000000", "--set", "train.checkpoint_every=2048"});
  ::setenv("RLCADE_INJECT_KILL_AT_STEP", "8192", 1);
  const pid_t rank1 =
      start_rank(1, port, run, dir.path / "rank1.log",
                 {"--set", "train.total_steps=100000000", "--set", "train.checkpoint_every=2048"});
  ::unsetenv("RLCADE_INJECT_KILL_AT_STEP");
  CHECK(wait_exit_code(rank1) == 128 + SIGKILL);
  const int code = wait_exit_code(rank0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string output = read_file((dir.path / "rank0.log").string());
  CAPTURE(output);
  CHECK(code == 1);
  CHECK(test::contains(output, "rank 1 of 2 stopped"));
  CHECK(test::contains(output, "is intact: continue with: rltrain --resume"));
  CHECK(seconds < 60);
  CHECK(fs::exists(run / "checkpoints" / "latest.pt"));
}

TEST_CASE("rltrain ranks: different configs are refused, naming the rank") {
  test::TempDir dir("mismatch");
  const int port = test_port(2);
  const pid_t rank0 = start_rank(0, port, dir.path / "run", dir.path / "rank0.log");
  const pid_t rank1 =
      start_rank(1, port, dir.path / "run", dir.path / "rank1.log", {"--set", "agent.lr=0.002"});
  CHECK(wait_exit_code(rank0) == 2);
  CHECK(wait_exit_code(rank1) == 2);
  const std::string output = read_file((dir.path / "rank1.log").string());
  CAPTURE(output);
  CHECK(test::contains(output, "the config of rank 1 differs from rank 0's"));
  CHECK_FALSE(fs::exists(dir.path / "run" / "metrics.csv"));
}

TEST_CASE("rltrain ranks: a port in use and an unreachable master are clear errors") {
  test::TempDir dir("port");
  const int port = test_port(3);
  // A rank 0 waiting for its partner holds the port.
  const pid_t holder = start_rank(0, port, dir.path / "run", dir.path / "holder.log");
  ::usleep(1'500'000);
  const pid_t second = start_rank(0, port, dir.path / "run2", dir.path / "second.log");
  CHECK(wait_exit_code(second) == 1);
  std::string output = read_file((dir.path / "second.log").string());
  CAPTURE(output);
  CHECK(test::contains(output, "the port is in use"));
  ::kill(holder, SIGKILL);
  wait_exit_code(holder);

  const test::AppResult unreachable = test::run_app(
      "rltrain", test::shell_quoted(config("ppo.yaml")) +
                     " --rank 1 --world-size 2 --master 127.0.0.1:" + std::to_string(test_port(4)) +
                     " --set distributed.timeout_s=2");
  CAPTURE(unreachable.output);
  CHECK(unreachable.exit_code == 1);
  CHECK(test::contains(unreachable.output, "cannot reach the master 127.0.0.1:"));
}

using test::last_metric;

// A short --nproc 2 run of `config_name`: both ranks learn (gradient steps counted), rank 0
// writes the run folder.
void check_two_process_run(const std::string& config_name, const std::string& sets) {
  test::TempDir dir("nproc_" + config_name);
  const fs::path run = dir.path / "run";
  const test::AppResult result =
      test::run_app("rltrain", test::shell_quoted(config(config_name)) + " --nproc 2 --out " +
                                   test::shell_quoted(run) + " --set train.eval_every=0" +
                                   " --set train.eval_episodes=2 --set train.log_every=500" + sets);
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  CHECK(test::contains(result.output, "2 processes (data-parallel)"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 3000);
  CHECK(fs::exists(run / "checkpoints" / "final.pt"));
  // Each rank's replay holds learning_starts (1000) transitions at 2000 env steps of the pair;
  // from then one gradient step per loop step (train_frequency 2 = the pair's steps per loop).
  CHECK(last_metric(run, "gradient_steps") >= 450);
  // Rank 1's own replay buffer, beside rank 0's in latest.pt, for --resume.
  CHECK(fs::exists(run / "checkpoints" / "replay_rank1.bin"));
}

TEST_CASE("rltrain --nproc 2: data-parallel DQN on CartPole") {
  check_two_process_run("dqn_cartpole.yaml",
                        " --set train.total_steps=3000 --set agent.learning_starts=1000"
                        " --set agent.train_frequency=2 --set agent.gradient_steps=1");
}

TEST_CASE("rltrain --nproc 2: data-parallel SAC on Pendulum") {
  check_two_process_run("sac_pendulum.yaml",
                        " --set train.total_steps=3000 --set agent.learning_starts=1000"
                        " --set agent.train_frequency=2");
}

TEST_CASE("rltrain --nproc 2: a resumed DQN run gives each rank its own replay buffer back") {
  test::TempDir dir("nproc_dqn_resume");
  const fs::path run = dir.path / "run";
  const fs::path rank1_replay = run / "checkpoints" / "replay_rank1.bin";
  const test::AppResult first =
      test::run_app("rltrain", test::shell_quoted(config("dqn_cartpole.yaml")) +
                                   " --nproc 2 --out " + test::shell_quoted(run) +
                                   " --set train.total_steps=3000 --set train.eval_every=0"
                                   " --set train.eval_episodes=2 --set agent.learning_starts=1000"
                                   " --set agent.train_frequency=2 --set agent.gradient_steps=1");
  CAPTURE(first.output);
  REQUIRE(first.exit_code == 0);
  const std::string before = read_file(rank1_replay.string());
  // Rank 1's 1500 CartPole transitions: 16-byte observations after a header of under 300 bytes.
  REQUIRE(before.size() > 20000);
  const test::AppResult resumed = test::run_app(
      "rltrain", "--resume " + test::shell_quoted(run) + " --nproc 2 --set train.total_steps=3400");
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(test::contains(resumed.output, "resuming " + run.string() + " at step 3000"));
  const std::string after = read_file(rank1_replay.string());
  CHECK(after.size() > before.size());
  // Rank 1 kept its own first observations (rank 0's copy, or a fresh buffer, has other ones).
  CHECK(after.find(before.substr(300, 256)) != std::string::npos);
}

TEST_CASE("rltrain: resuming with another number of processes warns, naming both") {
  test::TempDir dir("nproc_resize");
  const fs::path run = dir.path / "run";
  train_ppo_8192_steps_in_two_processes(run);
  const test::AppResult resumed = test::run_app(
      "rltrain", "--resume " + test::shell_quoted(run) + " --set train.total_steps=12288");
  CAPTURE(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(test::contains(resumed.output, "resuming " + run.string() + " at step 8192"));
  CHECK(test::contains(resumed.output,
                       "warning: the checkpoint was written by a run of 2 processes, this run "
                       "has 1 process: the weights, optimizer state"));
  const json::Value summary = json::parse(read_file((run / "summary.json").string()));
  CHECK(summary.find("total_steps")->as_number() == 12288);
}

TEST_CASE("rltrain --nproc 2: distributed.split_envs divides env.num_envs over the ranks") {
  test::TempDir dir("nproc_split");
  const fs::path run = dir.path / "run";
  const test::AppResult result = test::run_app(
      "rltrain",
      test::shell_quoted(config("ppo.yaml")) + " --nproc 2 --out " + test::shell_quoted(run) +
          " --set distributed.split_envs=true --set train.total_steps=8192"
          " --set train.eval_every=0 --set train.eval_episodes=2 --set train.log_every=512");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  // 8 envs over both ranks, 32 steps each: 256 rows per update, as in one process (each rank
  // running all 8 envs would make 512-row updates, 16 of them).
  CHECK(last_metric(run, "updates") == 32);
  CHECK(test::contains(read_file((run / "config.yaml").string()), "num_envs: 8"));
  CHECK(test::contains(result.output, "rank 0's collectives: "));
  const test::AppResult odd =
      test::run_app("rltrain", test::shell_quoted(config("ppo.yaml")) + " --nproc 2 --out " +
                                   test::shell_quoted(dir.path / "odd") +
                                   " --set distributed.split_envs=true --set env.num_envs=3");
  CAPTURE(odd.output);
  CHECK(odd.exit_code == 2);
  CHECK(test::contains(odd.output,
                       "distributed.split_envs: env.num_envs (3) must be a multiple of the 2 "
                       "processes"));
  CHECK_FALSE(fs::exists(dir.path / "odd"));
}

// metrics.csv of 8192 steps of PPO on MinAtar Breakout (the engine's CNN) in 2 processes with
// the sums run as RLCADE_COLLECTIVES=`mode` says, without the wall-clock columns (2 and 3);
// `output` gets rltrain's output.
std::string breakout_metrics_without_times(const char* mode, std::string& output) {
  test::TempDir dir(std::string("nproc_breakout_") + mode);
  const fs::path run = dir.path / "run";
  ::setenv("RLCADE_COLLECTIVES", mode, 1);
  const test::AppResult result =
      test::run_app("rltrain", test::shell_quoted(config("ppo_minatar_breakout.yaml")) +
                                   " --nproc 2 --out " + test::shell_quoted(run) +
                                   " --set train.total_steps=8192 --set train.eval_every=0"
                                   " --set train.eval_episodes=1 --set train.eval_max_steps=100"
                                   " --set train.log_every=4096 --set train.checkpoint_every=0"
                                   " --set train.tensorboard=false");
  ::unsetenv("RLCADE_COLLECTIVES");
  output = result.output;
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  std::istringstream csv(read_file((run / "metrics.csv").string()));
  std::string kept;
  for (std::string line; std::getline(csv, line);) {
    const size_t second = line.find(',');
    const size_t fourth = line.find(',', line.find(',', second + 1) + 1);
    REQUIRE(fourth != std::string::npos);
    kept += line.substr(0, second) + line.substr(fourth) + "\n";
  }
  return kept;
}

TEST_CASE("rltrain --nproc 2: overlapped gradient sums (direct_overlap) train bit for bit") {
  std::string direct_output, overlap_output;
  const std::string direct = breakout_metrics_without_times("direct", direct_output);
  const std::string overlapped = breakout_metrics_without_times("direct_overlap", overlap_output);
  CAPTURE(overlap_output);
  // The header, a row per update and the final evaluation's.
  CHECK(std::count(direct.begin(), direct.end(), '\n') == 4);
  CHECK(direct == overlapped);
  CHECK_FALSE(test::contains(direct_output, "overlapped with the backward pass"));
  // Every gradient all-reduce of the 2 updates (4 epochs x 8 minibatches each) overlapped.
  CHECK(test::contains(overlap_output, "64 gradient all-reduces overlapped with the backward"));
}

TEST_CASE("rltrain --seeds 1-2 --nproc 2: each seed a distributed run") {
  test::TempDir dir("nproc_seeds");
  const fs::path out = dir.path / "seeds";
  const test::AppResult result =
      test::run_app("rltrain", test::shell_quoted(config("ppo.yaml")) +
                                   " --seeds 1-2 --nproc 2 --out " + test::shell_quoted(out) +
                                   " --set train.total_steps=2048 --set train.eval_every=0"
                                   " --set train.eval_episodes=2");
  CAPTURE(result.output);
  REQUIRE(result.exit_code == 0);
  for (const char* seed : {"seed-1", "seed-2"}) {
    CAPTURE(seed);
    CHECK(fs::exists(out / seed / "summary.json"));
    CHECK(test::contains(read_file((out / seed / "train.log").string()),
                         "2 processes (data-parallel)"));
  }
  CHECK(fs::exists(out / "summary.json"));
  const test::AppResult jobs = test::run_app(
      "rltrain", test::shell_quoted(config("ppo.yaml")) + " --seeds 1-2 --nproc 2 --jobs 2");
  CHECK(jobs.exit_code == 2);
  CHECK(
      test::contains(jobs.output, "--nproc cannot be combined with --evaluate, --watch or --jobs"));
}

}  // namespace
}  // namespace rl

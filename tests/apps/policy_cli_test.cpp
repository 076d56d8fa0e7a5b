// rlserve --policy as a user runs it: a policy trained on the Python Catch game, served from its
// run folder, plays Catch through the Python PolicyClient (clients/python/examples/
// play_catch.py) and passes the Python client tests; bad policy files and arguments get the
// documented exit codes and name the file.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "export_runs.h"
#include "run_app.h"
#include "test_support.h"

namespace rl::test {
namespace {

// A spawned process, killed (if still running) and reaped when the guard goes.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  int stop(int signal) {
    int status = 0;
    ::kill(pid, signal);
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits until `log` has a line "... on 127.0.0.1:PORT ..." and returns "127.0.0.1:PORT".
std::string wait_for_address(const std::filesystem::path& log) {
  const std::regex served(R"(serving .* on (127\.0\.0\.1:[0-9]+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string text = read_text(log);
    if (std::regex_search(text, match, served)) return match[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("no address in ", log.string(), ": ", read_text(log));
  return "";
}

ChildGuard spawn(const std::string& program, const std::vector<std::string>& args,
                 const std::filesystem::path& log) {
  ChildGuard child;
  child.pid = spawn_logged(program, args, log);
  REQUIRE(child.pid > 0);
  return child;
}

TEST_CASE("rlserve --policy RUN: a policy trained on Python Catch plays it through PolicyClient") {
  TempDir dir("policy_catch");
  const std::filesystem::path python_dir = source_dir() / "clients" / "python";
  // Train DQN on the served game, as clients/python/README.md shows.
  ChildGuard game = spawn("/usr/bin/env",
                          {"python3", (python_dir / "examples" / "catch.py").string(), "--port",
                           "0", "--num-envs", "1"},
                          dir.path / "catch.log");
  const std::string game_address = wait_for_address(dir.path / "catch.log");
  const AppResult trained = run_app("rltrain",
                                    shell_quoted(python_dir / "examples" / "catch_dqn.yaml") +
                                        " --out run --set env.params.address=" + game_address,
                                    dir.path);
  REQUIRE_MESSAGE(trained.exit_code == 0, trained.output);
  // Serving a run exports it, which builds its env once for the spaces: the game must be up.
  ChildGuard server =
      spawn((bin_dir() / "rlserve").string(),
            {"--policy", (dir.path / "run").string(), "--port", "0"}, dir.path / "rlserve.log");
  const std::string address = wait_for_address(dir.path / "rlserve.log");
  game.stop(SIGKILL);
  CHECK(contains(read_text(dir.path / "rlserve.log"), "exported"));

  const AppResult played =
      run_command("python3 " + shell_quoted(python_dir / "examples" / "play_catch.py") + " " +
                  address + " --games 20 --seed 100 2>&1");
  INFO(played.output);
  REQUIRE(played.exit_code == 0);
  std::smatch mean;
  REQUIRE(std::regex_search(played.output, mean, std::regex(R"(mean return ([-+0-9.]+) over 20)")));
  CHECK(std::stod(mean[1]) >= 0.8);  // random play: about -0.6

  const AppResult python_tests =
      run_command("RLCADE_POLICY_ADDRESS=" + address + " python3 " +
                  shell_quoted(python_dir / "test_rlcade_wire.py") + " AgainstPolicyServer 2>&1");
  INFO(python_tests.output);
  CHECK(python_tests.exit_code == 0);
  CHECK(contains(python_tests.output, "Ran 4 tests"));

  const AppResult checked = run_app("rlserve", "--check " + address, dir.path);
  INFO(checked.output);
  CHECK(checked.exit_code == 0);
  CHECK(contains(checked.output, "ACT: a legal-action mask restricts the choice"));
  CHECK(server.stop(SIGTERM) == 143);
}

TEST_CASE("rlserve --policy: unreadable policies exit 1 naming the file; bad arguments exit 2") {
  TempDir dir("policy_cli_bad");
  std::ofstream(dir.path / "garbage.pt") << "not a policy";
  const AppResult corrupt = run_app("rlserve", "--policy garbage.pt --port 0", dir.path);
  CHECK(corrupt.exit_code == 1);
  CHECK(contains(corrupt.output, "garbage.pt: not a TorchScript policy file"));

  const AppResult missing = run_app("rlserve", "--policy nowhere.pt --port 0", dir.path);
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.output, "nowhere.pt: no such policy file"));

  const AppResult both = run_app("rlserve", "classic/cartpole-v1 --policy p.pt", dir.path);
  CHECK(both.exit_code == 2);
  CHECK(contains(both.output, "--policy"));
  const AppResult params = run_app("rlserve", "--policy p.pt --param x=1", dir.path);
  CHECK(params.exit_code == 2);
  const AppResult batch = run_app("rlserve", "--policy p.pt --max-act-batch 0", dir.path);
  CHECK(batch.exit_code == 2);
  CHECK(contains(run_app("rlserve", "--help", dir.path).output, "--policy"));
}

TEST_CASE("rlexport exports a recurrent PPO run that play_policy plays; rlserve refuses it") {
  TempDir dir("policy_recurrent");
  train_short_run(dir, "ppo_lstm_cartpole_novel", 512);
  const AppResult exported = run_app("rlexport", "run --out lstm.pt", dir.path);
  REQUIRE_MESSAGE(exported.exit_code == 0, exported.output);
  const AppResult played = run_app("play_policy", "lstm.pt 2 3", dir.path);
  INFO(played.output);
  CHECK(played.exit_code == 0);
  CHECK(contains(played.output, "(ppo) on classic/cartpole-novel-v1: mean return"));

  const AppResult served = run_app("rlserve", "--policy lstm.pt --port 0", dir.path);
  INFO(served.output);
  CHECK(served.exit_code == 1);
  // The shipped config: LSTM 64, an actor and a critic memory of h and c each.
  CHECK(contains(served.output, "lstm.pt: a recurrent policy (256 floats of memory per env)"));
  CHECK(contains(served.output, "serves feed-forward policies only"));
}

}  // namespace
}  // namespace rl::test

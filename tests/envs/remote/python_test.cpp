// The Python side of the protocol (clients/python): its client against our C++ server, its
// server helper (the Catch example) against our conformance checker and our remote env, in
// both connection directions. Each Python process is bounded in time and killed at the end.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/registry.h"
#include "envs/remote/checker.h"
#include "remote_test_util.h"
#include "test_support.h"

extern char** environ;

namespace rl::remote {
namespace {

using namespace testing;

const std::string kPythonDir = (rl::test::source_dir() / "clients/python").string();

// A child process with its stdout and stderr on one pipe.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
    REQUIRE_MESSAGE(rc == 0, "cannot start ", args[0]);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }

  // Reads output until a full line arrives (or the deadline passes: empty string).
  std::string read_line(Millis timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const size_t nl = output_.find('\n', consumed_);
      if (nl != std::string::npos) {
        std::string line = output_.substr(consumed_, nl - consumed_);
        consumed_ = nl + 1;
        return line;
      }
      if (!pump(deadline)) return "";
    }
  }

  // Waits for exit; returns the exit code, or -1 after killing it at the deadline.
  int wait(Millis timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pump(deadline)) {
    }
    int status = 0;
    // The pipe closes while the process exits; give the exit a moment to complete.
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(Millis(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& output() const { return output_; }

 private:
  // Appends available output; false at EOF or the deadline.
  bool pump(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
  size_t consumed_ = 0;
};

// Starts the Catch example on a free port and returns the address it printed.
std::string start_catch(Child& child) {
  const std::string line = child.read_line(Millis(10000));
  const size_t colon = line.rfind(':');
  REQUIRE_MESSAGE(colon != std::string::npos, "unexpected output: ", child.output());
  return "127.0.0.1:" + line.substr(colon + 1);
}

TEST_CASE("python: the client passes its tests against the C++ server") {
  TestServer server(server_options("test/wire_counter-v0"));
  Child python({"python3", kPythonDir + "/test_rlcade_wire.py", server.address()});
  const int rc = python.wait(Millis(60000));
  INFO(python.output());
  CHECK(rc == 0);
  CHECK(python.output().find("skipped") == std::string::npos);
}

TEST_CASE("python: the server helper passes the conformance checker and serves the remote env") {
  Child catch_game({"python3", kPythonDir + "/examples/catch.py", "--port", "0"});
  const std::string address = start_catch(catch_game);
  CheckOptions options;
  options.timeout = Millis(5000);
  for (const auto& r : run_conformance_checks(address, options)) {
    INFO(r.name, ": ", r.detail);
    CHECK(r.passed);
  }
  auto env = EnvRegistry::global().make("remote", {{"address", address}});
  CHECK(env->spec().observation_space == Space::box({10, 5}, 0.f, 1.f, DType::kU8));
  std::vector<uint8_t> obs(50);
  env->reset(11, obs);
  int steps = 0;
  StepResult r;
  do {
    r = env->step(Action::discrete(1), obs);
    ++steps;
  } while (!r.done());
  CHECK(steps == 9);
  CHECK(r.terminated);
  CHECK((r.reward == 1.f || r.reward == -1.f));
}

TEST_CASE("python: reverse mode, the game connects to a listening remote env") {
  const uint16_t port = Listener(Endpoint{"127.0.0.1", 0}).port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  std::map<std::string, ParamValue> params{
      {"address", address}, {"listen", true}, {"accept_timeout_ms", int64_t{10000}}};
  std::unique_ptr<Env> env;
  std::thread trainer([&] { env = EnvRegistry::global().make("remote", params); });
  std::this_thread::sleep_for(Millis(100));  // let the trainer listen first
  Child catch_game({"python3", kPythonDir + "/examples/catch.py", "--connect", address});
  trainer.join();
  REQUIRE(env);
  std::vector<uint8_t> obs(50);
  env->reset(2, obs);
  int ones = 0;
  for (uint8_t b : obs) ones += b;
  CHECK(ones == 2);
  CHECK(!env->step(Action::discrete(0), obs).done());
  env.reset();  // CLOSE ends the game's session and process
  CHECK(catch_game.wait(Millis(10000)) == 0);
}

}  // namespace
}  // namespace rl::remote

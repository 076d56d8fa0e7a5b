// The registry's `remote` env: same trajectories as the local env, lost connections (truncate
// and reconnect with backoff, or stop), reverse (listen) mode, and clear errors for bad
// parameters.
#include <chrono>
#include <cstring>
#include <thread>

#include "core/env_error.h"
#include "core/registry.h"
#include "remote_test_util.h"

namespace rl::remote {
namespace {

using namespace testing;

std::map<std::string, ParamValue> remote_params(const std::string& address) {
  return {{"address", address},
          {"connect_timeout_ms", int64_t{1000}},
          {"handshake_timeout_ms", int64_t{1000}},
          {"step_timeout_ms", int64_t{1000}},
          {"reconnect_attempts", int64_t{3}},
          {"reconnect_backoff_ms", int64_t{10}}};
}

// A free loopback port (bound then released; another process could take it, rarely).
uint16_t free_port() { return Listener(Endpoint{"127.0.0.1", 0}).port(); }

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A server of `env_id` on `port` that starts serving after `delay`, on its own thread (the
// restart of a server that died).
class LateServer {
 public:
  LateServer(const std::string& env_id, uint16_t port, Millis delay) {
    auto options = server_options(env_id);
    options.port = port;
    thread_ = std::thread([this, options, delay] {
      std::this_thread::sleep_for(delay);
      server_ = std::make_unique<Server>(options);
      server_->start();
    });
  }
  ~LateServer() { thread_.join(); }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_CASE("remote env: same trajectory as the local env under the same seed") {
  TestServer server(server_options("test/wire_counter-v0"));
  auto remote = EnvRegistry::global().make("remote", remote_params(server.address()));
  auto local = EnvRegistry::global().make("test/wire_counter-v0");
  CHECK(remote->spec().id == "remote");
  CHECK(remote->spec().description.find("test/wire_counter-v0") != std::string::npos);
  CHECK(remote->spec().observation_space == local->spec().observation_space);
  CHECK(remote->spec().action_space == local->spec().action_space);

  std::vector<uint8_t> remote_obs(12), local_obs(12);
  Rng seeds(77);
  remote->reset(77, remote_obs);
  local->reset(seeds.next(), local_obs);
  CHECK(remote_obs == local_obs);
  int episodes = 0;
  for (int t = 0; t < 40; ++t) {
    const Action a = Action::discrete(t % 3);
    const StepResult r = remote->step(a, remote_obs);
    const StepResult l = local->step(a, local_obs);
    CHECK(remote_obs == local_obs);  // the final observation at episode ends
    CHECK(r.reward == l.reward);
    CHECK(r.terminated == l.terminated);
    CHECK(r.truncated == l.truncated);
    if (r.done()) {
      ++episodes;
      remote->reset(remote_obs);
      local->reset(seeds.next(), local_obs);
      CHECK(remote_obs == local_obs);
    }
  }
  CHECK(episodes >= 4);
  CHECK_THROWS_AS(remote->step(Action::discrete(3), remote_obs), std::invalid_argument);
  Image image;
  remote->render(image);
  CHECK(image.width > 0);
}

TEST_CASE("remote env: a lost server truncates the episode, then reset reconnects") {
  const uint16_t port = free_port();
  auto options = server_options("test/wire_box-v0");
  options.port = port;
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto server = std::make_unique<Server>(options);
  server->start();
  auto env = EnvRegistry::global().make("remote", remote_params(address));
  std::vector<uint8_t> obs(6);
  const std::vector<float> action{0.5f, 0.f};
  env->reset(1, obs);
  env->step(Action::continuous(action), obs);
  const std::vector<uint8_t> before = obs;

  server.reset();  // the server goes away mid-episode
  const StepResult lost = env->step(Action::continuous(action), obs);
  CHECK(lost.truncated);
  CHECK(!lost.terminated);
  CHECK(lost.reward == 0.f);
  CHECK(obs == before);

  server = std::make_unique<Server>(options);
  server->start();
  env->reset(obs);
  CHECK(!env->step(Action::continuous(action), obs).done());

  server.reset();
  env->step(Action::continuous(action), obs);  // truncated
  try {
    env->reset(obs);  // nobody listens: gives up after the configured attempts
    FAIL("expected an error");
  } catch (const EnvUnavailableError& e) {
    CHECK(std::string(e.what()).find(address) != std::string::npos);
    CHECK(std::string(e.what()).find("gave up after 3 reconnect attempts") != std::string::npos);
  }
  CHECK_THROWS_AS(env->step(Action::continuous(action), obs), EnvUnavailableError);
}

TEST_CASE("remote env: reconnecting waits with backoff and checks the spaces") {
  const uint16_t port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto params = remote_params(address);
  params["reconnect_attempts"] = int64_t{3};
  params["reconnect_backoff_ms"] = int64_t{100};
  auto options = server_options("test/wire_counter-v0");
  options.port = port;
  auto server = std::make_unique<Server>(options);
  server->start();
  auto env = EnvRegistry::global().make("remote", params);
  std::vector<uint8_t> obs(12);
  env->reset(5, obs);
  server.reset();
  CHECK(env->step(Action::discrete(1), obs).truncated);
  const auto start = Clock::now();

  SUBCASE("no server: gives up after waiting 100 + 200 + 400 ms") {
    CHECK_THROWS_AS(env->reset(obs), EnvUnavailableError);
    CHECK(seconds_since(start) >= 0.7);
    CHECK(seconds_since(start) < 0.7 + 3 * 1.0 + 1.0);  // + the connect deadlines, + slack
  }
  SUBCASE("a server back after 150 ms: the second attempt (at 300 ms) reconnects") {
    LateServer restarted("test/wire_counter-v0", port, Millis(150));
    env->reset(obs);
    CHECK(seconds_since(start) >= 0.3);
    CHECK(as_f32(std::span<const uint8_t>(obs))[0] == 0.f);  // a fresh episode
    CHECK(!env->step(Action::discrete(2), obs).done());
    CHECK(as_f32(std::span<const uint8_t>(obs))[1] == 2.f);
    env.reset();  // closes the connection while the server is up
  }
  SUBCASE("a server back with other spaces is an error naming both") {
    LateServer other("test/wire_box-v0", port, Millis(0));
    try {
      env->reset(obs);
      FAIL("expected an error");
    } catch (const EnvUnavailableError& e) {
      CHECK(std::string(e.what()).find("different spaces") != std::string::npos);
      CHECK(std::string(e.what()).find(address) != std::string::npos);
    }
  }
}

TEST_CASE("remote env: creating the env retries a server that is not up yet") {
  const uint16_t port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto params = remote_params(address);
  params["reconnect_backoff_ms"] = int64_t{100};
  LateServer late("test/wire_counter-v0", port, Millis(50));
  auto env = EnvRegistry::global().make("remote", params);
  std::vector<uint8_t> obs(12);
  env->reset(1, obs);
  CHECK(as_f32(std::span<const uint8_t>(obs))[0] == 0.f);
  env.reset();
}

TEST_CASE("remote env: without reconnect_attempts a lost server stops with a clear error") {
  auto server = std::make_unique<TestServer>(server_options("test/wire_counter-v0"));
  const std::string address = server->address();
  auto env = EnvRegistry::global().make("remote", {{"address", address}});
  std::vector<uint8_t> obs(12);
  env->reset(1, obs);
  env->step(Action::discrete(0), obs);
  server.reset();
  try {
    env->step(Action::discrete(0), obs);
    FAIL("expected an error");
  } catch (const EnvUnavailableError& e) {
    const std::string what = e.what();
    CHECK(what.find("remote env at " + address) != std::string::npos);
    CHECK(what.find("connection lost during step 2 of an episode") != std::string::npos);
    CHECK(what.find("reconnect_attempts is 0") != std::string::npos);
  }
}

TEST_CASE("remote env: listen mode accepts a game that connects to us") {
  const uint16_t port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  Server game(server_options("test/wire_counter-v0"));
  std::thread game_thread([&] {
    // The trainer may not be listening yet: retry briefly.
    for (int attempt = 0; attempt < 100; ++attempt) {
      try {
        game.serve_outbound(address, Millis(500));
        return;
      } catch (const std::runtime_error&) {
        std::this_thread::sleep_for(Millis(20));
      }
    }
  });
  auto params = remote_params(address);
  params["listen"] = true;
  params["accept_timeout_ms"] = int64_t{5000};
  {
    auto env = EnvRegistry::global().make("remote", params);
    std::vector<uint8_t> obs(12);
    env->reset(3, obs);
    CHECK(as_f32(std::span<const uint8_t>(obs))[0] == 0.f);
    env->step(Action::discrete(2), obs);
    CHECK(as_f32(std::span<const uint8_t>(obs))[1] == 2.f);
  }  // closing the env ends the game's session
  game_thread.join();
}

TEST_CASE("remote env: bad parameters and unreachable servers are named in the error") {
  try {
    EnvRegistry::global().make("remote", {{"address", std::string("localhost")}});
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'address'") != std::string::npos);
  }
  // on_disconnect is not a parameter (any more): reconnect_attempts is.
  CHECK_THROWS_AS(EnvRegistry::global().make("remote", {{"on_disconnect", std::string("stop")}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(EnvRegistry::global().make("remote", {{"reconnect_attempts", int64_t{-1}}}),
                  std::invalid_argument);
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  try {
    EnvRegistry::global().make("remote", remote_params(address));
    FAIL("expected an error");
  } catch (const EnvUnavailableError& e) {
    CHECK(std::string(e.what()).find(address) != std::string::npos);
  }
}

}  // namespace
}  // namespace rl::remote

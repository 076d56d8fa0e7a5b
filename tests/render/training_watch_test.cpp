// The training watcher (rltrain --watch's window), under xvfb-run: it plays a policy on its own
// thread at a capped frame rate, swaps the policy when asked, and closing the window or a
// failing policy ends only the window.
#include "render/training_watch.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

namespace rl::render {
namespace {

using namespace std::chrono_literals;

// Polls `done` every 10 ms for up to `timeout`; returns its last value.
template <typename F>
bool wait_for(F done, std::chrono::milliseconds timeout = 20000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TrainingWatchOptions cartpole_options(unsigned max_fps) {
  TrainingWatchOptions options;
  options.live.env_id = "classic/cartpole-v1";
  options.live.seed = 5;
  options.live.label = "test policy";
  options.viewer.steps_per_second = 200.0;
  options.max_fps = max_fps;
  return options;
}

// A policy whose "weights" are a version number: it always pushes left, and remembers the
// version it acted with, so the test can see when a refresh reached it.
struct VersionedPolicy {
  std::atomic<int> requested{1};   // Set by the test (the "trainer").
  int applied = 0;                 // Watcher thread only.
  std::atomic<int> acted_with{0};  // Version of the last decision.
  std::atomic<int64_t> decisions{0};
  std::atomic<std::thread::id> thread{};

  PolicySource source() {
    return [this](std::span<const uint8_t>, const Env&) {
      thread.store(std::this_thread::get_id());
      acted_with.store(applied);
      decisions.fetch_add(1);
      return PolicyDecision{};
    };
  }
  PolicyRefresh refresh() {
    return [this]() -> std::optional<std::string> {
      const int wanted = requested.load();
      if (wanted == applied) return std::nullopt;
      applied = wanted;
      return "version " + std::to_string(wanted);
    };
  }
};

TEST_CASE("the watcher plays on its own thread and picks up refreshed policies") {
  VersionedPolicy policy;
  TrainingWatcher watcher(cartpole_options(30), policy.source(), policy.refresh());
  CHECK(watcher.open());
  REQUIRE(wait_for([&] { return policy.acted_with.load() == 1 && watcher.steps() > 3; }));
  CHECK(policy.thread.load() != std::this_thread::get_id());
  CHECK(watcher.refreshes() == 1);
  policy.requested.store(2);
  REQUIRE(wait_for([&] { return policy.acted_with.load() == 2; }));
  CHECK(watcher.refreshes() == 2);
  CHECK(watcher.frames() > 0);
  // Episodes follow one another: always pushing left ends a CartPole episode in ~10 steps.
  REQUIRE(wait_for([&] { return watcher.steps() > 40; }));
  CHECK(watcher.open());
  CHECK(watcher.error().empty());
}

TEST_CASE("the frame rate stays under the cap") {
  VersionedPolicy policy;
  TrainingWatcher watcher(cartpole_options(20), policy.source(), policy.refresh());
  // The watcher runs at a low priority: on a loaded machine its first frame may take a while,
  // so the window starts once it draws. Only the upper bound is a property of the watcher.
  REQUIRE(wait_for([&] { return watcher.frames() > 0; }));
  const int64_t frames_before = watcher.frames();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1500ms);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t frames = watcher.frames() - frames_before;
  CAPTURE(frames);
  CAPTURE(seconds);
  CHECK(static_cast<double>(frames) <= 20.0 * seconds * 1.2 + 2.0);
}

TEST_CASE("closing the window (q) ends the watcher, not its owner") {
  VersionedPolicy policy;
  TrainingWatcher watcher(cartpole_options(30), policy.source(), policy.refresh());
  REQUIRE(wait_for([&] { return watcher.frames() > 2; }));
  watcher.inject({Key::kQ, true});
  REQUIRE(wait_for([&] { return !watcher.open(); }));
  CHECK(watcher.error().empty());
  const int64_t frames = watcher.frames();
  const int64_t decisions = policy.decisions.load();
  std::this_thread::sleep_for(200ms);
  CHECK(watcher.frames() == frames);
  CHECK(policy.decisions.load() == decisions);
  policy.requested.store(3);  // A refresh after closing is harmless.
  watcher.close();
  watcher.close();  // Idempotent.
  CHECK(!watcher.open());
}

TEST_CASE("a policy that throws closes the window with its error") {
  std::atomic<int> calls{0};
  PolicySource failing = [&](std::span<const uint8_t>, const Env&) -> PolicyDecision {
    if (calls.fetch_add(1) == 5) throw std::runtime_error("the agent copy broke");
    return {};
  };
  TrainingWatcher watcher(cartpole_options(60), failing, nullptr);
  REQUIRE(wait_for([&] { return !watcher.open(); }));
  CHECK(watcher.error() == "watch window: the agent copy broke");
}

TEST_CASE("the watcher refuses to start without a display or with a bad env, naming why") {
  VersionedPolicy policy;
  TrainingWatchOptions bad_env = cartpole_options(30);
  bad_env.live.env_id = "classic/no-such-env-v0";
  try {
    TrainingWatcher watcher(bad_env, policy.source(), policy.refresh());
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("unknown env id 'classic/no-such-env-v0'") !=
          std::string::npos);
  }

  const char* display = std::getenv("DISPLAY");
  REQUIRE(display != nullptr);
  const std::string saved = display;
  ::unsetenv("DISPLAY");
  TrainingWatchOptions options = cartpole_options(30);
  options.display_hint = "train without the window";
  try {
    TrainingWatcher watcher(options, policy.source(), policy.refresh());
    FAIL("expected an error");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK(message.find("no X display") != std::string::npos);
    CHECK(message.find("train without the window") != std::string::npos);
  }
  ::setenv("DISPLAY", saved.c_str(), 1);
}

}  // namespace
}  // namespace rl::render

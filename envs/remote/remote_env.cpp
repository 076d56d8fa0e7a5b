// The registry's `remote` env: one env served over the wire protocol, usable by every agent
// (`env: {id: remote, params: {address: 127.0.0.1:7000}}`). With `listen: true` the roles of
// the TCP connection are reversed: we listen on `address` and a launched game connects to us,
// then we speak as the client as usual.
//
// A lost connection (the server died, closed the connection or missed a deadline) is an
// EnvUnavailableError (core/env_error.h) unless reconnect_attempts > 0. Then the step that was
// in flight ends the episode as truncated (reward 0, the observation the action was chosen
// from as the final observation) and the next reset reconnects with exponential backoff,
// checks that the spaces are unchanged and starts a fresh episode; when every attempt fails,
// that reset raises EnvUnavailableError. Creating the env retries the same way.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include "core/env_error.h"
#include "core/registry.h"
#include "envs/remote/client.h"

namespace rl::remote {
namespace {

using Clock = std::chrono::steady_clock;

// The longest wait between two reconnect attempts.
constexpr Millis kMaxBackoff{5000};

struct RemoteSettings {
  std::string address;
  bool listen = false;
  ClientOptions client;
  Millis accept_timeout{60000};
  int reconnect_attempts = 0;  // 0: a lost connection is an EnvUnavailableError at once
  Millis reconnect_backoff{200};

  explicit RemoteSettings(const Params& p)
      : address(p.get_string("address")),
        listen(p.get_bool("listen")),
        accept_timeout(p.get_int("accept_timeout_ms")),
        reconnect_attempts(static_cast<int>(p.get_int("reconnect_attempts"))),
        reconnect_backoff(p.get_int("reconnect_backoff_ms")) {
    parse_address(address, "remote env parameter 'address'");  // fail early on a typo
    client.connect_timeout = Millis(p.get_int("connect_timeout_ms"));
    client.handshake_timeout = Millis(p.get_int("handshake_timeout_ms"));
    client.step_timeout = Millis(p.get_int("step_timeout_ms"));
    client.token = p.get_string("token");
    client.observation_encoding = p.get_string("observation_encoding");
    client.num_envs = 1;
    client.client_name = "rlcade remote env";
  }

  // The wait before reconnect attempt `attempt` (1-based): the backoff, doubled after each
  // failed attempt, at most kMaxBackoff.
  Millis wait_before(int attempt) const {
    const int doublings = std::min(attempt - 1, 16);
    return std::min(Millis(reconnect_backoff.count() << doublings), kMaxBackoff);
  }
};

// Opens a client connection (or waits for the game to connect, in listen mode).
class Link {
 public:
  explicit Link(const RemoteSettings& s) : settings_(s) {
    if (s.listen) listener_ = std::make_unique<Listener>(parse_address(s.address, "remote env"));
  }

  std::unique_ptr<Client> open() const {
    if (!listener_) return Client::connect(settings_.address, settings_.client);
    std::cerr << "remote env: waiting up to " << settings_.accept_timeout.count()
              << " ms for a game to connect on " << settings_.address << "\n";
    return std::make_unique<Client>(listener_->accept(settings_.accept_timeout), settings_.client);
  }

  std::string where() const {
    return (settings_.listen ? "listening on " : "at ") + settings_.address;
  }

 private:
  const RemoteSettings& settings_;
  std::unique_ptr<Listener> listener_;
};

std::string format_seconds(Clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

[[noreturn]] void throw_lost_without_reconnect(const Link& link, const std::string& what) {
  throw EnvUnavailableError(
      "remote env " + link.where() + ": " + what +
      "; reconnect_attempts is 0, so the env stops here (set it to reconnect)");
}

// Calls `connect` (which throws ConnectionError when the server cannot be reached or the new
// connection fails) for attempts first_attempt..reconnect_attempts, waiting before each
// attempt but the 0th (the first connection of a new env). Returns after the first success;
// throws EnvUnavailableError naming `link`'s address, `cause` (why we reconnect; empty for a
// new env) and the last error when all failed.
template <typename Connect>
void connect_with_backoff(const RemoteSettings& s, const Link& link, int first_attempt,
                          const std::string& cause, Connect&& connect) {
  const auto start = Clock::now();
  std::string last_error = cause;
  for (int attempt = first_attempt; attempt <= s.reconnect_attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(s.wait_before(attempt));
    try {
      connect(attempt);
      return;
    } catch (const ConnectionError& e) {
      last_error = e.what();
    }
  }
  if (s.reconnect_attempts == 0) {
    if (first_attempt == 0)
      throw EnvUnavailableError("remote env " + link.where() + ": " + last_error);
    throw_lost_without_reconnect(link, last_error);
  }
  throw EnvUnavailableError(
      "remote env " + link.where() + ": " + (cause.empty() ? "" : cause + "; ") + "gave up after " +
      std::to_string(s.reconnect_attempts) + " reconnect attempts in " +
      format_seconds(Clock::now() - start) + ", the last one failed with: " + last_error);
}

EnvSpec spec_from(const wire::Welcome& w, const std::string& where) {
  EnvSpec spec;
  spec.id = "remote";
  spec.description = "remote " + w.env_id + " " + where;
  spec.observation_space = w.observation_space;
  spec.action_space = w.action_space;
  spec.reward_min = w.reward_min;
  spec.reward_max = w.reward_max;
  spec.max_episode_steps = w.max_episode_steps;
  return spec;
}

class RemoteEnv final : public Env {
 public:
  RemoteEnv(std::unique_ptr<RemoteSettings> settings, std::unique_ptr<Link> link,
            std::unique_ptr<Client> client)
      : Env(spec_from(client->welcome(), link->where())),
        settings_(std::move(settings)),
        link_(std::move(link)),
        client_(std::move(client)),
        last_obs_(spec().observation_space.bytes()) {}

  ~RemoteEnv() override {
    if (client_) client_->close();
  }

 protected:
  void do_reset(ObsBuffer obs) override {
    const uint64_t seed = rng().next();
    if (client_) {
      try {
        copy_row(client_->reset(seed).observations, 0, obs);
        return;
      } catch (const ConnectionError& e) {
        client_.reset();
        lost_because_ = "connection lost while resetting (" + std::string(e.what()) + ")";
        if (settings_->reconnect_attempts > 0) log(lost_because_ + "; reconnecting");
      }
    }
    connect_with_backoff(*settings_, *link_, 1, lost_because_, [&](int attempt) {
      auto client = open_same_spaces();
      copy_row(client->reset(seed).observations, 0, obs);
      client_ = std::move(client);
      log("reconnected (attempt " + std::to_string(attempt) + " of " +
          std::to_string(settings_->reconnect_attempts) + ")");
    });
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    if (!client_)  // Only after a reset that gave up, which the caller was told about.
      throw EnvUnavailableError("remote env " + link_->where() +
                                ": not connected (the last reset gave up)");
    try {
      const wire::StepResultView* r;
      if (spec().action_space.is_discrete()) {
        const int64_t index = action.index;
        r = &client_->step(std::span<const int64_t>(&index, 1));
      } else {
        r = &client_->step(action.values);
      }
      StepResult out;
      out.reward = r->reward(0);
      const wire::StepType type = r->step_type(0);
      out.terminated = type == wire::StepType::kTerminated;
      out.truncated = type == wire::StepType::kTruncated;
      copy_row(out.done() ? r->final_observations : r->observations, 0, obs);
      return out;
    } catch (const ConnectionError& e) {
      client_.reset();
      lost_because_ = "connection lost during step " + std::to_string(episode_steps() + 1) +
                      " of an episode (" + e.what() + ")";
      if (settings_->reconnect_attempts == 0) throw_lost_without_reconnect(*link_, lost_because_);
      log(lost_because_ + "; the episode is truncated there, reconnecting");
      return lost_step(obs);
    } catch (const PeerError& e) {
      if (e.info().fatal) client_.reset();
      throw std::runtime_error("remote env " + link_->where() + ": " + e.what());
    }
  }

  void do_render(Image& out) const override {
    // The remote state is not visible here: draw the last observation as bars.
    const Space& space = spec().observation_space;
    const int64_t n = std::min<int64_t>(space.numel(), 64);
    out.resize(static_cast<int>(8 * n + 8), 100, {30, 30, 30});
    for (int64_t i = 0; i < n; ++i) {
      float v;
      if (space.dtype == DType::kU8) {
        v = last_obs_[i] / 255.f;
      } else {
        std::memcpy(&v, last_obs_.data() + 4 * i, 4);
        const float lo = space.low[i], hi = space.high[i];
        v = (hi - lo < 1e6f) ? (v - lo) / (hi - lo) : 0.5f + std::clamp(v, -5.f, 5.f) / 10.f;
      }
      const int h = static_cast<int>(std::clamp(v, 0.f, 1.f) * 90);
      fill_rect(out, static_cast<int>(4 + 8 * i), 95 - h, 6, h, {90, 170, 250});
    }
  }

 private:
  void copy_row(const wire::TensorView& t, size_t row, ObsBuffer obs) {
    std::memcpy(obs.data(), t.data.data() + row * obs.size(), obs.size());
    std::memcpy(last_obs_.data(), obs.data(), obs.size());
  }

  StepResult lost_step(ObsBuffer obs) {
    std::memcpy(obs.data(), last_obs_.data(), obs.size());
    StepResult r;
    r.truncated = true;
    return r;
  }

  void log(const std::string& text) const {
    std::cerr << "remote env " << link_->where() << ": " << text << "\n";
  }

  // A new connection serving the spaces this env was created with (EnvUnavailableError
  // otherwise: the agent could not use it).
  // Errors other than ConnectionError (the server refused the handshake, ...) are
  // EnvUnavailableErrors too; the caller retries only ConnectionErrors.
  std::unique_ptr<Client> open_same_spaces() const {
    std::unique_ptr<Client> client;
    try {
      client = link_->open();
    } catch (const ConnectionError&) {
      throw;
    } catch (const std::exception& e) {
      throw EnvUnavailableError("remote env " + link_->where() +
                                ": reconnecting failed: " + e.what());
    }
    const wire::Welcome& w = client->welcome();
    if (!(w.observation_space == spec().observation_space) ||
        !(w.action_space == spec().action_space))
      throw EnvUnavailableError("remote env " + link_->where() +
                                ": the env served after reconnecting has different spaces (" +
                                w.observation_space.describe() + ", " + w.action_space.describe() +
                                ") than before (" + spec().observation_space.describe() + ", " +
                                spec().action_space.describe() + ")");
    return client;
  }

  std::unique_ptr<RemoteSettings> settings_;
  std::unique_ptr<Link> link_;
  std::unique_ptr<Client> client_;  // null while disconnected
  std::string lost_because_;        // how the last connection was lost
  std::vector<uint8_t> last_obs_;
};

std::unique_ptr<Env> make_remote(const Params& p) {
  auto settings = std::make_unique<RemoteSettings>(p);
  auto link = std::make_unique<Link>(*settings);
  std::unique_ptr<Client> client;
  try {
    connect_with_backoff(*settings, *link, 0, "", [&](int) { client = link->open(); });
  } catch (const EnvUnavailableError&) {
    throw;
  } catch (const std::exception& e) {  // refused by the server (PeerError), a bad WELCOME, ...
    throw std::runtime_error("remote env " + link->where() + ": " + e.what());
  }
  return std::make_unique<RemoteEnv>(std::move(settings), std::move(link), std::move(client));
}

RLCADE_REGISTER_ENV(
    {"remote",
     "An env served by another process over the rlcade wire protocol (docs/protocol.md)",
     {{"address",
       std::string("127.0.0.1:7000"),
       "host:port of the server (or to listen on)",
       {},
       {},
       {}},
      {"listen", false, "Reverse mode: listen on address and let the game connect", {}, {}, {}},
      {"token", std::string(""), "Shared secret the server expects (empty: none)", {}, {}, {}},
      {"connect_timeout_ms", int64_t{5000}, "Deadline for connecting", 1.0, 3.6e6, {}},
      {"handshake_timeout_ms",
       int64_t{5000},
       "Deadline for the HELLO/WELCOME exchange",
       1.0,
       3.6e6,
       {}},
      {"step_timeout_ms", int64_t{10000}, "Deadline for each reset/step reply", 1.0, 3.6e6, {}},
      {"accept_timeout_ms",
       int64_t{60000},
       "Listen mode: how long to wait for the game",
       1.0,
       8.64e7,
       {}},
      {"reconnect_attempts",
       int64_t{0},
       "After a lost connection: attempts to reconnect (0: stop with an error naming the address)",
       0.0,
       1000.0,
       {}},
      {"reconnect_backoff_ms",
       int64_t{200},
       "Wait before the first reconnect attempt; doubles after each failed one, at most 5 s",
       0.0,
       60000.0,
       {}},
      {"observation_encoding",
       std::string("binary"),
       "binary (fast) or json (for comparison only)",
       {},
       {},
       {"binary", "json"}}},
     make_remote,
     false});

}  // namespace
}  // namespace rl::remote

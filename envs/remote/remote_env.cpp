// The registry's `remote` env: one env served over the wire protocol, usable by every agent
// (`env: {id: remote, params: {address: 127.0.0.1:7000}}`). With `listen: true` the roles of
// the TCP connection are reversed: we listen on `address` and a launched game connects to us,
// then we speak as the client as usual.
//
// A lost connection ends the current episode as truncated (reward 0, observation unchanged);
// the next reset reconnects with exponential backoff, or, with on_disconnect: stop, the env
// throws a clear error instead.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "core/registry.h"
#include "envs/remote/client.h"

namespace rl::remote {
namespace {

struct RemoteSettings {
  std::string address;
  bool listen = false;
  ClientOptions client;
  Millis accept_timeout{60000};
  bool reconnect = true;
  int reconnect_attempts = 5;
  Millis reconnect_backoff{200};

  explicit RemoteSettings(const Params& p)
      : address(p.get_string("address")),
        listen(p.get_bool("listen")),
        accept_timeout(p.get_int("accept_timeout_ms")),
        reconnect(p.get_string("on_disconnect") == "reconnect"),
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
    for (int attempt = 0;; ++attempt) {
      try {
        if (!client_) reconnect(attempt);
        copy_row(client_->reset(seed).observations, 0, obs);
        return;
      } catch (const ConnectionError& e) {
        client_.reset();
        if (!settings_->reconnect) throw lost(e.what());
        if (attempt + 1 >= settings_->reconnect_attempts)
          throw std::runtime_error("remote env " + link_->where() + ": gave up after " +
                                   std::to_string(settings_->reconnect_attempts) +
                                   " reconnect attempts: " + e.what());
      }
    }
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    if (!client_) return lost_step(obs);
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
      if (!settings_->reconnect) throw lost(e.what());
      std::cerr << "remote env " << link_->where() << ": " << e.what()
                << "; episode truncated, reconnecting at the next reset\n";
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

  std::runtime_error lost(const std::string& why) const {
    return std::runtime_error("remote env " + link_->where() + ": connection lost (" + why +
                              ") and on_disconnect is 'stop'");
  }

  void reconnect(int attempt) {
    if (attempt > 0) {
      const auto wait = std::min<int64_t>(
          settings_->reconnect_backoff.count() << std::min(attempt - 1, 10), 5000);
      std::this_thread::sleep_for(Millis(wait));
    }
    auto client = link_->open();
    const wire::Welcome& w = client->welcome();
    if (!(w.observation_space == spec().observation_space) ||
        !(w.action_space == spec().action_space))
      throw std::runtime_error("remote env " + link_->where() +
                               ": the env served after reconnecting has different spaces (" +
                               w.observation_space.describe() + ", " + w.action_space.describe() +
                               ") than before");
    client_ = std::move(client);
  }

  std::unique_ptr<RemoteSettings> settings_;
  std::unique_ptr<Link> link_;
  std::unique_ptr<Client> client_;  // null while disconnected
  std::vector<uint8_t> last_obs_;
};

std::unique_ptr<Env> make_remote(const Params& p) {
  auto settings = std::make_unique<RemoteSettings>(p);
  auto link = std::make_unique<Link>(*settings);
  std::unique_ptr<Client> client;
  try {
    client = link->open();
  } catch (const std::exception& e) {
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
      {"on_disconnect",
       std::string("reconnect"),
       "When the connection is lost: truncate the episode and reconnect, or stop with an error",
       {},
       {},
       {"reconnect", "stop"}},
      {"reconnect_attempts", int64_t{5}, "Attempts per reset before giving up", 1.0, 1000.0, {}},
      {"reconnect_backoff_ms",
       int64_t{200},
       "First reconnect delay; doubles, capped at 5 s",
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

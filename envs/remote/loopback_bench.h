// Loopback throughput of the wire protocol, shared by `rlserve --bench` and rlbench's remote_*
// cases: a Server for one env id on an ephemeral 127.0.0.1 port inside this process, and a C++
// Client that steps its N envs with random actions for a timed budget.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/remote/server.h"

namespace rl::remote {

// A Server for `env_id` bound to 127.0.0.1 on a port the OS picks, serving on `threads`
// background threads and accepting up to 65536 envs per connection. Started by the
// constructor (which throws std::invalid_argument for an unknown env id), stopped by the
// destructor.
class LoopbackServer {
 public:
  explicit LoopbackServer(const std::string& env_id, int threads = 1);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  uint16_t port() const { return server_->port(); }
  const std::string& address() const { return address_; }  // "127.0.0.1:<port>"

 private:
  std::unique_ptr<Server> server_;
  std::string address_;
};

// What a client measured over one timed window. An env step is one env advanced once; a
// round trip is one STEP request answered by its STEP_RESULT (num_envs env steps).
struct ThroughputSample {
  double env_steps_per_second = 0;
  double round_trips_per_second = 0;
  // CPU time of this whole process (the client, plus the server when it runs in this process,
  // as LoopbackServer does) per wall-clock second: about 1-2 on an idle machine, lower when
  // other processes take the cores.
  double process_cpu_per_second = 0;
};

struct LoopbackBenchSpec {
  uint32_t num_envs = 1;            // envs on the connection (N)
  std::string encoding = "binary";  // observation_encoding: "binary" or "json"
  double seconds = 1.0;             // total timed budget, split evenly over `windows`
  int windows = 1;                  // >= 1; one sample per window
  double warmup_seconds = 0.05;     // untimed stepping after the RESET
  uint64_t seed = 0;                // RESET seed and random-action seed
};

// Connects a Client to `address` with spec.num_envs envs, resets them, steps them with random
// actions (drawn before timing, uniform over the action space) for the warm-up, then for
// spec.windows windows of spec.seconds / spec.windows each, and closes the connection. Returns
// one sample per window. Throws std::invalid_argument for a bad spec and the Client's errors
// (ConnectionError, PeerError, wire::WireError) when the server fails.
std::vector<ThroughputSample> measure_loopback(const std::string& address,
                                               const LoopbackBenchSpec& spec);

// The same env stepped in this process without any socket (one env, random actions, reset on
// episode end) for `seconds`: the cost the protocol adds to. Env steps per second.
double local_env_steps_per_second(const std::string& env_id, double seconds, uint64_t seed);

}  // namespace rl::remote

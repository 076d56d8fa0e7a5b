// Serves any registered env over the wire protocol (Boost.Asio, asynchronous). Every
// connection gets its own envs; a misbehaving peer gets an ERROR frame or a closed socket and
// never disturbs the others; per-connection memory is bounded by the frame limits and the env
// count, and the number of connections is capped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/params.h"
#include "core/wire.h"

namespace rl::remote {

struct ServerOptions {
  std::string env_id;                            // registry id of the env to serve
  std::map<std::string, ParamValue> env_params;  // parameters for each env
  std::string bind_host = "127.0.0.1";           // loopback unless asked otherwise
  uint16_t port = 0;                             // 0: any free port (see Server::port())
  uint32_t num_envs = 1;                         // per connection, unless HELLO asks
  uint32_t max_envs_per_connection = 1024;
  std::string token;                                  // empty: no token required
  int max_connections = 64;                           // further peers get a fatal `busy` ERROR
  int threads = 1;                                    // I/O + stepping threads
  std::chrono::milliseconds handshake_timeout{5000};  // connect -> complete HELLO
  std::chrono::milliseconds idle_timeout{60000};      // between requests
  std::chrono::milliseconds read_timeout{5000};       // rest of a frame once it started
  std::function<void(const std::string&)> log;        // one line per notable event; may be empty
};

class Server {
 public:
  // Checks that the env can be built (throws std::invalid_argument otherwise), binds and
  // listens. Throws std::runtime_error when the address cannot be bound.
  explicit Server(ServerOptions options);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // Serves on options.threads background threads until stop().
  void start();
  // Serves on the calling thread (plus options.threads - 1 others) until stop().
  void run();
  void stop();

  // Reverse mode: connects to a listening trainer at `address` and serves that one
  // connection. Returns when the trainer closes it. Throws on connection failure.
  void serve_outbound(const std::string& address, std::chrono::milliseconds connect_timeout);

  struct Stats {
    int64_t accepted = 0;
    int64_t rejected_busy = 0;
    int64_t active = 0;
    int64_t errors_sent = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rl::remote

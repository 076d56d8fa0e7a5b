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
#include <span>
#include <string>

#include "core/params.h"
#include "core/wire.h"

namespace rl::remote {

// What one connection serves once its HELLO is accepted: by default the env of
// ServerOptions::env_id; apps/rlserve plugs in a policy. One instance per connection, called
// by one thread at a time; the server itself answers HELLO (version, token), PING, CLOSE and
// ERROR frames, applies deadlines and limits, and sends the replies.
class ConnectionService {
 public:
  virtual ~ConnectionService() = default;
  // Completes the handshake for `hello` (version negotiated, token checked): fills `welcome`,
  // whose version fields are preset, including max_body_bytes, the largest request body the
  // connection accepts from now on. Throws wire::WireError to refuse (made fatal).
  virtual void accept(const wire::Hello& hello, wire::Welcome& welcome) = 0;
  // Answers one request after the handshake (any type but HELLO, PING, CLOSE and ERROR) with
  // a whole reply frame, valid until the next call. Throws wire::WireError to answer with an
  // ERROR frame; any other exception becomes a non-fatal `internal` ERROR.
  virtual std::span<const uint8_t> answer(const wire::FrameHeader& header,
                                          std::span<const uint8_t> body) = 0;
};
using ServiceFactory = std::function<std::unique_ptr<ConnectionService>()>;

struct ServerOptions {
  // Serves something other than an env when set (then env_id and env_params are not used).
  ServiceFactory service;
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
  // Checks that the env can be built (throws std::invalid_argument otherwise; not done when
  // options.service is set), binds and listens. Throws std::runtime_error when the address cannot
  // be bound.
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

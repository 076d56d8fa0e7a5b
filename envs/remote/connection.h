// Blocking, framed TCP transport for the wire protocol with a deadline on every connect, read
// and write. Used by the client side (remote env, conformance checker, benchmarks); the
// server side is asynchronous (server.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/wire.h"

namespace rl::remote {

using Millis = std::chrono::milliseconds;

// The transport failed: refused, reset, closed by the peer, or a deadline passed.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The peer answered with an ERROR frame.
class PeerError : public std::runtime_error {
 public:
  explicit PeerError(wire::ErrorInfo info);
  const wire::ErrorInfo& info() const { return info_; }

 private:
  wire::ErrorInfo info_;
};

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};
// Parses "host:port" or "[v6-host]:port". Throws std::invalid_argument naming `what` (e.g.
// "remote env parameter 'address'") and the expected form.
Endpoint parse_address(const std::string& address, const std::string& what);

class Connection {
 public:
  // Connects within `timeout` (TCP_NODELAY on). Throws ConnectionError.
  static std::unique_ptr<Connection> connect(const Endpoint& endpoint, Millis timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Writes all of `bytes` (normally one whole frame) within `timeout`.
  void send(std::span<const uint8_t> bytes, Millis timeout);
  // Reads one frame within `timeout`: the header is checked (magic, body length against
  // `max_body_bytes`) before the body is read into `body`. Throws ConnectionError on EOF or
  // timeout and wire::WireError on bad framing.
  wire::FrameHeader read_frame(std::vector<uint8_t>& body, uint32_t max_body_bytes, Millis timeout);
  // Waits until the peer closes the connection; false if it is still open after `timeout`.
  // Bytes that arrive meanwhile are discarded.
  bool wait_closed(Millis timeout);
  void close();
  bool is_open() const;
  const std::string& peer() const { return peer_; }

 private:
  friend class Listener;
  struct Impl;
  Connection();
  std::unique_ptr<Impl> impl_;
  std::string peer_;
};

// Listening socket for the reverse mode, where the env side connects to us.
class Listener {
 public:
  // Binds and listens (port 0: any free port). Throws ConnectionError.
  explicit Listener(const Endpoint& bind);
  ~Listener();
  uint16_t port() const;
  // Waits up to `timeout` for one peer. Throws ConnectionError on timeout.
  std::unique_ptr<Connection> accept(Millis timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rl::remote

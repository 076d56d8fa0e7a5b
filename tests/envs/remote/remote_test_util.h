// Helpers for the remote tests: an in-process server on a free loopback port and raw-frame
// peers for the bad-input cases.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/wire.h"
#include "envs/remote/client.h"
#include "envs/remote/server.h"

namespace rl::remote::testing {

inline ServerOptions server_options(const std::string& env_id, uint32_t num_envs = 1) {
  ServerOptions o;
  o.env_id = env_id;
  o.num_envs = num_envs;
  o.port = 0;
  o.handshake_timeout = Millis(2000);
  o.idle_timeout = Millis(5000);
  o.read_timeout = Millis(1000);
  return o;
}

class TestServer {
 public:
  explicit TestServer(ServerOptions options) : server_(std::move(options)) { server_.start(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  Server& server() { return server_; }

 private:
  Server server_;
};

inline ClientOptions client_options(uint32_t num_envs = 0) {
  ClientOptions o;
  o.connect_timeout = Millis(2000);
  o.handshake_timeout = Millis(2000);
  o.step_timeout = Millis(2000);
  o.num_envs = num_envs;
  return o;
}

inline std::unique_ptr<Connection> raw_connect(const std::string& address) {
  return Connection::connect(parse_address(address, "test"), Millis(2000));
}

inline void send_frame(Connection& c, wire::MessageType type, uint32_t id,
                       std::span<const uint8_t> body, uint8_t flags = 0) {
  std::vector<uint8_t> frame;
  wire::build_frame(frame, type, id, body, flags);
  c.send(frame, Millis(2000));
}

inline void send_text(Connection& c, wire::MessageType type, uint32_t id, std::string_view text) {
  send_frame(c, type, id,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// Reads one frame and requires it to be an ERROR; returns it decoded.
inline wire::ErrorInfo read_error(Connection& c, Millis timeout = Millis(3000)) {
  std::vector<uint8_t> body;
  const wire::FrameHeader h = c.read_frame(body, wire::kDefaultMaxBodyBytes, timeout);
  REQUIRE(wire::message_type_name(h.type) == "ERROR");
  return wire::parse_error(
      std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
}

inline std::string hello_text(const std::string& token = "", uint32_t num_envs = 0) {
  wire::Hello h;
  h.token = token;
  h.num_envs = num_envs;
  return wire::encode_hello(h);
}

// A raw connection that has completed the handshake.
inline std::unique_ptr<Connection> handshaken(const std::string& address) {
  auto c = raw_connect(address);
  send_text(*c, wire::MessageType::kHello, 1, hello_text());
  std::vector<uint8_t> body;
  const wire::FrameHeader h = c->read_frame(body, wire::kDefaultMaxBodyBytes, Millis(2000));
  REQUIRE(wire::message_type_name(h.type) == "WELCOME");
  return c;
}

template <typename T>
std::vector<uint8_t> tensor(wire::TensorDType dtype, std::vector<uint32_t> dims,
                            const std::vector<T>& values) {
  std::vector<uint8_t> out(wire::tensor_header_bytes(static_cast<int>(dims.size())));
  wire::write_tensor_header(out.data(), dtype, dims);
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  out.insert(out.end(), p, p + values.size() * sizeof(T));
  return out;
}

inline std::vector<float> row_f32(const wire::TensorView& t, uint32_t row, size_t numel) {
  std::vector<float> out(numel);
  std::memcpy(out.data(), t.data.data() + row * numel * 4, numel * 4);
  return out;
}

}  // namespace rl::remote::testing

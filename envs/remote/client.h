// Batched client of the wire protocol: one connection serving N envs, stepped together. The
// registry's `remote` env (remote_env.cpp) wraps it with N = 1; benchmarks and vector users
// call it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/wire.h"
#include "envs/remote/connection.h"

namespace rl::remote {

struct ClientOptions {
  Millis connect_timeout{5000};
  Millis handshake_timeout{5000};
  Millis step_timeout{10000};  // deadline for each request's reply
  std::string token;
  uint32_t num_envs = 0;  // envs wanted on the connection; 0: the server's default
  uint32_t max_body_bytes = wire::kDefaultMaxBodyBytes;
  std::string observation_encoding = "binary";  // or "json" (slow; for comparison)
  std::string client_name = "rlcade";
};

class Client {
 public:
  // Connects to "host:port" and performs the handshake. Throws ConnectionError, PeerError
  // (e.g. unauthorized, version mismatch) or wire::WireError (malformed WELCOME).
  static std::unique_ptr<Client> connect(const std::string& address, const ClientOptions& options);
  // Performs the handshake over an established connection (reverse mode).
  Client(std::unique_ptr<Connection> connection, const ClientOptions& options);

  const wire::Welcome& welcome() const { return welcome_; }
  uint32_t num_envs() const { return welcome_.num_envs; }
  size_t observation_bytes() const { return welcome_.observation_space.bytes(); }

  // Resets every env (env i with seed + i when a seed is given). All step types are kFirst.
  // The returned view stays valid until the next request.
  const wire::StepResultView& reset(std::optional<uint64_t> seed = std::nullopt);
  // One action per env (Discrete action spaces) or numel floats per env, env-major (Box).
  const wire::StepResultView& step(std::span<const int64_t> actions);
  const wire::StepResultView& step(std::span<const float> actions);
  // Round trip with a small payload; throws unless the PONG echoes it.
  void ping();
  // CLOSE handshake, then closes the socket. Safe to call twice.
  void close();
  bool is_open() const { return connection_ && connection_->is_open(); }

  // Low level, for conformance checks: sends `type` with `body` as one frame and returns the
  // reply (possibly an ERROR frame, which is not thrown). The body span is valid until the
  // next request.
  struct Reply {
    wire::FrameHeader header;
    std::span<const uint8_t> body;
    bool is_error() const { return header.type == static_cast<uint8_t>(wire::MessageType::kError); }
  };
  Reply request(wire::MessageType type, std::span<const uint8_t> body, uint8_t flags = 0);
  Connection& connection() { return *connection_; }

 private:
  void handshake();
  // Sends `frame_` (already built, with request id `id`) and returns the checked STEP_RESULT.
  const wire::StepResultView& exchange_step_result(uint32_t id);
  Reply read_reply(uint32_t id, Millis timeout);
  uint32_t next_id() { return ++last_request_id_; }

  std::unique_ptr<Connection> connection_;
  ClientOptions options_;
  wire::Welcome welcome_;
  uint32_t last_request_id_ = 0;
  std::vector<uint8_t> frame_;      // outgoing frame, reused
  std::vector<uint8_t> body_;       // incoming body, reused
  std::vector<uint8_t> json_body_;  // binary form of a JSON STEP_RESULT
  wire::StepResultView result_;
};

}  // namespace rl::remote

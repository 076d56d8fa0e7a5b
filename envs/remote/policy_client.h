// Client of a served policy (`rlserve --policy`, protocol 1.1): observations in, one greedy
// action per observation out, in batches, over one connection. Used by rlbench's policy_*
// cases and `rlserve --check`; clients/python/rlcade_wire.py has the Python twin.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "envs/remote/client.h"

namespace rl::remote {

class PolicyClient {
 public:
  // Connects and performs the handshake (options.num_envs and observation_encoding are not
  // used). Throws as Client::connect does, and wire::WireError when the server does not serve
  // ACT (no "act" capability).
  static std::unique_ptr<PolicyClient> connect(const std::string& address,
                                               const ClientOptions& options = {});

  const wire::Welcome& welcome() const { return client_->welcome(); }
  const Space& observation_space() const { return welcome().observation_space; }
  const Space& action_space() const { return welcome().action_space; }
  uint32_t max_batch() const { return welcome().max_act_batch; }

  // Actions for `batch` observations laid out back to back (observation_space().bytes() each),
  // optionally restricted by a legal-action mask (batch * n bytes, nonzero = legal; Discrete
  // action spaces only). Discrete spaces fill discrete() (batch entries), Box spaces
  // continuous() (batch * action elements); both stay valid until the next call. Throws
  // std::invalid_argument for sizes that do not match the spaces (nothing is sent), PeerError
  // when the server answers with an ERROR (e.g. bad_observation; the connection stays usable
  // unless it is fatal), wire::WireError for a malformed reply, ConnectionError.
  void act(std::span<const uint8_t> observations, uint32_t batch,
           std::span<const uint8_t> legal = {});
  std::span<const int64_t> discrete() const { return discrete_; }
  std::span<const float> continuous() const { return continuous_; }

  // Round trip with a small payload (Client::ping), and the CLOSE handshake.
  void ping() { client_->ping(); }
  void close() { client_->close(); }
  // The underlying connection, for conformance checks that send malformed requests.
  Client& client() { return *client_; }

 private:
  explicit PolicyClient(std::unique_ptr<Client> client);

  std::unique_ptr<Client> client_;
  std::vector<uint8_t> frame_;
  std::vector<int64_t> discrete_;
  std::vector<float> continuous_;
};

}  // namespace rl::remote

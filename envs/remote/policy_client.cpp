#include "envs/remote/policy_client.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace rl::remote {

using wire::MessageType;

std::unique_ptr<PolicyClient> PolicyClient::connect(const std::string& address,
                                                    const ClientOptions& options) {
  ClientOptions policy_options = options;
  policy_options.num_envs = 0;
  policy_options.observation_encoding = "binary";
  return std::unique_ptr<PolicyClient>(new PolicyClient(Client::connect(address, policy_options)));
}

PolicyClient::PolicyClient(std::unique_ptr<Client> client) : client_(std::move(client)) {
  const auto& caps = client_->welcome().capabilities;
  if (std::find(caps.begin(), caps.end(), "act") == caps.end() ||
      client_->welcome().max_act_batch == 0) {
    const std::string peer = client_->connection().peer();
    client_->close();
    throw wire::WireError(wire::ErrorCode::kUnsupported,
                          peer +
                              " does not serve a policy (no \"act\" capability in its WELCOME; "
                              "it serves the env " +
                              client_->welcome().env_id + ")",
                          true);
  }
}

void PolicyClient::act(std::span<const uint8_t> observations, uint32_t batch,
                       std::span<const uint8_t> legal) {
  const Space& actions = action_space();
  if (batch == 0 || batch > max_batch())
    throw std::invalid_argument("PolicyClient::act: a batch of " + std::to_string(batch) +
                                " observations; this server takes 1 to " +
                                std::to_string(max_batch()));
  // build_act_frame checks the sizes (std::invalid_argument) before anything is sent.
  wire::build_act_frame(frame_, 0, observation_space(), actions, batch, observations, legal);
  const std::span<const uint8_t> body(frame_.data() + wire::kHeaderBytes,
                                      frame_.size() - wire::kHeaderBytes);
  const Client::Reply reply = client_->request(MessageType::kAct, body);
  if (reply.is_error()) {
    wire::ErrorInfo info = wire::parse_error(
        std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()));
    if (info.fatal) client_->connection().close();
    throw PeerError(std::move(info));
  }
  if (reply.header.type != static_cast<uint8_t>(MessageType::kActResult))
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          "expected ACT_RESULT, got " + wire::message_type_name(reply.header.type),
                          true);
  const wire::TensorView result = wire::decode_act_result(reply.body, actions, batch);
  if (actions.is_discrete()) {
    discrete_.resize(batch);
    std::memcpy(discrete_.data(), result.data.data(), result.data.size());
  } else {
    continuous_.resize(result.data.size() / 4);
    std::memcpy(continuous_.data(), result.data.data(), result.data.size());
  }
}

}  // namespace rl::remote

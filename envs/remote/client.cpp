#include "envs/remote/client.h"

#include <cstring>

namespace rl::remote {

using wire::MessageType;

std::unique_ptr<Client> Client::connect(const std::string& address, const ClientOptions& options) {
  const Endpoint endpoint = parse_address(address, "remote address");
  return std::make_unique<Client>(Connection::connect(endpoint, options.connect_timeout), options);
}

Client::Client(std::unique_ptr<Connection> connection, const ClientOptions& options)
    : connection_(std::move(connection)), options_(options) {
  handshake();
}

void Client::handshake() {
  wire::Hello hello;
  hello.token = options_.token;
  hello.num_envs = options_.num_envs;
  hello.max_body_bytes = options_.max_body_bytes;
  hello.observation_encoding = options_.observation_encoding;
  hello.capabilities = {"final_observation"};
  hello.client_name = options_.client_name;
  const uint32_t id = next_id();
  wire::build_frame(frame_, MessageType::kHello, id, wire::encode_hello(hello));
  connection_->send(frame_, options_.handshake_timeout);
  const Reply reply = read_reply(id, options_.handshake_timeout);
  if (reply.header.type != static_cast<uint8_t>(MessageType::kWelcome))
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          "expected WELCOME from " + connection_->peer() + ", got " +
                              wire::message_type_name(reply.header.type),
                          true);
  welcome_ = wire::parse_welcome(
      std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()));
  wire::negotiate_minor(welcome_.version_major, welcome_.version_minor);
  if (options_.num_envs && welcome_.num_envs != options_.num_envs)
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          connection_->peer() + " serves " + std::to_string(welcome_.num_envs) +
                              " envs, " + std::to_string(options_.num_envs) + " were asked for",
                          true);
}

Client::Reply Client::read_reply(uint32_t id, Millis timeout) {
  Reply reply;
  reply.header = connection_->read_frame(body_, options_.max_body_bytes, timeout);
  reply.body = body_;
  if (reply.header.request_id != id && !reply.is_error())
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          "reply from " + connection_->peer() + " answers request " +
                              std::to_string(reply.header.request_id) + ", expected " +
                              std::to_string(id),
                          true);
  if (reply.is_error()) {
    wire::ErrorInfo info = wire::parse_error(
        std::string_view(reinterpret_cast<const char*>(body_.data()), body_.size()));
    if (info.fatal) connection_->close();
    throw PeerError(std::move(info));
  }
  return reply;
}

Client::Reply Client::request(MessageType type, std::span<const uint8_t> body, uint8_t flags) {
  const uint32_t id = next_id();
  wire::build_frame(frame_, type, id, body, flags);
  connection_->send(frame_, options_.step_timeout);
  Reply reply;
  reply.header = connection_->read_frame(body_, options_.max_body_bytes, options_.step_timeout);
  reply.body = body_;
  return reply;
}

const wire::StepResultView& Client::exchange_step_result(uint32_t id) {
  connection_->send(frame_, options_.step_timeout);
  const Reply reply = read_reply(id, options_.step_timeout);
  if (reply.header.type != static_cast<uint8_t>(MessageType::kStepResult))
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          "expected STEP_RESULT from " + connection_->peer() + ", got " +
                              wire::message_type_name(reply.header.type),
                          true);
  std::span<const uint8_t> body = reply.body;
  if (reply.header.flags & wire::kFlagJsonBody) {
    wire::step_result_from_json(
        std::string_view(reinterpret_cast<const char*>(body.data()), body.size()),
        welcome_.observation_space, json_body_);
    body = json_body_;
  }
  result_ = wire::parse_step_result(body);
  wire::check_step_result(result_, welcome_.observation_space, welcome_.num_envs);
  return result_;
}

const wire::StepResultView& Client::reset(std::optional<uint64_t> seed) {
  const auto body = wire::encode_reset({seed.has_value(), seed.value_or(0)});
  const uint32_t id = next_id();
  wire::build_frame(frame_, MessageType::kReset, id, body);
  return exchange_step_result(id);
}

namespace {

// Builds a STEP frame around a tensor without intermediate copies.
template <typename T>
void build_step(std::vector<uint8_t>& frame, uint32_t id, wire::TensorDType dtype,
                const std::vector<uint32_t>& dims, std::span<const T> values) {
  const size_t th = wire::tensor_header_bytes(static_cast<int>(dims.size()));
  const size_t body = th + values.size_bytes();
  frame.resize(wire::kHeaderBytes + body);
  wire::encode_header(
      {static_cast<uint8_t>(MessageType::kStep), 0, static_cast<uint32_t>(body), id},
      std::span<uint8_t, wire::kHeaderBytes>(frame.data(), wire::kHeaderBytes));
  wire::write_tensor_header(frame.data() + wire::kHeaderBytes, dtype, dims);
  std::memcpy(frame.data() + wire::kHeaderBytes + th, values.data(), values.size_bytes());
}

}  // namespace

const wire::StepResultView& Client::step(std::span<const int64_t> actions) {
  if (!welcome_.action_space.is_discrete())
    throw std::invalid_argument("remote env has a Box action space; pass float actions");
  if (actions.size() != welcome_.num_envs)
    throw std::invalid_argument("remote step: " + std::to_string(actions.size()) + " actions for " +
                                std::to_string(welcome_.num_envs) + " envs");
  const uint32_t id = next_id();
  build_step(frame_, id, wire::TensorDType::kI64,
             wire::action_dims(welcome_.action_space, num_envs()), actions);
  return exchange_step_result(id);
}

const wire::StepResultView& Client::step(std::span<const float> actions) {
  if (welcome_.action_space.is_discrete())
    throw std::invalid_argument("remote env has a Discrete action space; pass integer actions");
  const size_t want = welcome_.num_envs * static_cast<size_t>(welcome_.action_space.numel());
  if (actions.size() != want)
    throw std::invalid_argument("remote step: " + std::to_string(actions.size()) +
                                " action values, expected " + std::to_string(want));
  const uint32_t id = next_id();
  build_step(frame_, id, wire::TensorDType::kF32,
             wire::action_dims(welcome_.action_space, num_envs()), actions);
  return exchange_step_result(id);
}

void Client::ping() {
  static const uint8_t payload[] = {'p', 'i', 'n', 'g', 0, 1, 2, 3};
  const uint32_t id = next_id();
  wire::build_frame(frame_, MessageType::kPing, id, std::span<const uint8_t>(payload));
  connection_->send(frame_, options_.step_timeout);
  const Reply reply = read_reply(id, options_.step_timeout);
  if (reply.header.type != static_cast<uint8_t>(MessageType::kPong) ||
      reply.body.size() != sizeof payload ||
      std::memcmp(reply.body.data(), payload, sizeof payload) != 0)
    throw wire::WireError(wire::ErrorCode::kBadMessage,
                          "PING to " + connection_->peer() + " was not answered by a matching PONG",
                          true);
}

void Client::close() {
  if (!is_open()) return;
  try {
    const uint32_t id = next_id();
    wire::build_frame(frame_, MessageType::kClose, id, std::span<const uint8_t>());
    connection_->send(frame_, options_.step_timeout);
    read_reply(id, options_.step_timeout);
  } catch (const std::exception&) {
    // Closing anyway; a peer that already went away is not an error here.
  }
  connection_->close();
}

}  // namespace rl::remote

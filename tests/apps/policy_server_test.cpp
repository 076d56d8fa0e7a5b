// The policy server (rlserve --policy, protocol 1.1): ACT answered with the policy's own greedy
// actions, in batches, with legal-action masks; bad observations refused without harm; the
// conformance checks; 1.0 clients still served by env servers (the command line:
// policy_cli_test.cpp).
#include "agents/torch_doctest.h"
// (torch_doctest.h first: see there.)
#include <cstring>
#include <functional>

#include "agents/experiment.h"
#include "agents/export/policy_export.h"
#include "apps/rlserve/policy/policy_service.h"
#include "core/rng.h"
#include "envs/remote/checker.h"
#include "envs/remote/connection.h"
#include "envs/remote/policy_client.h"
#include "run_app.h"
#include "test_support.h"

namespace rl::test {
namespace {

using remote::PolicyClient;
using wire::ErrorCode;
using wire::MessageType;

// The untrained agent of a shipped config, exported to `dir`/name.
std::string export_config(const TempDir& dir, const std::string& config, const std::string& name) {
  Experiment experiment =
      build_experiment(load_config((source_dir() / "configs" / config).string(), {}));
  const std::string path = (dir.path / name).string();
  save_policy(export_policy(experiment), path);
  return path;
}

// An in-process policy server for `policy_file` on an ephemeral loopback port.
struct ServedPolicy {
  ServedPolicy(const std::string& policy_file, uint32_t max_batch = 4096) {
    remote::ServerOptions options;
    options.service = serving::policy_service_factory(
        serving::load_policy_pool(policy_file, 2, [](const std::string&) {}), max_batch);
    options.threads = 2;
    server = std::make_unique<remote::Server>(std::move(options));
    server->start();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }
  std::unique_ptr<remote::Server> server;
};

std::vector<uint8_t> float_bytes(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<float> random_floats(size_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(count);
  for (float& v : values) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  return values;
}

ErrorCode refused_code(const std::function<void()>& request) {
  try {
    request();
  } catch (const remote::PeerError& e) {
    CHECK_FALSE(e.info().fatal);
    return e.info().code;
  }
  FAIL("expected an ERROR reply");
  return ErrorCode::kInternal;
}

TEST_CASE("policy server: batched ACT matches the policy acting locally; masks restrict it") {
  TempDir dir("policy_serve_dqn");
  const std::string file = export_config(dir, "dqn_cartpole.yaml", "dqn.pt");
  ServedPolicy served(file);
  auto client = PolicyClient::connect(served.address());
  CHECK(client->welcome().env_id == "classic/cartpole-v1");
  CHECK(client->welcome().version_minor == 1);
  CHECK(client->max_batch() == 4096);
  CHECK(client->action_space().n == 2);

  const uint32_t batch = 300;
  const std::vector<uint8_t> obs = float_bytes(random_floats(batch * 4, 3));
  client->act(obs, batch);
  REQUIRE(client->discrete().size() == batch);
  Policy local = Policy::load(file);
  int differ = 0, ones = 0;
  for (uint32_t i = 0; i < batch; ++i) {
    const Action a = local.act(std::span(obs).subspan(i * 16, 16));
    differ += a.index != client->discrete()[i];
    ones += client->discrete()[i] == 1;
  }
  CHECK(differ == 0);
  INFO("action 1 chosen ", ones, " times of ", batch);

  std::vector<uint8_t> legal(batch * 2, 0);
  for (uint32_t i = 0; i < batch; ++i) legal[i * 2 + i % 2] = 1;  // row i: only action i % 2
  client->act(obs, batch, legal);
  for (uint32_t i = 0; i < batch; ++i) CHECK(client->discrete()[i] == i % 2);
  client->close();
}

TEST_CASE("policy server: Box actions within the bounds, as the policy computes them") {
  TempDir dir("policy_serve_ppo");
  const std::string file = export_config(dir, "ppo_pendulum.yaml", "ppo.pt");
  ServedPolicy served(file);
  auto client = PolicyClient::connect(served.address());
  const Space& actions = client->action_space();
  REQUIRE_FALSE(actions.is_discrete());
  const uint32_t batch = 7;
  const std::vector<uint8_t> obs = float_bytes(random_floats(batch * 3, 5));
  client->act(obs, batch);
  REQUIRE(client->continuous().size() == batch * actions.numel());
  Policy local = Policy::load(file);
  for (uint32_t i = 0; i < batch; ++i) {
    const Action a = local.act(std::span(obs).subspan(i * 12, 12));
    for (int64_t k = 0; k < actions.numel(); ++k) {
      CHECK(client->continuous()[i * actions.numel() + k] == doctest::Approx(a.values[k]));
      CHECK(client->continuous()[i * actions.numel() + k] >= actions.low[k]);
      CHECK(client->continuous()[i * actions.numel() + k] <= actions.high[k]);
    }
  }
  // A mask makes no sense for Box actions: refused, and the connection keeps working.
  const uint32_t obs_dims[2] = {1, 3}, mask_dims[2] = {1, 1};
  std::vector<uint8_t> body(wire::tensor_header_bytes(2) + 12 + wire::tensor_header_bytes(2) + 1);
  wire::write_tensor_header(body.data(), wire::TensorDType::kF32, obs_dims);
  wire::write_tensor_header(body.data() + wire::tensor_header_bytes(2) + 12, wire::TensorDType::kU8,
                            mask_dims);
  body.back() = 1;
  const auto reply = client->client().request(MessageType::kAct, body);
  REQUIRE(reply.is_error());
  CHECK(wire::parse_error(
            std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()))
            .code == ErrorCode::kBadObservation);
  client->act(std::span(obs).first(12), 1);
  client->close();
}

TEST_CASE("policy server: bad observations get non-fatal errors; the server keeps serving") {
  TempDir dir("policy_serve_bad");
  ServedPolicy served(export_config(dir, "dqn_cartpole.yaml", "dqn.pt"), 8);
  auto client = PolicyClient::connect(served.address());
  CHECK(client->max_batch() == 8);
  const std::vector<uint8_t> obs = float_bytes(random_floats(9 * 4, 1));
  // Sizes the client itself can tell are wrong never reach the server.
  CHECK_THROWS_AS(client->act(std::span(obs).first(15), 1), std::invalid_argument);
  CHECK_THROWS_AS(client->act(obs, 9), std::invalid_argument);

  auto send = [&](wire::TensorDType dtype, std::vector<uint32_t> dims, size_t bytes) {
    std::vector<uint8_t> body(wire::tensor_header_bytes(static_cast<int>(dims.size())) + bytes);
    wire::write_tensor_header(body.data(), dtype, dims);
    const auto reply = client->client().request(MessageType::kAct, body);
    REQUIRE(reply.is_error());
    const auto info = wire::parse_error(
        std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()));
    CHECK_FALSE(info.fatal);
    return info;
  };
  CHECK(send(wire::TensorDType::kU8, {2, 4}, 8).code == ErrorCode::kBadObservation);
  CHECK(send(wire::TensorDType::kF32, {2, 5}, 40).code == ErrorCode::kBadObservation);
  CHECK(send(wire::TensorDType::kF32, {4}, 16).code == ErrorCode::kBadObservation);
  CHECK(send(wire::TensorDType::kF32, {0, 4}, 0).code == ErrorCode::kBadObservation);
  const auto too_many = send(wire::TensorDType::kF32, {9, 4}, 144);
  CHECK(too_many.code == ErrorCode::kBadObservation);
  CHECK(contains(too_many.message, "1 to 8"));
  CHECK(send(wire::TensorDType::kF32, {2, 4}, 7).code == ErrorCode::kBadMessage);  // truncated
  // An all-illegal mask row.
  std::vector<uint8_t> legal(2 * 2, 0);
  legal[1] = 1;
  CHECK(refused_code([&] { client->act(std::span(obs).first(32), 2, legal); }) ==
        ErrorCode::kBadObservation);
  // STEP and RESET belong to env servers.
  CHECK(refused_code([&] {
          const auto reply =
              client->client().request(MessageType::kReset, wire::encode_reset({true, 1}));
          REQUIRE(reply.is_error());
          throw remote::PeerError(wire::parse_error(std::string_view(
              reinterpret_cast<const char*>(reply.body.data()), reply.body.size())));
        }) == ErrorCode::kUnsupported);
  client->act(std::span(obs).first(32), 2);
  CHECK(client->discrete().size() == 2);
  client->ping();
  client->close();
}

TEST_CASE("policy server: passes the conformance checks; 1.0 clients are refused clearly") {
  TempDir dir("policy_serve_check");
  ServedPolicy served(export_config(dir, "dqn_cartpole.yaml", "dqn.pt"));
  const auto results = remote::run_conformance_checks(served.address(), {});
  int act_checks = 0;
  for (const auto& r : results) {
    INFO(r.name, ": ", r.detail);
    CHECK(r.passed);
    act_checks += contains(r.name, "ACT");
  }
  CHECK(act_checks >= 7);

  auto c = remote::Connection::connect(remote::parse_address(served.address(), "test"),
                                       remote::Millis(2000));
  wire::Hello old;
  old.version_minor = 0;
  std::vector<uint8_t> frame, body;
  wire::build_frame(frame, MessageType::kHello, 1, wire::encode_hello(old));
  c->send(frame, remote::Millis(2000));
  const auto h = c->read_frame(body, wire::kDefaultMaxBodyBytes, remote::Millis(2000));
  REQUIRE(h.type == static_cast<uint8_t>(MessageType::kError));
  const auto info =
      wire::parse_error(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
  CHECK(info.fatal);
  CHECK(contains(info.message, "1.1"));
}

TEST_CASE("env server: a 1.0 client is served as before; ACT there is unsupported") {
  remote::ServerOptions options;
  options.env_id = "classic/cartpole-v1";
  remote::Server server(options);
  server.start();
  auto c = remote::Connection::connect({"127.0.0.1", server.port()}, remote::Millis(2000));
  std::vector<uint8_t> frame, body;
  auto exchange = [&](MessageType type, std::span<const uint8_t> payload) {
    wire::build_frame(frame, type, 7, payload);
    c->send(frame, remote::Millis(2000));
    return c->read_frame(body, wire::kDefaultMaxBodyBytes, remote::Millis(2000));
  };
  wire::Hello old;
  old.version_minor = 0;
  const std::string hello = wire::encode_hello(old);
  auto h = exchange(MessageType::kHello,
                    std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()));
  REQUIRE(h.type == static_cast<uint8_t>(MessageType::kWelcome));
  const std::string welcome_text(body.begin(), body.end());
  CHECK(contains(welcome_text, "\"version\":[1,0]"));
  CHECK_FALSE(contains(welcome_text, "max_act_batch"));
  CHECK_FALSE(contains(welcome_text, "\"act\""));
  const auto welcome = wire::parse_welcome(welcome_text);
  CHECK(welcome.version_minor == 0);

  h = exchange(MessageType::kReset, wire::encode_reset({true, 3}));
  REQUIRE(h.type == static_cast<uint8_t>(MessageType::kStepResult));
  CHECK(wire::parse_step_result(body).num_envs == 1);
  const int64_t action = 1;
  std::vector<uint8_t> step(wire::tensor_header_bytes(1) + 8);
  const uint32_t dims[1] = {1};
  wire::write_tensor_header(step.data(), wire::TensorDType::kI64, dims);
  std::memcpy(step.data() + wire::tensor_header_bytes(1), &action, 8);
  h = exchange(MessageType::kStep, step);
  REQUIRE(h.type == static_cast<uint8_t>(MessageType::kStepResult));

  std::vector<uint8_t> act(wire::tensor_header_bytes(2) + 16);
  const uint32_t obs_dims[2] = {1, 4};
  wire::write_tensor_header(act.data(), wire::TensorDType::kF32, obs_dims);
  h = exchange(MessageType::kAct, act);
  REQUIRE(h.type == static_cast<uint8_t>(MessageType::kError));
  const auto info =
      wire::parse_error(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
  CHECK(info.code == ErrorCode::kUnsupported);
  CHECK_FALSE(info.fatal);
  h = exchange(MessageType::kStep, step);
  CHECK(h.type == static_cast<uint8_t>(MessageType::kStepResult));
}

}  // namespace
}  // namespace rl::test

// The C++ server and client over loopback: the protocol's happy path, auto-reset with final
// observations, and every bad-input case of the issue (each answered with an ERROR or a clean
// close, while the server keeps serving other peers).
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "envs/remote/checker.h"
#include "remote_test_util.h"

namespace rl::remote {
namespace {

using namespace testing;
using wire::ErrorCode;
using wire::MessageType;
using wire::StepType;

// The server is still fine: a new client can handshake, reset and step.
void check_still_serving(const std::string& address) {
  auto client = Client::connect(address, client_options());
  client->reset(1);
  const std::vector<int64_t> actions(client->num_envs(), 1);
  CHECK(client->step(actions).num_envs == client->num_envs());
  client->close();
}

TEST_CASE("remote: handshake declares the spaces; reset and step three envs with auto-reset") {
  TestServer server(server_options("test/wire_counter-v0", 3));
  auto client = Client::connect(server.address(), client_options());
  const wire::Welcome& w = client->welcome();
  CHECK(w.env_id == "test/wire_counter-v0");
  CHECK(w.num_envs == 3);
  CHECK(w.observation_space == Space::box({3}, 0.f, 100.f, DType::kF32));
  CHECK(w.action_space == Space::discrete(3));
  CHECK(w.reward_max == 2.f);

  const auto& first = client->reset(100);
  const std::vector<uint8_t> first_bytes(first.observations.data.begin(),
                                         first.observations.data.end());
  wire::TensorView first_copy = first.observations;
  first_copy.data = first_bytes;
  std::vector<float> lengths;
  for (uint32_t i = 0; i < 3; ++i) {
    CHECK(first.step_type(i) == StepType::kFirst);
    const auto row = row_f32(first.observations, i, 3);
    CHECK(row[0] == 0.f);
    lengths.push_back(row[2]);
  }
  // Each env ends after its own length (observation element 2); its final observation then
  // holds that step count and the new episode's first observation is back at step 0.
  const std::vector<int64_t> actions{0, 1, 2};
  std::vector<float> steps(3, 0.f);
  int ended = 0;
  for (int t = 1; t <= 20; ++t) {
    const auto& r = client->step(actions);
    uint32_t final_row = 0;
    for (uint32_t i = 0; i < 3; ++i) {
      CHECK(r.reward(i) == static_cast<float>(actions[i]));
      steps[i] += 1;
      const auto row = row_f32(r.observations, i, 3);
      if (steps[i] == lengths[i]) {
        CHECK(r.step_type(i) == StepType::kTerminated);
        const auto final_obs = row_f32(r.final_observations, final_row++, 3);
        CHECK(final_obs[0] == steps[i]);
        CHECK(final_obs[1] == static_cast<float>(actions[i]));
        CHECK(row[0] == 0.f);
        steps[i] = 0;
        lengths[i] = row[2];
        ++ended;
      } else {
        CHECK(r.step_type(i) == StepType::kMid);
        CHECK(row[0] == steps[i]);
        CHECK(row[1] == static_cast<float>(actions[i]));
      }
    }
    CHECK(r.num_final == final_row);
  }
  CHECK(ended >= 6);
  // Same seed, same first observations.
  const auto& again = client->reset(100);
  for (uint32_t i = 0; i < 3; ++i)
    CHECK(row_f32(again.observations, i, 3)[2] == row_f32(first_copy, i, 3)[2]);
  client->ping();
  client->close();
  CHECK(!client->is_open());
}

TEST_CASE("remote: u8 observations, Box actions, truncation and the requested env count") {
  TestServer server(server_options("test/wire_box-v0", 1));
  auto client = Client::connect(server.address(), client_options(2));
  REQUIRE(client->num_envs() == 2);
  client->reset(5);
  const std::vector<float> actions{0.5f, 0.25f, -1.f, 1.f};
  for (int t = 1; t <= 4; ++t) {
    const auto& r = client->step(actions);
    CHECK(r.reward(0) == doctest::Approx(0.75f));
    CHECK(r.reward(1) == doctest::Approx(0.f));
    CHECK(r.observations.describe() == "u8[2,2,3]");
    CHECK(r.step_type(0) == (t == 4 ? StepType::kTruncated : StepType::kMid));
    if (t < 4) {
      CHECK(r.observations.data[0] == 1);  // env 0 pushed a positive first action
      CHECK(r.observations.data[6] == 0);
    }
  }
  const std::vector<float> bad{0.5f, 0.25f, -1.f, 3.f};
  try {
    client->step(bad);
    FAIL("expected an error");
  } catch (const PeerError& e) {
    CHECK(e.info().code == ErrorCode::kActionOutOfRange);
    CHECK(!e.info().fatal);
  }
  CHECK(client->step(actions).num_envs == 2);  // still usable
  client->close();
}

TEST_CASE("remote: wrong magic, oversized length, truncated frame: fatal error, others unharmed") {
  TestServer server(server_options("test/wire_counter-v0"));
  auto bystander = Client::connect(server.address(), client_options());
  bystander->reset(1);

  SUBCASE("wrong magic") {
    auto c = raw_connect(server.address());
    const std::string junk = "JUNKJUNKJUNKJUNK";
    c->send(std::span(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()), Millis(1000));
    const auto e = read_error(*c);
    CHECK(e.code == ErrorCode::kBadFrame);
    CHECK(e.fatal);
    CHECK(c->wait_closed(Millis(2000)));
  }
  SUBCASE("oversized length before and after the handshake") {
    auto c = raw_connect(server.address());
    std::array<uint8_t, wire::kHeaderBytes> header;
    wire::encode_header({static_cast<uint8_t>(MessageType::kHello), 0, 1u << 30, 1}, header);
    c->send(header, Millis(1000));
    auto e = read_error(*c);
    CHECK(e.code == ErrorCode::kFrameTooLarge);
    CHECK(c->wait_closed(Millis(2000)));
    auto h = handshaken(server.address());
    wire::encode_header({static_cast<uint8_t>(MessageType::kStep), 0, 1u << 20, 2}, header);
    h->send(header, Millis(1000));
    e = read_error(*h);
    CHECK(e.code == ErrorCode::kFrameTooLarge);
    CHECK(e.message.find("limit") != std::string::npos);
  }
  SUBCASE("truncated frame then disconnect") {
    auto c = handshaken(server.address());
    std::array<uint8_t, wire::kHeaderBytes> header;
    wire::encode_header({static_cast<uint8_t>(MessageType::kReset), 0, 16, 2}, header);
    c->send(header, Millis(1000));
    const uint8_t part[5] = {1, 0, 0, 0, 0};
    c->send(part, Millis(1000));
    c->close();
  }
  SUBCASE("truncated frame that stalls hits the read deadline") {
    auto c = handshaken(server.address());
    std::array<uint8_t, wire::kHeaderBytes> header;
    wire::encode_header({static_cast<uint8_t>(MessageType::kReset), 0, 16, 2}, header);
    c->send(header, Millis(1000));
    const auto start = std::chrono::steady_clock::now();
    const auto e = read_error(*c);  // read_timeout is 1 s
    CHECK(e.code == ErrorCode::kTimeout);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  }
  const std::vector<int64_t> action{1};
  CHECK(bystander->step(action).num_envs == 1);
  check_still_serving(server.address());
}

TEST_CASE("remote: handshake failures: bad JSON, version mismatch, token, message before HELLO") {
  auto options = server_options("test/wire_counter-v0");
  options.token = "open sesame";
  TestServer server(options);

  auto expect_fatal = [&](std::string_view hello, ErrorCode code) {
    auto c = raw_connect(server.address());
    send_text(*c, MessageType::kHello, 1, hello);
    const auto e = read_error(*c);
    CHECK(e.code == code);
    CHECK(e.fatal);
    CHECK(c->wait_closed(Millis(2000)));
    return e;
  };
  expect_fatal("{\"protocol\": \"rlcade-wire\", ", ErrorCode::kBadJson);
  expect_fatal("{\"protocol\": \"rlcade-wire\"}", ErrorCode::kBadMessage);
  wire::Hello future;
  future.version_major = 2;
  future.version_minor = 0;
  future.token = "open sesame";
  CHECK(expect_fatal(wire::encode_hello(future), ErrorCode::kVersionMismatch).message.find("2.0") !=
        std::string::npos);
  expect_fatal(hello_text("open sesamE"), ErrorCode::kUnauthorized);
  CHECK(expect_fatal(hello_text(""), ErrorCode::kUnauthorized).message.find("requires a token") !=
        std::string::npos);

  {
    auto c = raw_connect(server.address());
    send_frame(*c, MessageType::kReset, 1, wire::encode_reset({}));
    const auto e = read_error(*c);
    CHECK(e.code == ErrorCode::kInvalidState);
    CHECK(e.fatal);
  }
  // Client side: a wrong token surfaces as a PeerError naming the problem.
  auto client_opts = client_options();
  client_opts.token = "wrong";
  try {
    Client::connect(server.address(), client_opts);
    FAIL("expected an error");
  } catch (const PeerError& e) {
    CHECK(e.info().code == ErrorCode::kUnauthorized);
  }
  client_opts.token = "open sesame";
  auto client = Client::connect(server.address(), client_opts);
  client->reset(3);
  client->close();
}

TEST_CASE("remote: bad requests after the handshake are non-fatal errors") {
  TestServer server(server_options("test/wire_counter-v0", 2));
  auto c = handshaken(server.address());
  const std::vector<int64_t> ok{0, 2};
  const auto step_ok = tensor(wire::TensorDType::kI64, {2}, ok);

  send_frame(*c, MessageType::kStep, 2, step_ok);
  CHECK(read_error(*c).code == ErrorCode::kInvalidState);  // STEP before RESET

  send_frame(*c, MessageType::kReset, 3, wire::encode_reset({true, 9}));
  std::vector<uint8_t> body;
  CHECK(wire::message_type_name(c->read_frame(body, 1 << 20, Millis(2000)).type) == "STEP_RESULT");

  const std::vector<float> as_float{0.f, 1.f};
  send_frame(*c, MessageType::kStep, 4, tensor(wire::TensorDType::kF32, {2}, as_float));
  auto e = read_error(*c);
  CHECK(e.code == ErrorCode::kBadAction);
  CHECK(!e.fatal);
  CHECK(e.message.find("expected i64[2]") != std::string::npos);

  const std::vector<int64_t> three{0, 1, 2};
  send_frame(*c, MessageType::kStep, 5, tensor(wire::TensorDType::kI64, {3}, three));
  CHECK(read_error(*c).code == ErrorCode::kBadAction);

  const std::vector<int64_t> out_of_range{0, 3};
  send_frame(*c, MessageType::kStep, 6, tensor(wire::TensorDType::kI64, {2}, out_of_range));
  e = read_error(*c);
  CHECK(e.code == ErrorCode::kActionOutOfRange);
  CHECK(e.message.find("env 1") != std::string::npos);

  send_frame(*c, MessageType::kStep, 7, std::span<const uint8_t>(step_ok).first(6));
  CHECK(read_error(*c).code == ErrorCode::kBadMessage);

  send_frame(*c, MessageType::kReset, 8, std::span<const uint8_t>(step_ok).first(3));
  CHECK(read_error(*c).code == ErrorCode::kBadMessage);

  send_frame(*c, static_cast<MessageType>(77), 9, {});
  CHECK(read_error(*c).code == ErrorCode::kUnsupported);

  send_text(*c, MessageType::kHello, 10, hello_text());
  CHECK(read_error(*c).code == ErrorCode::kInvalidState);

  const std::vector<uint8_t> big_ping(2000, 7);
  send_frame(*c, MessageType::kPing, 11, big_ping);
  CHECK(read_error(*c).code == ErrorCode::kBadMessage);

  // After all that, the connection still steps, and replies carry the request id.
  send_frame(*c, MessageType::kStep, 12, step_ok);
  const auto h = c->read_frame(body, 1 << 20, Millis(2000));
  CHECK(wire::message_type_name(h.type) == "STEP_RESULT");
  CHECK(h.request_id == 12);
  CHECK(wire::parse_step_result(body).num_envs == 2);
}

TEST_CASE("remote: stalling peers hit deadlines on both sides") {
  auto options = server_options("test/wire_counter-v0");
  options.handshake_timeout = Millis(300);
  options.idle_timeout = Millis(300);
  TestServer server(options);
  const auto start = std::chrono::steady_clock::now();
  {
    auto silent = raw_connect(server.address());
    const auto e = read_error(*silent);
    CHECK(e.code == ErrorCode::kTimeout);
    CHECK(silent->wait_closed(Millis(2000)));
  }
  {
    auto idle = handshaken(server.address());
    CHECK(read_error(*idle).code == ErrorCode::kTimeout);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));

  // A "server" that accepts and never answers: the client gives up at its deadline.
  Listener mute(Endpoint{"127.0.0.1", 0});
  auto opts = client_options();
  opts.handshake_timeout = Millis(300);
  std::unique_ptr<Connection> accepted;
  std::thread acceptor([&] { accepted = mute.accept(Millis(3000)); });
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(Client::connect("127.0.0.1:" + std::to_string(mute.port()), opts),
                  ConnectionError);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  acceptor.join();
}

TEST_CASE("remote: many connections at once, and the connection limit") {
  auto options = server_options("test/wire_counter-v0", 4);
  options.threads = 2;
  options.max_connections = 24;
  TestServer server(options);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 16; ++k)
    threads.emplace_back([&, k] {
      try {
        auto client = Client::connect(server.address(), client_options());
        client->reset(k);
        std::vector<int64_t> actions(4);
        int64_t total = 0;
        for (int t = 0; t < 200; ++t) {
          for (auto& a : actions) a = (t + k) % 3;
          const auto& r = client->step(actions);
          for (uint32_t i = 0; i < 4; ++i) total += static_cast<int64_t>(r.reward(i));
        }
        int64_t expected = 0;
        for (int t = 0; t < 200; ++t) expected += 4 * ((t + k) % 3);
        if (total == expected) ++good;
        if (k % 2) client->close();  // the others just drop the connection
      } catch (const std::exception& e) {
        MESSAGE("client ", k, " failed: ", e.what());
      }
    });
  for (auto& t : threads) t.join();
  CHECK(good == 16);

  for (int tries = 0; tries < 100 && server.server().stats().active > 0; ++tries)
    std::this_thread::sleep_for(Millis(20));
  std::vector<std::unique_ptr<Client>> held;
  for (int k = 0; k < 24; ++k) held.push_back(Client::connect(server.address(), client_options()));
  try {
    Client::connect(server.address(), client_options());
    FAIL("expected the server to be busy");
  } catch (const PeerError& e) {
    CHECK(e.info().code == ErrorCode::kBusy);
  }
  held.clear();
  for (int tries = 0; tries < 100 && server.server().stats().active > 0; ++tries)
    std::this_thread::sleep_for(Millis(20));
  CHECK(server.server().stats().active == 0);
  CHECK(server.server().stats().rejected_busy >= 1);
  check_still_serving(server.address());
}

TEST_CASE("remote: JSON observations give the same results as binary ones") {
  TestServer server(server_options("test/wire_box-v0", 3));
  auto binary = Client::connect(server.address(), client_options());
  auto json_opts = client_options();
  json_opts.observation_encoding = "json";
  auto json = Client::connect(server.address(), json_opts);
  CHECK(json->welcome().observation_encoding == "json");
  const std::vector<float> actions{0.5f, 0.f, -0.5f, 0.25f, 1.f, -1.f};
  for (int t = 0; t < 6; ++t) {
    const auto& a = t == 0 ? binary->reset(4) : binary->step(actions);
    const std::vector<uint8_t> obs_a(a.observations.data.begin(), a.observations.data.end());
    const std::vector<uint8_t> types_a(a.step_types.begin(), a.step_types.end());
    const auto& b = t == 0 ? json->reset(4) : json->step(actions);
    CHECK(obs_a == std::vector<uint8_t>(b.observations.data.begin(), b.observations.data.end()));
    CHECK(types_a == std::vector<uint8_t>(b.step_types.begin(), b.step_types.end()));
  }
}

TEST_CASE("remote: the conformance checker passes our server and catches a broken one") {
  for (const char* id : {"test/wire_counter-v0", "test/wire_box-v0"}) {
    INFO("env ", id);
    TestServer server(server_options(id, 2));
    CheckOptions options;
    options.timeout = Millis(2000);
    const auto results = run_conformance_checks(server.address(), options);
    CHECK(results.size() == 11);
    for (const auto& r : results) {
      INFO(r.name, ": ", r.detail);
      CHECK(r.passed);
    }
  }
  // A peer that accepts and closes at once fails the first check with a clear reason.
  Listener rude(Endpoint{"127.0.0.1", 0});
  std::thread closer([&] { rude.accept(Millis(3000))->close(); });
  CheckOptions options;
  options.timeout = Millis(1000);
  const auto results = run_conformance_checks("127.0.0.1:" + std::to_string(rude.port()), options);
  closer.join();
  REQUIRE(results.size() == 1);
  CHECK(!results[0].passed);
  CHECK(results[0].detail.find("closed") != std::string::npos);
}

}  // namespace
}  // namespace rl::remote

#include "envs/remote/checker.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/rng.h"
#include "envs/remote/client.h"
#include "envs/remote/policy_client.h"

namespace rl::remote {
namespace {

using wire::ErrorCode;
using wire::MessageType;

class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void require(bool ok, const std::string& what) {
  if (!ok) throw CheckFailed(what);
}

class Checker {
 public:
  Checker(std::string address, CheckOptions options)
      : address_(std::move(address)), options_(std::move(options)) {
    client_options_.token = options_.token;
    client_options_.connect_timeout = options_.timeout;
    client_options_.handshake_timeout = options_.timeout;
    client_options_.step_timeout = options_.timeout;
    client_options_.client_name = "rlserve --check";
  }

  std::vector<CheckResult> run() {
    check("handshake and declared spaces", [&] { return handshake(); });
    if (!results_.back().passed) return results_;  // nothing else can work
    check("version mismatch is refused", [&] { return version_mismatch(); });
    check("bad magic is refused, server keeps serving", [&] { return bad_magic(); });
    if (serves_policy()) {
      run_act_checks();
    } else {
      run_env_checks();
    }
    check("PING is answered by PONG", [&] { return ping(); });
    check("CLOSE is answered and the connection closed", [&] { return close(); });
    return results_;
  }

 private:
  bool serves_policy() const {
    const auto& caps = welcome_.capabilities;
    return std::find(caps.begin(), caps.end(), "act") != caps.end();
  }

  void run_env_checks() {
    check("STEP before RESET is refused", [&] { return step_before_reset(); });
    check("reset: first observations, reproducible with a seed", [&] { return reset(); });
    check("wrong action dtype is refused", [&] { return wrong_dtype(); });
    check("wrong action shape is refused", [&] { return wrong_shape(); });
    check("out-of-range action is refused", [&] { return out_of_range(); });
    check("steps, rewards, auto-reset with final observations", [&] { return stepping(); });
  }

  // Servers of a policy (capability "act", protocol 1.1): ACT instead of RESET and STEP.
  void run_act_checks() {
    check("ACT: a 1.0 client is refused", [&] { return old_client_refused(); });
    check("ACT: actions within the action space, a batch as its rows one by one",
          [&] { return act_batches(); });
    if (welcome_.action_space.is_discrete())
      check("ACT: a legal-action mask restricts the choice", [&] { return act_masked(); });
    check("ACT: wrong observation dtype is refused, server keeps serving",
          [&] { return refused_act(wrong_dtype_observations(), ErrorCode::kBadObservation); });
    check("ACT: wrong observation shape is refused, server keeps serving",
          [&] { return refused_act(wrong_shape_observations(), ErrorCode::kBadObservation); });
    check("ACT: an empty batch is refused, server keeps serving",
          [&] { return refused_act(observation_tensor(0, {}), ErrorCode::kBadObservation); });
    check("ACT: trailing bytes are refused, server keeps serving", [&] {
      std::vector<uint8_t> body = observation_tensor(1, random_observations(1));
      body.push_back(0);
      return refused_act(body, ErrorCode::kBadMessage);
    });
    check("ACT server: STEP is refused as unsupported", [&] {
      auto client = open();
      const int64_t action = 0;
      const std::string what = expect_error(
          client->request(MessageType::kStep,
                          action_tensor(wire::TensorDType::kI64, {1}, &action, sizeof action)),
          {ErrorCode::kUnsupported}, false);
      client->close();
      return what;
    });
  }
  void check(const std::string& name, const std::function<std::string()>& body) {
    CheckResult r{name, false, ""};
    try {
      r.detail = body();
      r.passed = true;
    } catch (const std::exception& e) {
      r.detail = e.what();
    }
    results_.push_back(r);
  }

  std::unique_ptr<Client> open() { return Client::connect(address_, client_options_); }

  std::unique_ptr<Connection> raw() {
    return Connection::connect(parse_address(address_, "check address"), options_.timeout);
  }

  // Expects an ERROR frame with one of `codes` in reply to the last request.
  static std::string expect_error(const Client::Reply& reply,
                                  std::initializer_list<ErrorCode> codes, bool must_be_fatal) {
    require(reply.is_error(),
            "expected an ERROR frame, got " + wire::message_type_name(reply.header.type));
    const wire::ErrorInfo info = wire::parse_error(
        std::string_view(reinterpret_cast<const char*>(reply.body.data()), reply.body.size()));
    bool known = false;
    for (ErrorCode c : codes) known = known || info.code == c;
    require(known, std::string("ERROR has code ") + wire::error_code_name(info.code) + ": " +
                       info.message);
    require(!must_be_fatal || info.fatal, "ERROR should be fatal");
    require(!info.message.empty(), "ERROR message is empty");
    return std::string(wire::error_code_name(info.code)) + ": " + info.message;
  }

  void check_observation_rows(const wire::TensorView& t) const {
    const Space& space = welcome_.observation_space;
    const uint64_t numel = static_cast<uint64_t>(space.numel());
    for (uint64_t k = 0; k < t.numel(); ++k) {
      float v;
      if (space.dtype == DType::kU8) {
        v = t.data[k];
      } else {
        std::memcpy(&v, t.data.data() + 4 * k, 4);
      }
      const size_t e = static_cast<size_t>(k % numel);
      require(!std::isnan(v) && v >= space.low[e] && v <= space.high[e],
              "observation value " + std::to_string(v) + " at element " + std::to_string(e) +
                  " is outside the declared bounds");
    }
  }

  std::string handshake() {
    auto client = open();
    welcome_ = client->welcome();
    require(welcome_.num_envs >= 1, "num_envs must be at least 1");
    require(!welcome_.env_id.empty(), "env_id is empty");
    require(welcome_.reward_min <= welcome_.reward_max, "reward_range is reversed");
    client->close();
    return welcome_.env_id + ": " + std::to_string(welcome_.num_envs) + " env(s), observations " +
           welcome_.observation_space.describe() + ", actions " + welcome_.action_space.describe();
  }

  std::string version_mismatch() {
    auto c = raw();
    wire::Hello hello;
    hello.version_major = wire::kVersionMajor + 98;
    hello.token = options_.token;
    std::vector<uint8_t> frame, body;
    wire::build_frame(frame, MessageType::kHello, 1, wire::encode_hello(hello));
    c->send(frame, options_.timeout);
    Client::Reply reply{c->read_frame(body, wire::kDefaultMaxBodyBytes, options_.timeout), body};
    const std::string what = expect_error(reply, {ErrorCode::kVersionMismatch}, true);
    require(c->wait_closed(options_.timeout), "connection still open after a fatal ERROR");
    return what;
  }

  std::string bad_magic() {
    {
      auto c = raw();
      const std::string garbage = "GET / HTTP/1.1\r\n\r\n";
      c->send(std::span(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()),
              options_.timeout);
      std::vector<uint8_t> body;
      try {
        const auto h = c->read_frame(body, wire::kDefaultMaxBodyBytes, options_.timeout);
        expect_error(Client::Reply{h, body}, {ErrorCode::kBadFrame}, true);
      } catch (const ConnectionError&) {
        // A clean close without an ERROR frame is acceptable too.
      }
      require(c->wait_closed(options_.timeout), "connection still open after bad magic");
    }
    open()->close();
    return "refused; a new connection still works";
  }

  std::vector<uint8_t> action_tensor(wire::TensorDType dtype, std::vector<uint32_t> dims,
                                     const void* data, size_t bytes) const {
    std::vector<uint8_t> out(wire::tensor_header_bytes(static_cast<int>(dims.size())) + bytes);
    wire::write_tensor_header(out.data(), dtype, dims);
    std::memcpy(out.data() + out.size() - bytes, data, bytes);
    return out;
  }

  // A valid action tensor for all envs (action 0, or the middle of each Box range).
  std::vector<uint8_t> valid_actions() const {
    const Space& a = welcome_.action_space;
    const auto dims = wire::action_dims(a, welcome_.num_envs);
    if (a.is_discrete()) {
      std::vector<int64_t> v(welcome_.num_envs, 0);
      return action_tensor(wire::TensorDType::kI64, dims, v.data(), v.size() * 8);
    }
    std::vector<float> v;
    for (uint32_t i = 0; i < welcome_.num_envs; ++i)
      for (int64_t k = 0; k < a.numel(); ++k) v.push_back(middle(a, k));
    return action_tensor(wire::TensorDType::kF32, dims, v.data(), v.size() * 4);
  }

  static float middle(const Space& a, int64_t k) {
    const float lo = a.low[k], hi = a.high[k];
    if (std::isfinite(lo) && std::isfinite(hi)) return lo + (hi - lo) / 2;
    return std::isfinite(lo) ? lo : std::isfinite(hi) ? hi : 0.f;
  }

  std::string step_before_reset() {
    auto client = open();
    const auto reply = client->request(MessageType::kStep, valid_actions());
    const std::string what = expect_error(reply, {ErrorCode::kInvalidState}, false);
    client->close();
    return what;
  }

  std::string reset() {
    auto client = open();
    const auto& first = client->reset(options_.seed);
    for (uint32_t i = 0; i < first.num_envs; ++i)
      require(first.step_type(i) == wire::StepType::kFirst, "reset step type is not first");
    check_observation_rows(first.observations);
    const std::vector<uint8_t> a(first.observations.data.begin(), first.observations.data.end());
    const auto& again = client->reset(options_.seed);
    const std::vector<uint8_t> b(again.observations.data.begin(), again.observations.data.end());
    require(a == b, "two resets with the same seed gave different observations");
    client->close();
    return "ok";
  }

  // Sends `body` as a STEP after a reset, expects a non-fatal ERROR, then a PING round trip.
  std::string refused_step(const std::vector<uint8_t>& body,
                           std::initializer_list<ErrorCode> codes) {
    auto client = open();
    client->reset(options_.seed);
    const std::string what = expect_error(client->request(MessageType::kStep, body), codes, false);
    client->ping();
    const auto next = client->request(MessageType::kStep, valid_actions());
    require(next.header.type == static_cast<uint8_t>(MessageType::kStepResult),
            "a valid STEP after the refused one got " + wire::message_type_name(next.header.type) +
                " instead of STEP_RESULT");
    client->close();
    return what;
  }

  std::string wrong_dtype() {
    const Space& a = welcome_.action_space;
    const auto dims = wire::action_dims(a, welcome_.num_envs);
    const size_t numel = welcome_.num_envs * static_cast<size_t>(a.numel());
    if (a.is_discrete()) {
      const std::vector<float> v(numel, 0.f);
      return refused_step(action_tensor(wire::TensorDType::kF32, dims, v.data(), v.size() * 4),
                          {ErrorCode::kBadAction});
    }
    const std::vector<int64_t> v(numel, 0);
    return refused_step(action_tensor(wire::TensorDType::kI64, dims, v.data(), v.size() * 8),
                        {ErrorCode::kBadAction});
  }

  std::string wrong_shape() {
    const Space& a = welcome_.action_space;
    auto dims = wire::action_dims(a, welcome_.num_envs);
    dims[0] += 1;
    const size_t numel = dims[0] * static_cast<size_t>(a.numel());
    if (a.is_discrete()) {
      const std::vector<int64_t> v(numel, 0);
      return refused_step(action_tensor(wire::TensorDType::kI64, dims, v.data(), v.size() * 8),
                          {ErrorCode::kBadAction});
    }
    const std::vector<float> v(numel, 0.f);
    return refused_step(action_tensor(wire::TensorDType::kF32, dims, v.data(), v.size() * 4),
                        {ErrorCode::kBadAction});
  }

  std::string out_of_range() {
    const Space& a = welcome_.action_space;
    const auto dims = wire::action_dims(a, welcome_.num_envs);
    if (a.is_discrete()) {
      std::vector<int64_t> v(welcome_.num_envs, 0);
      v.back() = a.n;
      return refused_step(action_tensor(wire::TensorDType::kI64, dims, v.data(), v.size() * 8),
                          {ErrorCode::kActionOutOfRange});
    }
    std::vector<float> v;
    for (uint32_t i = 0; i < welcome_.num_envs; ++i)
      for (int64_t k = 0; k < a.numel(); ++k) v.push_back(middle(a, k));
    v.back() = std::isfinite(a.high.back()) ? a.high.back() + 1.f + std::fabs(a.high.back())
                                            : std::nanf("");
    return refused_step(action_tensor(wire::TensorDType::kF32, dims, v.data(), v.size() * 4),
                        {ErrorCode::kActionOutOfRange});
  }

  std::string stepping() {
    auto client = open();
    client->reset(options_.seed);
    Rng rng(options_.seed);
    const Space& a = welcome_.action_space;
    std::vector<int64_t> discrete(welcome_.num_envs);
    std::vector<float> continuous, values;
    int64_t episodes = 0, steps = 0;
    for (; steps < options_.max_steps && (episodes == 0 || steps < 50); ++steps) {
      const wire::StepResultView* r;
      if (a.is_discrete()) {
        for (auto& x : discrete) x = sample_space(a, rng, values);
        r = &client->step(discrete);
      } else {
        continuous.clear();
        for (uint32_t i = 0; i < welcome_.num_envs; ++i) {
          sample_space(a, rng, values);
          continuous.insert(continuous.end(), values.begin(), values.end());
        }
        r = &client->step(continuous);
      }
      check_observation_rows(r->observations);
      check_observation_rows(r->final_observations);
      for (uint32_t i = 0; i < r->num_envs; ++i) {
        require(r->step_type(i) != wire::StepType::kFirst, "a STEP reply has step type first");
        const float reward = r->reward(i);
        require(
            !std::isnan(reward) && reward >= welcome_.reward_min && reward <= welcome_.reward_max,
            "reward " + std::to_string(reward) + " is outside the declared reward_range");
      }
      episodes += r->num_final;
    }
    require(episodes > 0, "no episode ended within " + std::to_string(options_.max_steps) +
                              " steps of random actions (raise --check-steps?)");
    client->close();
    return std::to_string(steps) + " steps, " + std::to_string(episodes) + " episodes ended";
  }

  // ---- ACT ----------------------------------------------------------------------------------

  std::unique_ptr<PolicyClient> open_policy() {
    return PolicyClient::connect(address_, client_options_);
  }

  std::string old_client_refused() {
    auto c = raw();
    wire::Hello hello;
    hello.version_minor = 0;
    hello.token = options_.token;
    std::vector<uint8_t> frame, body;
    wire::build_frame(frame, MessageType::kHello, 1, wire::encode_hello(hello));
    c->send(frame, options_.timeout);
    Client::Reply reply{c->read_frame(body, wire::kDefaultMaxBodyBytes, options_.timeout), body};
    const std::string what =
        expect_error(reply, {ErrorCode::kUnsupported, ErrorCode::kVersionMismatch}, true);
    require(c->wait_closed(options_.timeout), "connection still open after a fatal ERROR");
    return what;
  }

  // `batch` observations drawn within the observation space (bounds clipped to [-10, 10]).
  std::vector<uint8_t> random_observations(uint32_t batch) {
    const Space& space = welcome_.observation_space;
    const size_t numel = static_cast<size_t>(space.numel());
    std::vector<uint8_t> bytes(batch * space.bytes());
    for (size_t k = 0; k < batch * numel; ++k) {
      const size_t e = k % numel;
      const double lo = std::max<double>(space.low[e], -10.0);
      const double hi = std::min<double>(space.high[e], 10.0);
      const double v = lo < hi ? rng_.uniform(lo, hi) : lo;
      if (space.dtype == DType::kU8) {
        bytes[k] = static_cast<uint8_t>(std::lround(v));
      } else {
        const float f = static_cast<float>(v);
        std::memcpy(bytes.data() + 4 * k, &f, 4);
      }
    }
    return bytes;
  }

  std::vector<uint8_t> observation_tensor(uint32_t batch, const std::vector<uint8_t>& data) const {
    const Space& space = welcome_.observation_space;
    std::vector<uint32_t> dims{batch};
    for (int64_t d : space.shape) dims.push_back(static_cast<uint32_t>(d));
    return action_tensor(wire::tensor_dtype_of(space.dtype), dims, data.data(), data.size());
  }

  std::vector<uint8_t> wrong_dtype_observations() {
    const Space& space = welcome_.observation_space;
    std::vector<uint32_t> dims{2};
    for (int64_t d : space.shape) dims.push_back(static_cast<uint32_t>(d));
    const auto dtype = space.dtype == DType::kU8 ? wire::TensorDType::kF32 : wire::TensorDType::kU8;
    const std::vector<uint8_t> data(2 * space.numel() * wire::tensor_dtype_size(dtype), 0);
    return action_tensor(dtype, dims, data.data(), data.size());
  }

  std::vector<uint8_t> wrong_shape_observations() {
    const Space& space = welcome_.observation_space;
    std::vector<uint32_t> dims{2};
    for (int64_t d : space.shape) dims.push_back(static_cast<uint32_t>(d));
    dims.back() += 1;
    const size_t element = space.dtype == DType::kU8 ? 1 : 4;
    const std::vector<uint8_t> data(
        2 * (space.numel() / space.shape.back()) * dims.back() * element, 0);
    return action_tensor(wire::tensor_dtype_of(space.dtype), dims, data.data(), data.size());
  }

  // Sends `body` as an ACT, expects a non-fatal ERROR with `code`, then a valid ACT works.
  std::string refused_act(const std::vector<uint8_t>& body, ErrorCode code) {
    auto policy = open_policy();
    const std::string what =
        expect_error(policy->client().request(MessageType::kAct, body), {code}, false);
    policy->act(random_observations(1), 1);
    policy->close();
    return what;
  }

  std::string act_batches() {
    auto policy = open_policy();
    require(policy->max_batch() >= 1, "max_act_batch is 0");
    const uint32_t batch = std::min<uint32_t>(policy->max_batch(), 16);
    const std::vector<uint8_t> obs = random_observations(batch);
    policy->act(obs, batch);  // decode_act_result checked the actions against the space
    const std::vector<int64_t> discrete(policy->discrete().begin(), policy->discrete().end());
    const std::vector<float> continuous(policy->continuous().begin(), policy->continuous().end());
    const size_t row_bytes = welcome_.observation_space.bytes();
    const size_t per_row = continuous.size() / batch;
    for (uint32_t i = 0; i < batch; ++i) {
      policy->act(std::span(obs).subspan(i * row_bytes, row_bytes), 1);
      if (welcome_.action_space.is_discrete()) {
        require(policy->discrete()[0] == discrete[i],
                "row " + std::to_string(i) + " alone got action " +
                    std::to_string(policy->discrete()[0]) + ", in the batch " +
                    std::to_string(discrete[i]));
        continue;
      }
      for (size_t k = 0; k < per_row; ++k)
        require(std::fabs(policy->continuous()[k] - continuous[i * per_row + k]) <= 1e-4f,
                "row " + std::to_string(i) + " alone got a different action than in the batch");
    }
    policy->close();
    return std::to_string(batch) + " observations";
  }

  std::string act_masked() {
    auto policy = open_policy();
    const int64_t n = welcome_.action_space.n;
    const uint32_t batch = static_cast<uint32_t>(std::min<int64_t>(n, policy->max_batch()));
    std::vector<uint8_t> legal(batch * static_cast<size_t>(n), 0);
    for (uint32_t i = 0; i < batch; ++i) legal[i * n + i] = 1;  // row i: only action i
    policy->act(random_observations(batch), batch, legal);
    for (uint32_t i = 0; i < batch; ++i)
      require(policy->discrete()[i] == i, "row " + std::to_string(i) + " allows only action " +
                                              std::to_string(i) + ", got " +
                                              std::to_string(policy->discrete()[i]));
    legal.assign(legal.size(), 0);
    legal.back() = 1;  // every row but the last has no legal action
    std::vector<uint8_t> body(wire::kHeaderBytes);
    wire::build_act_frame(body, 0, welcome_.observation_space, welcome_.action_space, batch,
                          random_observations(batch), legal);
    const std::string what = expect_error(
        policy->client().request(MessageType::kAct, std::span(body).subspan(wire::kHeaderBytes)),
        {ErrorCode::kBadObservation}, false);
    policy->close();
    return std::to_string(batch) + " rows; a row without legal actions: " + what;
  }

  std::string ping() {
    auto client = open();
    client->ping();
    client->close();
    return "ok";
  }

  std::string close() {
    auto client = open();
    const auto reply = client->request(MessageType::kClose, {});
    require(reply.header.type == static_cast<uint8_t>(MessageType::kClose),
            "CLOSE was answered by " + wire::message_type_name(reply.header.type));
    require(client->connection().wait_closed(options_.timeout),
            "the server did not close the connection after CLOSE");
    return "ok";
  }

  std::string address_;
  CheckOptions options_;
  ClientOptions client_options_;
  wire::Welcome welcome_;
  std::vector<CheckResult> results_;
  Rng rng_{12345};
};

}  // namespace

std::vector<CheckResult> run_conformance_checks(const std::string& address,
                                                const CheckOptions& options) {
  return Checker(address, options).run();
}

}  // namespace rl::remote

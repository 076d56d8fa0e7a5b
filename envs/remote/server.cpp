#include "envs/remote/server.h"

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "core/registry.h"
#include "envs/remote/asio.h"
#include "envs/remote/connection.h"

namespace rl::remote {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using wire::ErrorCode;
using wire::MessageType;
using wire::WireError;

namespace {

// What every session needs from the server; sessions share it so they never point into the
// server itself (which may be destroyed while its io_context drops pending handlers).
struct Shared {
  ServerOptions options;
  std::atomic<int64_t> accepted{0}, rejected_busy{0}, active{0}, errors_sent{0};

  void log(const std::string& line) const {
    if (options.log) options.log(line);
  }
};

size_t max_step_result_body(uint32_t num_envs, const Space& obs_space) {
  const size_t th = wire::tensor_header_bytes(static_cast<int>(obs_space.shape.size()) + 1);
  return 8 + ((num_envs + 3) & ~3u) + 4 * size_t{num_envs} + 2 * th +
         2 * size_t{num_envs} * obs_space.bytes();
}

size_t step_body_bytes(uint32_t num_envs, const Space& action_space) {
  const size_t rank = action_space.is_discrete() ? 1 : action_space.shape.size() + 1;
  const size_t per_env = action_space.is_discrete() ? 8 : 4 * action_space.numel();
  return wire::tensor_header_bytes(static_cast<int>(rank)) + num_envs * per_env;
}

// Serves the envs of ServerOptions::env_id: RESET and STEP, answered by STEP_RESULT.
class EnvService : public ConnectionService {
 public:
  EnvService(std::shared_ptr<const ServerOptions> options, std::shared_ptr<const EnvSpec> spec)
      : options_(std::move(options)), spec_(std::move(spec)) {}

  void accept(const wire::Hello& hello, wire::Welcome& w) override {
    const ServerOptions& opt = *options_;
    const uint32_t n = hello.num_envs ? hello.num_envs : opt.num_envs;
    if (n > opt.max_envs_per_connection)
      throw WireError(ErrorCode::kUnsupported,
                      "num_envs " + std::to_string(n) + " is above this server's limit of " +
                          std::to_string(opt.max_envs_per_connection),
                      true);
    const EnvSpec& spec = *spec_;
    if (max_step_result_body(n, spec.observation_space) > hello.max_body_bytes)
      throw WireError(ErrorCode::kUnsupported,
                      std::to_string(n) +
                          " envs need STEP_RESULT bodies above the client's "
                          "max_body_bytes of " +
                          std::to_string(hello.max_body_bytes),
                      true);
    try {
      for (uint32_t i = 0; i < n; ++i)
        envs_.push_back(EnvRegistry::global().make(opt.env_id, opt.env_params));
    } catch (const std::exception& e) {
      throw WireError(ErrorCode::kEnvFailure, std::string("env failed: ") + e.what(), true);
    }
    writer_ = std::make_unique<wire::StepResultWriter>(n, spec.observation_space);
    action_values_.assign(spec.action_space.is_discrete() ? 0 : n * spec.action_space.numel(), 0.f);
    json_observations_ = hello.observation_encoding == "json";
    client_max_body_ = hello.max_body_bytes;

    w.env_id = spec.id;
    w.description = spec.description;
    w.num_envs = n;
    w.observation_space = spec.observation_space;
    w.action_space = spec.action_space;
    w.reward_min = spec.reward_min;
    w.reward_max = spec.reward_max;
    w.max_episode_steps = spec.max_episode_steps;
    w.max_body_bytes = static_cast<uint32_t>(
        std::max<size_t>(wire::kMinMaxBodyBytes, step_body_bytes(n, spec.action_space)));
    w.observation_encoding = hello.observation_encoding;
    w.capabilities = {"final_observation", "json_observations"};
  }

  std::span<const uint8_t> answer(const wire::FrameHeader& header,
                                  std::span<const uint8_t> body) override {
    try {
      switch (static_cast<MessageType>(header.type)) {
        case MessageType::kReset:
          return reset(wire::decode_reset(body), header.request_id);
        case MessageType::kStep:
          return step(body, header.request_id);
        case MessageType::kAct:
          throw WireError(ErrorCode::kUnsupported,
                          "ACT is not served here: this server serves the env " + spec_->id +
                              " (RESET and STEP); rlserve --policy serves ACT",
                          false);
        default:
          throw WireError(
              ErrorCode::kUnsupported,
              wire::message_type_name(header.type) + " is not a request a server accepts", false);
      }
    } catch (const WireError&) {
      throw;
    } catch (const std::exception& e) {
      started_ = false;  // envs may be half-stepped: require a RESET
      throw WireError(ErrorCode::kEnvFailure,
                      std::string("env failed: ") + e.what() + " (send RESET to continue)", false);
    }
  }

 private:
  std::span<const uint8_t> reset(const wire::ResetRequest& request, uint32_t request_id) {
    writer_->begin();
    for (uint32_t i = 0; i < envs_.size(); ++i) {
      const auto obs = writer_->observation(i);
      if (request.has_seed)
        envs_[i]->reset(request.seed + i, obs);
      else if (!ever_reset_)
        envs_[i]->reset(i, obs);  // distinct default streams per env
      else
        envs_[i]->reset(obs);
      writer_->set(i, wire::StepType::kFirst, 0.f);
    }
    started_ = ever_reset_ = true;
    return step_result(request_id);
  }

  std::span<const uint8_t> step(std::span<const uint8_t> body, uint32_t request_id) {
    if (!started_) throw WireError(ErrorCode::kInvalidState, "STEP before RESET", false);
    const Space& action_space = spec_->action_space;
    const wire::TensorView actions =
        wire::decode_step(body, action_space, static_cast<uint32_t>(envs_.size()));
    if (!action_space.is_discrete())
      std::memcpy(action_values_.data(), actions.data.data(), actions.data.size());
    const size_t per_env = static_cast<size_t>(action_space.numel());
    writer_->begin();
    for (uint32_t i = 0; i < envs_.size(); ++i) {
      Action action;
      if (action_space.is_discrete())
        std::memcpy(&action.index, actions.data.data() + 8 * size_t{i}, 8);
      else
        action.values = std::span<const float>(action_values_).subspan(i * per_env, per_env);
      const auto obs = writer_->observation(i);
      const StepResult r = envs_[i]->step(action, obs);
      writer_->set(i,
                   r.terminated  ? wire::StepType::kTerminated
                   : r.truncated ? wire::StepType::kTruncated
                                 : wire::StepType::kMid,
                   r.reward);
      if (r.done()) {
        writer_->add_final(i);
        envs_[i]->reset(obs);
      }
    }
    return step_result(request_id);
  }

  std::span<const uint8_t> step_result(uint32_t request_id) {
    const auto frame = writer_->finish(request_id);
    if (!json_observations_) return frame;
    const std::string text = wire::step_result_to_json(wire::parse_step_result(writer_->body()));
    if (text.size() > client_max_body_)
      throw WireError(ErrorCode::kUnsupported, "JSON STEP_RESULT above the client's max_body_bytes",
                      false);
    wire::build_frame(json_frame_, MessageType::kStepResult, request_id, text, wire::kFlagJsonBody);
    return json_frame_;
  }

  std::shared_ptr<const ServerOptions> options_;
  std::shared_ptr<const EnvSpec> spec_;
  std::vector<std::unique_ptr<Env>> envs_;
  std::unique_ptr<wire::StepResultWriter> writer_;
  std::vector<float> action_values_;
  std::vector<uint8_t> json_frame_;
  uint32_t client_max_body_ = wire::kMinMaxBodyBytes;
  bool started_ = false;
  bool ever_reset_ = false;
  bool json_observations_ = false;
};

// Probes the env once (its spec, and that it can be built) and makes one EnvService per
// connection.
ServiceFactory env_service_factory(const ServerOptions& options) {
  const auto probe = EnvRegistry::global().make(options.env_id, options.env_params);
  if (probe->spec().observation_space.is_discrete())
    throw std::invalid_argument("rlserve: " + options.env_id +
                                " has a Discrete observation space; only Box can be served");
  auto spec = std::make_shared<const EnvSpec>(probe->spec());
  auto env_options = std::make_shared<const ServerOptions>(options);
  return [spec, env_options] { return std::make_unique<EnvService>(env_options, spec); };
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Shared> shared, tcp::socket socket)
      : shared_(std::move(shared)), socket_(std::move(socket)), deadline_(socket_.get_executor()) {
    boost::system::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    socket_.set_option(tcp::no_delay(true), ec);
    ++shared_->active;
  }
  ~Session() { --shared_->active; }

  void start() {
    arm(shared_->options.handshake_timeout);
    read_header();
  }

  // Tells the peer the server is full, then closes.
  void reject_busy() {
    ++shared_->rejected_busy;
    send_error(WireError(ErrorCode::kBusy,
                         "server is at its limit of " +
                             std::to_string(shared_->options.max_connections) + " connections",
                         true),
               0);
  }

 private:
  // ---- I/O ----------------------------------------------------------------------------------

  void arm(std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && self->deadline_.expiry() <= asio::steady_timer::clock_type::now())
        self->on_deadline();
    });
  }

  void on_deadline() {
    timed_out_ = true;
    boost::system::error_code ec;
    if (writing_ || lingering_) {
      socket_.close(ec);  // a peer that does not read its replies is dropped
    } else {
      socket_.cancel(ec);  // the read handler reports the timeout
    }
  }

  void read_header() {
    asio::async_read(socket_, asio::buffer(header_bytes_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       self->on_header(ec);
                     });
  }

  void on_header(const boost::system::error_code& ec) {
    if (ec) return on_read_failure(ec, false);
    try {
      header_ = wire::decode_header(header_bytes_, inbound_limit_);
    } catch (const WireError& e) {
      return send_error(e, 0);
    }
    body_.resize(header_.body_bytes);
    arm(shared_->options.read_timeout);
    asio::async_read(socket_, asio::buffer(body_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec) return self->on_read_failure(ec, true);
                       self->dispatch();
                     });
  }

  void on_read_failure(const boost::system::error_code& ec, bool mid_frame) {
    if (timed_out_) {
      return send_error(WireError(ErrorCode::kTimeout,
                                  mid_frame ? "the rest of the frame did not arrive in time"
                                            : "no request arrived in time",
                                  true),
                        0);
    }
    if (ec != asio::error::eof && ec != asio::error::operation_aborted)
      shared_->log("rlserve: " + peer_ + ": " + ec.message());
    else if (mid_frame)
      shared_->log("rlserve: " + peer_ + " disconnected in the middle of a frame");
    close_now();
  }

  void send(std::span<const uint8_t> frame, bool close_after) {
    writing_ = true;
    arm(shared_->options.read_timeout);
    asio::async_write(
        socket_, asio::buffer(frame.data(), frame.size()),
        [self = shared_from_this(), close_after](const boost::system::error_code& ec, size_t) {
          self->writing_ = false;
          if (ec) return self->close_now();
          if (close_after) return self->linger_close();
          self->arm(self->shared_->options.idle_timeout);
          self->read_header();
        });
  }

  void send_error(const WireError& e, uint32_t request_id) {
    ++shared_->errors_sent;
    if (e.fatal()) shared_->log("rlserve: " + peer_ + ": " + e.what());
    wire::build_frame(out_, MessageType::kError, request_id,
                      wire::encode_error({e.code(), e.what(), e.fatal()}));
    send(out_, e.fatal());
  }

  // Half-closes, then drains what the peer still sends (bounded by a deadline) so the last
  // frame is not lost to a connection reset.
  void linger_close() {
    lingering_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    arm(std::chrono::milliseconds(500));
    drain();
  }

  void drain() {
    socket_.async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          if (ec) return self->close_now();
          self->drain();
        });
  }

  void close_now() {
    boost::system::error_code ec;
    deadline_.cancel();
    socket_.close(ec);
  }

  // ---- requests -----------------------------------------------------------------------------

  void dispatch() {
    try {
      handle();
    } catch (const WireError& e) {
      send_error(handshaken_ ? e : WireError(e.code(), e.what(), true), header_.request_id);
    } catch (const std::exception& e) {
      send_error(
          WireError(ErrorCode::kInternal, std::string("server failed: ") + e.what(), !handshaken_),
          header_.request_id);
    }
  }

  void handle() {
    const auto type = static_cast<MessageType>(header_.type);
    if (!handshaken_ && type != MessageType::kHello)
      throw WireError(ErrorCode::kInvalidState,
                      "expected HELLO first, got " + wire::message_type_name(header_.type), true);
    switch (type) {
      case MessageType::kHello:
        return handle_hello();
      case MessageType::kPing:
        if (body_.size() > wire::kMaxPingBytes)
          throw WireError(ErrorCode::kBadMessage, "PING payload above 1024 bytes", false);
        wire::build_frame(out_, MessageType::kPong, header_.request_id, body_);
        return send(out_, false);
      case MessageType::kClose:
        wire::build_frame(out_, MessageType::kClose, header_.request_id,
                          std::span<const uint8_t>());
        return send(out_, true);
      case MessageType::kError: {
        // Not a request: no reply. A fatal one ends the connection.
        const wire::ErrorInfo info = wire::parse_error(
            std::string_view(reinterpret_cast<const char*>(body_.data()), body_.size()));
        shared_->log("rlserve: " + peer_ + " reported: " + info.message);
        if (info.fatal) return close_now();
        arm(shared_->options.idle_timeout);
        return read_header();
      }
      default:
        return send(service_->answer(header_, body_), false);
    }
  }

  void handle_hello() {
    if (handshaken_) throw WireError(ErrorCode::kInvalidState, "second HELLO", false);
    const ServerOptions& opt = shared_->options;
    const wire::Hello hello = wire::parse_hello(
        std::string_view(reinterpret_cast<const char*>(body_.data()), body_.size()));
    const uint16_t minor = wire::negotiate_minor(hello.version_major, hello.version_minor);
    if (!opt.token.empty() && !wire::tokens_equal(opt.token, hello.token))
      throw WireError(ErrorCode::kUnauthorized,
                      hello.token.empty() ? "this server requires a token" : "wrong token", true);
    service_ = opt.service();
    wire::Welcome w;
    w.version_minor = minor;
    service_->accept(hello, w);
    inbound_limit_ = w.max_body_bytes;
    handshaken_ = true;
    wire::build_frame(out_, MessageType::kWelcome, header_.request_id, wire::encode_welcome(w));
    send(out_, false);
  }

  std::shared_ptr<Shared> shared_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::string peer_;

  std::array<uint8_t, wire::kHeaderBytes> header_bytes_{};
  wire::FrameHeader header_;
  std::vector<uint8_t> body_;
  std::vector<uint8_t> out_;
  std::array<uint8_t, 4096> scratch_{};
  uint32_t inbound_limit_ = wire::kMaxHelloBytes;

  bool handshaken_ = false;
  bool writing_ = false;
  bool lingering_ = false;
  bool timed_out_ = false;

  std::unique_ptr<ConnectionService> service_;  // from the HELLO on
};

}  // namespace

struct Server::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::thread> threads;
  bool accepting = false;

  void accept_next() {
    acceptor.async_accept(asio::make_strand(io),
                          [this](const boost::system::error_code& ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted) return;
                            if (!ec) {
                              ++shared->accepted;
                              auto session = std::make_shared<Session>(shared, std::move(socket));
                              if (shared->active > shared->options.max_connections)
                                session->reject_busy();
                              else
                                session->start();
                            }
                            accept_next();
                          });
  }

  void begin_accepting() {
    if (accepting) return;
    accepting = true;
    accept_next();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_shared<Impl>()) {
  if (options.num_envs == 0) throw std::invalid_argument("rlserve: num_envs must be at least 1");
  if (options.threads < 1) throw std::invalid_argument("rlserve: threads must be at least 1");
  if (!options.service) options.service = env_service_factory(options);
  impl_->shared->options = std::move(options);
  const ServerOptions& opt = impl_->shared->options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(opt.bind_host, ec);
  if (ec) throw std::runtime_error("rlserve: bind address '" + opt.bind_host + "' is not an IP");
  const tcp::endpoint endpoint(address, opt.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("rlserve: cannot listen on " + opt.bind_host + ":" +
                             std::to_string(opt.port) + ": " + ec.message());
}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::start() {
  impl_->begin_accepting();
  for (int i = 0; i < impl_->shared->options.threads; ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void Server::run() {
  impl_->begin_accepting();
  for (int i = 1; i < impl_->shared->options.threads; ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
}

void Server::stop() {
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  impl_->threads.clear();
}

void Server::serve_outbound(const std::string& address, std::chrono::milliseconds timeout) {
  const Endpoint endpoint = parse_address(address, "rlserve --connect");
  auto& io = impl_->io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto endpoints = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec) throw std::runtime_error("rlserve: cannot resolve '" + endpoint.host + "'");
  tcp::socket socket(asio::make_strand(io));
  bool done = false;
  boost::system::error_code connect_ec;
  asio::async_connect(socket, endpoints, [&](const boost::system::error_code& e, const auto&) {
    connect_ec = e;
    done = true;
  });
  io.restart();
  io.run_for(timeout);
  if (!done || connect_ec)
    throw std::runtime_error("rlserve: cannot connect to " + endpoint.text() + ": " +
                             (done ? connect_ec.message() : "timed out"));
  ++impl_->shared->accepted;
  std::make_shared<Session>(impl_->shared, std::move(socket))->start();
  io.restart();
  io.run();  // until the session ends
}

Server::Stats Server::stats() const {
  const Shared& s = *impl_->shared;
  return {s.accepted, s.rejected_busy, s.active, s.errors_sent};
}

}  // namespace rl::remote

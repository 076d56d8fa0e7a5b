#include "envs/remote/connection.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "envs/remote/asio.h"

namespace rl::remote {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

PeerError::PeerError(wire::ErrorInfo info)
    : std::runtime_error(std::string("peer reported ") + wire::error_code_name(info.code) +
                         (info.fatal ? " (fatal)" : "") + ": " + info.message),
      info_(std::move(info)) {}

Endpoint parse_address(const std::string& address, const std::string& what) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument(what + ": '" + address + "' " + why +
                                " (expected host:port, e.g. 127.0.0.1:7000)");
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) fail("has no host:port form");
  std::string host = address.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) fail("has an unbalanced [ ]");
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    fail("has a port that is not a number");
  const int port = std::stoi(port_text);
  if (port > 65535) fail("has a port above 65535");
  return Endpoint{host, static_cast<uint16_t>(port)};
}

namespace {

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<Millis>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

// Waits for `events` on `fd` until `deadline`; throws ConnectionError naming `what`.
void wait_for(int fd, short events, Clock::time_point deadline, Millis timeout,
              const std::string& what) {
  while (true) {
    const int left = remaining_ms(deadline);
    if (left == 0)
      throw ConnectionError(what + " timed out after " + std::to_string(timeout.count()) + " ms");
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, left);
    if (r > 0) return;
    if (r < 0 && errno != EINTR) throw ConnectionError(what + ": " + std::strerror(errno));
  }
}

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

struct Connection::Impl {
  asio::io_context io;
  tcp::socket socket{io};

  int fd() { return socket.native_handle(); }

  void prepare() {
    socket.set_option(tcp::no_delay(true));
    socket.non_blocking(true);
  }

  void read_exact(uint8_t* p, size_t n, Clock::time_point deadline, Millis timeout,
                  bool mid_frame) {
    while (n > 0) {
      boost::system::error_code ec;
      const size_t got = socket.read_some(asio::buffer(p, n), ec);
      if (would_block(ec)) {
        wait_for(fd(), POLLIN, deadline, timeout, "reading a frame");
        continue;
      }
      if (ec == asio::error::eof)
        throw ConnectionError(mid_frame ? "connection closed by the peer in the middle of a frame"
                                        : "connection closed by the peer");
      if (ec) throw ConnectionError("reading a frame: " + ec.message());
      p += got;
      n -= got;
      mid_frame = true;
    }
  }
};

Connection::Connection() : impl_(std::make_unique<Impl>()) {}
Connection::~Connection() = default;

std::unique_ptr<Connection> Connection::connect(const Endpoint& endpoint, Millis timeout) {
  std::unique_ptr<Connection> c(new Connection());
  Impl& impl = *c->impl_;
  boost::system::error_code ec;
  tcp::resolver resolver(impl.io);
  const auto endpoints = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec) throw ConnectionError("cannot resolve '" + endpoint.host + "': " + ec.message());
  bool done = false;
  boost::system::error_code connect_ec;
  asio::async_connect(impl.socket, endpoints, [&](const boost::system::error_code& e, const auto&) {
    connect_ec = e;
    done = true;
  });
  impl.io.run_for(timeout);
  if (!done) {
    impl.socket.close(ec);
    impl.io.restart();
    impl.io.run();
    throw ConnectionError("connecting to " + endpoint.text() + " timed out after " +
                          std::to_string(timeout.count()) + " ms");
  }
  if (connect_ec)
    throw ConnectionError("cannot connect to " + endpoint.text() + ": " + connect_ec.message());
  impl.prepare();
  c->peer_ = endpoint.text();
  return c;
}

void Connection::send(std::span<const uint8_t> bytes, Millis timeout) {
  if (!is_open()) throw ConnectionError("connection to " + peer_ + " is closed");
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    boost::system::error_code ec;
    const size_t sent = impl_->socket.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    if (would_block(ec)) {
      wait_for(impl_->fd(), POLLOUT, deadline, timeout, "sending a frame to " + peer_);
      continue;
    }
    if (ec) throw ConnectionError("sending a frame to " + peer_ + ": " + ec.message());
    bytes = bytes.subspan(sent);
  }
}

wire::FrameHeader Connection::read_frame(std::vector<uint8_t>& body, uint32_t max_body_bytes,
                                         Millis timeout) {
  if (!is_open()) throw ConnectionError("connection to " + peer_ + " is closed");
  const auto deadline = Clock::now() + timeout;
  std::array<uint8_t, wire::kHeaderBytes> header;
  impl_->read_exact(header.data(), header.size(), deadline, timeout, false);
  const wire::FrameHeader h = wire::decode_header(header, max_body_bytes);
  body.resize(h.body_bytes);
  impl_->read_exact(body.data(), body.size(), deadline, timeout, true);
  return h;
}

bool Connection::wait_closed(Millis timeout) {
  if (!is_open()) return true;
  const auto deadline = Clock::now() + timeout;
  uint8_t scratch[4096];
  while (true) {
    boost::system::error_code ec;
    impl_->socket.read_some(asio::buffer(scratch), ec);
    if (would_block(ec)) {
      try {
        wait_for(impl_->fd(), POLLIN, deadline, timeout, "waiting for close");
      } catch (const ConnectionError&) {
        return false;
      }
      continue;
    }
    if (ec) {  // EOF or reset: closed either way
      close();
      return true;
    }
  }
}

void Connection::close() {
  boost::system::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
}

bool Connection::is_open() const { return impl_->socket.is_open(); }

struct Listener::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
};

Listener::Listener(const Endpoint& bind) : impl_(std::make_unique<Impl>()) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(bind.host, ec);
  if (ec) throw ConnectionError("cannot listen on '" + bind.host + "': not an IP address");
  const tcp::endpoint ep(address, bind.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw ConnectionError("cannot listen on " + bind.text() + ": " + ec.message());
  acceptor.non_blocking(true);
}

Listener::~Listener() = default;

uint16_t Listener::port() const { return impl_->acceptor.local_endpoint().port(); }

std::unique_ptr<Connection> Listener::accept(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_ptr<Connection> c(new Connection());
  while (true) {
    boost::system::error_code ec;
    tcp::endpoint remote;
    // Accept onto the connection's own io_context so it can outlive the listener.
    c->impl_->socket = impl_->acceptor.accept(c->impl_->io, remote, ec);
    if (would_block(ec)) {
      wait_for(impl_->acceptor.native_handle(), POLLIN, deadline, timeout,
               "waiting for a peer to connect on port " + std::to_string(port()));
      continue;
    }
    if (ec) throw ConnectionError("accepting a connection: " + ec.message());
    c->impl_->prepare();
    c->peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
    return c;
  }
}

}  // namespace rl::remote

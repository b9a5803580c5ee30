#include "harness/endpoints/server.h"

#include <deque>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "harness/endpoints/listener.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/handshake.h"
#include "harness/wire/http_head.h"

namespace closewire::endpoints {

namespace http = boost::beast::http;
using K = ObservationKind;

namespace {
// The answer to a request that is no WebSocket upgrade. A body, because Chromium shows its own
// error page (an opaque origin) for an error status with an empty body: a real browser loads this
// as the page of the server's origin before it opens an RFC 8441 WebSocket on the same h2
// connection (scenarios/h2/). `Connection: close`, and the socket is closed: a proxy never
// reuses this connection for the upgrade, which the analyzer could not follow.
constexpr std::string_view kNotAnUpgrade =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n"
    "Connection: close\r\n\r\nnot a WebSocket upgrade\n";

struct Session {
  Session(asio::io_context& io, std::size_t i) : index(i), step_timer(io), close_timer(io) {}
  std::size_t index;
  std::shared_ptr<Peer> peer;
  std::deque<Action> steps;
  asio::steady_timer step_timer;
  bool waiting = false;
  asio::steady_timer close_timer;
  bool close_timer_armed = false;
};

struct PendingUpgrade {
  explicit PendingUpgrade(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  std::size_t index = 0;
};
}  // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, ServerConfig c)
      : io(io),
        config(std::move(c)),
        acceptor(listen_on(io, config.host, config.port)),
        bound(acceptor.local_endpoint()) {}

  asio::io_context& io;
  ServerConfig config;
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  ObservationLog log;
  std::vector<std::shared_ptr<Session>> sessions;
  // Connections still in the HTTP upgrade: owned by their pending read, closed by stop().
  std::vector<std::weak_ptr<PendingUpgrade>> upgrading;
  std::vector<std::weak_ptr<TcpStream>> upgrading_tls;  // the same over TLS
  std::size_t accepted = 0;
  bool stopped = false;

  void record(std::size_t index, K kind, std::string note = {}) {
    Observation o = observed(kind, {}, std::move(note));
    o.connection = index;
    log.add(std::move(o));
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
      if (self->stopped || ec == asio::error::operation_aborted) return;
      if (!ec && self->config.tls)
        self->handshake_tls(std::move(socket));
      else if (!ec)
        self->handshake(std::move(socket));
      self->accept();
    });
  }

  void handshake(tcp::socket socket) {
    auto p = std::make_shared<PendingUpgrade>(std::move(socket));
    p->index = accepted++;
    std::erase_if(upgrading, [](const auto& w) { return w.expired(); });
    upgrading.push_back(p);
    record(p->index, K::connected);
    http::async_read_header(p->socket, p->buffer, p->parser,
                            [self = shared_from_this(), p](const error_code& ec, std::size_t) {
                              if (self->stopped) return;
                              if (ec) {
                                self->record(p->index, K::closed,
                                             "no upgrade request: " + ec.message());
                                return;  // the socket closes with `p`
                              }
                              self->open(*p);
                            });
  }

  // wss: the TLS handshake and the HTTP upgrade on the stream the peer then keeps.
  void handshake_tls(tcp::socket socket) {
    const std::size_t index = accepted++;
    record(index, K::connected);
    std::weak_ptr<Impl> weak = shared_from_this();
    auto stream = TcpStream::create(
        std::move(socket),
        [weak, index](Observation o) {
          auto self = weak.lock();
          if (!self || self->stopped) return;
          o.connection = index;
          self->log.add(std::move(o));
        },
        {}, config.tls);
    std::erase_if(upgrading_tls, [](const auto& w) { return w.expired(); });
    upgrading_tls.push_back(stream);
    auto head = std::make_shared<wire::HttpHeadParser>(wire::HttpHeadParser::Kind::request);
    std::weak_ptr<TcpStream> weak_stream = stream;
    TcpStream::Callbacks cb;
    cb.on_data = [weak, weak_stream, head, index](std::span<const std::uint8_t> bytes) {
      auto self = weak.lock();
      auto s = weak_stream.lock();
      if (!self || !s || self->stopped || head->state() != wire::HttpHeadParser::State::need_more)
        return;
      const std::size_t used = head->feed(bytes);
      if (head->state() == wire::HttpHeadParser::State::need_more) return;
      if (head->state() == wire::HttpHeadParser::State::error ||
          !head->is_websocket_upgrade_request()) {
        self->record(index, K::http_head, "not a WebSocket upgrade: " + head->first_line());
        s->write(std::string(kNotAnUpgrade));
        s->close(CloseMode::fin);
        return;
      }
      // The peer takes the stream over outside this callback (its callbacks replace this one);
      // what follows the head waits in the kernel or in OpenSSL until it reads.
      s->stop_reading();
      std::string leftover(reinterpret_cast<const char*>(bytes.data()) + used, bytes.size() - used);
      asio::post(
          self->io, [self, s, index, key = head->fields().key, leftover = std::move(leftover)] {
            if (self->stopped || !s->is_open()) return;
            std::erase_if(self->upgrading_tls, [&](const auto& w) { return w.lock() == s; });
            self->start_session(index, Peer::create(s, Peer::Role::server, index), key, leftover);
          });
    };
    stream->set_callbacks(std::move(cb));
    stream->start_reading();
  }

  void open(PendingUpgrade& p) {
    const auto& req = p.parser.get();
    if (!boost::beast::websocket::is_upgrade(req)) {
      record(p.index, K::closed, "not a WebSocket upgrade");
      error_code ec;
      asio::write(p.socket, asio::buffer(kNotAnUpgrade), ec);
      p.socket.close(ec);
      return;
    }
    auto data = p.buffer.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    start_session(p.index, Peer::create(std::move(p.socket), Peer::Role::server, p.index),
                  std::string(req["Sec-WebSocket-Key"]), leftover);
  }

  void start_session(std::size_t index, std::shared_ptr<Peer> peer, const std::string& key,
                     const std::string& leftover) {
    auto s = std::make_shared<Session>(io, index);
    s->peer = std::move(peer);
    std::weak_ptr<Impl> weak = shared_from_this();
    std::weak_ptr<Session> weak_session = s;
    s->peer->subscribe([weak, weak_session](const Observation& o) {
      auto self = weak.lock();
      auto session = weak_session.lock();
      if (self && session) self->on_peer(session, o);
    });
    sessions.push_back(s);
    s->peer->send_raw(wire::upgrade_response(key));
    record(index, K::upgraded, "101");
    s->peer->start(leftover);
    s->steps.assign(config.on_open.begin(), config.on_open.end());
    run_next(s);
  }

  void on_peer(const std::shared_ptr<Session>& s, const Observation& o) {
    if (stopped) return;
    log.add(o);
    Peer& peer = *s->peer;
    switch (o.kind) {
      case K::frame_received:
        if (o.opcode != static_cast<std::uint8_t>(wire::Opcode::close)) break;
        if (!peer.close_queued()) {
          if (!config.answer_close) {  // no Close back: TCP ends instead
            peer.close_socket(config.after_closing_handshake.value_or(CloseMode::fin));
            break;
          }
          // ws: code 1005 -> close() without a code, otherwise close(code, reason).
          std::optional<std::uint16_t> code;
          if (o.code && *o.code != wire::kNoStatus) code = o.code;
          peer.send_close(code, code ? o.reason : std::string());
        } else if (peer.close_sent() && config.after_closing_handshake) {
          peer.close_socket(*config.after_closing_handshake);
        }
        break;
      case K::frame_sent:
        if (o.opcode != static_cast<std::uint8_t>(wire::Opcode::close)) break;
        arm_close_timer(s);
        if (peer.close_received() && config.after_closing_handshake)
          peer.close_socket(*config.after_closing_handshake);
        break;
      case K::eof:
        // ws socketOnEnd: socket.end(), and Node destroys the socket once both sides ended.
        if (peer.is_open() && !peer.stream().closing()) peer.close_socket(CloseMode::fin);
        break;
      case K::closed:
        s->close_timer.cancel();
        s->step_timer.cancel();
        break;
      default:
        break;
    }
  }

  void arm_close_timer(const std::shared_ptr<Session>& s) {
    if (s->close_timer_armed) return;
    s->close_timer_armed = true;
    s->close_timer.expires_after(config.close_timeout);
    s->close_timer.async_wait([self = shared_from_this(), s](const error_code& ec) {
      if (ec || self->stopped || !s->peer->is_open()) return;
      s->peer->note_timeout("ws close timeout");
      s->peer->close_plain("plain close: socket.destroy() after the close timeout");
    });
  }

  void run_next(const std::shared_ptr<Session>& s) {
    while (!s->waiting && !s->steps.empty() && !stopped) {
      Action action = std::move(s->steps.front());
      s->steps.pop_front();
      if (action.kind != Action::Kind::wait) {
        perform(*s->peer, action);
        continue;
      }
      s->waiting = true;
      s->step_timer.expires_after(action.duration);
      s->step_timer.async_wait([self = shared_from_this(), s](const error_code& ec) {
        s->waiting = false;
        if (!ec) self->run_next(s);
      });
    }
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ec;
    acceptor.close(ec);
    for (auto& w : upgrading)
      if (auto p = w.lock()) p->socket.close(ec);  // cancels its read; the handler sees stopped
    upgrading.clear();
    for (auto& w : upgrading_tls) {
      if (auto s = w.lock()) {
        s->detach();
        s->close_plain("server stopped");
      }
    }
    upgrading_tls.clear();
    for (auto& s : sessions) {
      s->close_timer.cancel();
      s->step_timer.cancel();
      s->peer->close_plain("server stopped");
    }
    sessions.clear();
  }
};

Server::Server(asio::io_context& io, ServerConfig config)
    : impl_(std::make_shared<Impl>(io, std::move(config))) {
  impl_->accept();
}

Server::~Server() {
  impl_->stop();
}

std::uint16_t Server::port() const {
  return impl_->bound.port();
}
tcp::endpoint Server::endpoint() const {
  return impl_->bound;
}
ObservationLog& Server::log() {
  return impl_->log;
}
std::size_t Server::connections() const {
  return impl_->sessions.size();
}
std::shared_ptr<Peer> Server::peer(std::size_t i) const {
  return i < impl_->sessions.size() ? impl_->sessions[i]->peer : nullptr;
}
void Server::run_steps(std::size_t i, std::vector<Action> steps) {
  if (i >= impl_->sessions.size()) return;
  auto& s = impl_->sessions[i];
  s->steps.insert(s->steps.end(), steps.begin(), steps.end());
  impl_->run_next(s);
}
void Server::stop() {
  impl_->stop();
}

}  // namespace closewire::endpoints

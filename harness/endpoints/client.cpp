#include "harness/endpoints/client.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include "harness/endpoints/h2_connection.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/handshake.h"
#include "harness/wire/http_head.h"

namespace closewire::endpoints {

namespace http = boost::beast::http;
using K = ObservationKind;

struct Client::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, ClientConfig c)
      : config(std::move(c)),
        socket(io),
        timer(io),
        timeout(config.close_timeout ? config.close_timeout
                                     : default_close_timeout(config.profile)) {}

  ClientConfig config;
  tcp::socket socket;
  asio::steady_timer timer;
  std::optional<std::chrono::milliseconds> timeout;
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  std::string key = wire::make_websocket_key();
  std::string request;
  ObservationLog log;
  std::shared_ptr<Peer> peer;
  std::shared_ptr<TcpStream> tls_stream;  // wss, until the peer (or the h2 connection) takes it
  std::shared_ptr<H2Connection> h2;       // over h2: the connection under the WebSocket's stream
  bool over_h2 = false;                   // ALPN chose h2
  bool fell_back = false;  // h2 without extended CONNECT: the WebSocket went over HTTP/1.1
  wire::HttpHeadParser tls_head{wire::HttpHeadParser::Kind::response};
  bool finished = false;
  bool timer_armed = false;
  bool eof_before_reply = false;  // auto_reply off: the server's FIN came before the held reply
  bool stopped = false;

  void record(K kind, std::string note = {}, int error = 0) {
    log.add(observed(kind, {}, std::move(note), error));
  }

  void fail(std::string why, const error_code& ec) {
    record(K::read_error, why + ": " + ec.message(), errno_of(ec));
    close_and_finish(why);
  }

  void close_and_finish(std::string why) {
    error_code ignored;
    socket.close(ignored);
    finished = true;
    record(K::closed, std::move(why));
  }

  void start() {
    auto self = shared_from_this();
    if (config.h2 && !config.tls) {
      record(K::closed, "h2 needs TLS (ALPN h2): no connection made");
      finished = true;
      return;
    }
    error_code ec;
    tcp::endpoint ep(asio::ip::make_address(config.host, ec), config.port);
    if (ec) return fail("bad address", ec);
    socket.async_connect(ep, [self](const error_code& ec) {
      if (self->stopped) return;
      if (ec) return self->fail("connect failed", ec);
      self->record(K::connected);
      if (self->config.tls)
        self->start_tls();
      else
        self->send_request();
    });
  }

  void send_request() {
    auto self = shared_from_this();
    request =
        wire::upgrade_request(config.host + ":" + std::to_string(config.port), config.target, key);
    asio::async_write(socket, asio::buffer(request), [self](const error_code& ec, std::size_t) {
      if (self->stopped) return;
      if (ec) return self->fail("upgrade request write failed", ec);
      http::async_read_header(self->socket, self->buffer, self->parser,
                              [self](const error_code& ec, std::size_t) { self->on_response(ec); });
    });
  }

  // wss: the TLS handshake, then the upgrade request and response, on the stream the peer keeps.
  void start_tls() {
    std::weak_ptr<Impl> weak = shared_from_this();
    // As browsers offer them; after a fallback, HTTP/1.1 only.
    if (config.h2) config.tls->set_alpn(fell_back ? std::vector<std::string>{"http/1.1"}
                                                  : std::vector<std::string>{"h2", "http/1.1"});
    tls_stream = TcpStream::create(
        std::move(socket),
        [weak](Observation o) {
          auto self = weak.lock();
          if (!self || self->stopped) return;
          // Over h2 the TCP connection is not the WebSocket: its events are the connection's.
          if (self->over_h2) o.side = "connection";
          if (o.kind == K::closed && !self->over_h2) self->finished = true;
          const bool handshake = o.kind == K::tls_handshake;
          self->log.add(std::move(o));
          if (handshake && self->config.h2 && !self->fell_back) self->on_handshake();
        },
        {}, config.tls);
    tls_stream->set_close_notify(config.close_notify.value_or(sends_close_notify(config.profile)));
    TcpStream::Callbacks cb;
    cb.on_data = [weak](std::span<const std::uint8_t> bytes) {
      if (auto self = weak.lock()) self->on_tls_response(bytes);
    };
    tls_stream->set_callbacks(std::move(cb));
    tls_stream->start_reading();
    request =
        wire::upgrade_request(config.host + ":" + std::to_string(config.port), config.target, key);
    // Goes out once the handshake is done (with h2 offered, ALPN decides first).
    if (!config.h2 || fell_back) tls_stream->write(request);
  }

  // h2 offered: ALPN decides. http/1.1 (or none): the upgrade, as a browser falls back to it.
  void on_handshake() {
    const TlsSession* session = tls_stream ? tls_stream->tls_session() : nullptr;
    if (!session || session->alpn() != "h2") {
      tls_stream->write(request);
      return;
    }
    over_h2 = true;
    std::weak_ptr<Impl> weak = shared_from_this();
    h2 = H2Connection::create(std::move(tls_stream), [weak](Observation o) {
      if (auto self = weak.lock(); self && !self->stopped) self->log.add(std::move(o));
    });
    h2->open_websocket(
        {config.host + ":" + std::to_string(config.port), config.target},
        [weak](std::shared_ptr<H2Stream> stream) {
          if (auto self = weak.lock(); self && !self->stopped) self->on_h2_open(std::move(stream));
        },
        [weak](std::string why) {
          if (auto self = weak.lock(); self && !self->stopped) self->on_h2_failed(std::move(why));
        });
  }

  void on_h2_open(std::shared_ptr<H2Stream> stream) {
    record(K::upgraded, "200 (h2 stream " + std::to_string(stream->id()) + ")");
    auto p = Peer::create(std::move(stream), Peer::Role::client);
    // Chromium puts END_STREAM on its Close (close-semantics §7); Firefox does not.
    if (is_chrome()) p->set_close_ends_stream(true);
    open_peer(std::move(p), {});
  }

  void on_h2_failed(std::string why) {
    if (!fell_back && why.starts_with(kNoConnectProtocol)) return fall_back_to_http1(why);
    record(K::closed, std::move(why));
    finished = true;
    h2->close();
  }

  // A browser whose h2 connection does not allow extended CONNECT (HAProxy's
  // h2-workaround-bogus-websocket-clients) opens a TLS connection of its own with ALPN http/1.1
  // for the WebSocket, and keeps the h2 connection (its page's) open: so does the model.
  void fall_back_to_http1(const std::string& why) {
    fell_back = true;
    over_h2 = false;
    log.add(
        observed(K::http_head, "connection",
                 why + "; the WebSocket goes over a new HTTP/1.1 connection, as a browser's does"));
    socket = tcp::socket(socket.get_executor());
    start();
  }

  bool is_chrome() const {
    return config.profile == Profile::chrome || config.profile == Profile::chrome_legacy;
  }

  void on_tls_response(std::span<const std::uint8_t> bytes) {
    if (stopped || !tls_stream || tls_head.state() != wire::HttpHeadParser::State::need_more)
      return;
    const std::size_t used = tls_head.feed(bytes);
    if (tls_head.state() == wire::HttpHeadParser::State::need_more) return;
    if (tls_head.state() == wire::HttpHeadParser::State::error || tls_head.status() != 101 ||
        tls_head.fields().accept != wire::websocket_accept(key)) {
      tls_stream->close_plain("upgrade refused: status " + std::to_string(tls_head.status()));
      return;
    }
    // The peer takes the stream over outside this callback (its callbacks replace this one);
    // "upgraded" is logged there, once peer() exists, as on a plain connection.
    tls_stream->stop_reading();
    std::string leftover(reinterpret_cast<const char*>(bytes.data()) + used, bytes.size() - used);
    asio::post(timer.get_executor(), [self = shared_from_this(), leftover] {
      if (self->stopped || !self->tls_stream || !self->tls_stream->is_open()) return;
      self->record(K::upgraded, "101");
      self->open_peer(Peer::create(std::move(self->tls_stream), Peer::Role::client), leftover);
    });
  }

  void on_response(const error_code& ec) {
    if (stopped) return;
    if (ec) return fail("no upgrade response", ec);
    const auto& res = parser.get();
    if (res.result_int() != 101 || res["Sec-WebSocket-Accept"] != wire::websocket_accept(key)) {
      return close_and_finish("upgrade refused: status " + std::to_string(res.result_int()));
    }
    record(K::upgraded, "101");
    auto data = buffer.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    open_peer(Peer::create(std::move(socket), Peer::Role::client), leftover);
  }

  void open_peer(std::shared_ptr<Peer> p, const std::string& leftover) {
    peer = std::move(p);
    std::weak_ptr<Impl> weak = shared_from_this();
    peer->subscribe([weak](const Observation& o) {
      if (auto self = weak.lock()) self->on_peer(o);
    });
    peer->start(leftover);
  }

  void on_peer(const Observation& o) {
    if (stopped) return;
    // Finished already when subscribers hear of the close.
    if (o.kind == K::closed) finished = true;
    log.add(o);
    switch (o.kind) {
      case K::frame_received:
        if (o.opcode != static_cast<std::uint8_t>(wire::Opcode::close)) break;
        if (!peer->close_queued() && config.auto_reply) {
          // Chromium over h2 (close-semantics §7): a Close read together with END_STREAM gets no Close reply; the
          // stream's EOF right behind it is answered with RST_STREAM(CANCEL) (below).
          if (over_h2 && is_chrome() && peer->stream().peer_gone() == "fin") break;
          // Browsers answer at once, echoing the code (no code: an empty Close).
          std::optional<std::uint16_t> code;
          if (o.code && *o.code != wire::kNoStatus) code = o.code;
          peer->send_close(code, code ? o.reason : std::string());
        } else if (peer->close_sent()) {
          arm_timer();  // we closed first; their reply completes the handshake
        }
        break;
      case K::frame_sent:
        if (o.opcode == static_cast<std::uint8_t>(wire::Opcode::close) && peer->close_received()) {
          if (eof_before_reply) {
            peer->close_plain("plain close after its held reply (the server's FIN came first)");
            break;
          }
          arm_timer();
        }
        break;
      case K::eof:
        // A client holding its reply keeps the socket until a step sends it.
        if (!config.auto_reply && peer->close_received() && !peer->close_queued()) {
          eof_before_reply = true;
          break;
        }
        // The server closed TCP: the browser closes its socket too (h2: the stream,
        // RST_STREAM(CANCEL) unless it ended both ways).
        peer->close_plain(over_h2 ? "stream closed after the server's END_STREAM"
                                  : "plain close after the server's FIN");
        break;
      case K::closed:
        timer.cancel();
        break;
      default:
        break;
    }
  }

  void arm_timer() {
    if (timer_armed || !timeout) return;
    timer_armed = true;
    timer.expires_after(*timeout);
    timer.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->stopped || !self->peer || !self->peer->is_open()) return;
      self->peer->note_timeout("close timeout " + std::to_string(self->timeout->count()) + "ms");
      self->peer->close_plain("plain close after the own close timeout");
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    timer.cancel();
    error_code ec;
    socket.close(ec);
    if (tls_stream) {
      tls_stream->detach();
      tls_stream->close_plain("client stopped");
      tls_stream.reset();
    }
    if (peer) peer->close_plain("client stopped");
    peer.reset();
    // The h2 connection a browser kept: closed as it leaves, FIN (close_notify as the profile).
    if (h2) h2->close();
    h2.reset();
  }
};

Client::Client(asio::io_context& io, ClientConfig config)
    : impl_(std::make_shared<Impl>(io, std::move(config))) {}

Client::~Client() {
  impl_->stop();
}

void Client::start() {
  impl_->start();
}
void Client::stop() {
  impl_->stop();
}
ObservationLog& Client::log() {
  return impl_->log;
}
std::shared_ptr<Peer> Client::peer() const {
  return impl_->peer;
}
void Client::close_h2_connection() {
  if (impl_->h2) impl_->h2->close();
}

bool Client::upgraded() const {
  return impl_->peer != nullptr;
}
bool Client::finished() const {
  return impl_->finished;
}
std::optional<ClientOutcome> Client::outcome() const {
  return judge_outcome(impl_->config.profile, impl_->log.entries(), impl_->over_h2);
}

std::optional<std::uint16_t> Client::h2_connection_port() const {
  if (!impl_->h2 || !impl_->h2->is_open()) return std::nullopt;
  error_code ec;
  const auto local = impl_->h2->tcp().socket().local_endpoint(ec);
  if (ec) return std::nullopt;
  return local.port();
}

}  // namespace closewire::endpoints

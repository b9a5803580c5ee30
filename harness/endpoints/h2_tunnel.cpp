#include "harness/endpoints/h2_tunnel.h"

#include <nghttp2/nghttp2.h>

#include <cerrno>

#include "harness/wire/handshake.h"

namespace closewire::endpoints {

namespace {
using K = ObservationKind;
}  // namespace

std::shared_ptr<H2Tunnel> H2Tunnel::create(std::shared_ptr<H2ServerConnection> h2,
                                           const H2ServerConnection::Request& request,
                                           H2TunnelConfig config, ByteStream::Sink sink) {
  return std::shared_ptr<H2Tunnel>(
      new H2Tunnel(std::move(h2), request, std::move(config), std::move(sink)));
}

H2Tunnel::H2Tunnel(std::shared_ptr<H2ServerConnection> h2,
                   const H2ServerConnection::Request& request, H2TunnelConfig config,
                   ByteStream::Sink sink)
    : h2_(std::move(h2)),
      request_(request),
      config_(std::move(config)),
      sink_(std::move(sink)),
      socket_(h2_->tcp().socket().get_executor()) {}

void H2Tunnel::record(std::string_view side, K kind, std::string note, int error) {
  if (!sink_) return;
  sink_(observed(kind, side, std::move(note), error));
}

void H2Tunnel::start() {
  record("downstream", K::http_head,
         "CONNECT " + request_.path + " :protocol websocket (h2 stream " +
             std::to_string(request_.id) + ")");
  std::weak_ptr<H2Tunnel> weak = shared_from_this();
  H2ServerConnection::StreamCallbacks cb;
  cb.on_data = [weak](std::span<const std::uint8_t> bytes) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    std::string chunk(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (self->up_)
      self->up_->write(std::move(chunk));
    else
      self->early_ += chunk;
  };
  cb.on_end = [weak] {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->record("downstream", K::eof, "END_STREAM");
    // HAProxy: the client's END_STREAM is a shutdown(SHUT_WR) toward the server.
    if (self->up_)
      self->up_->close(CloseMode::half_close);
    else
      self->client_end_early_ = true;
  };
  cb.on_reset = [weak](std::uint32_t code) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->record("downstream", K::read_error,
                 std::string("RST_STREAM(") + nghttp2_http2_strerror(code) + ")", ECONNRESET);
    // The stream is aborted: so is the server's connection.
    error_code ec;
    self->socket_.close(ec);  // a connect in progress
    if (self->up_ && self->up_->is_open()) self->up_->close(CloseMode::rst);
  };
  cb.on_closed = [weak] {
    auto self = weak.lock();
    if (!self || self->stopped_ || self->stream_closed_) return;
    self->stream_closed_ = true;
    self->record("downstream", K::closed, "stream closed");
  };
  h2_->set_stream_callbacks(request_.id, std::move(cb));

  socket_.async_connect(config_.upstream, [self = shared_from_this()](const error_code& ec) {
    if (self->stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      self->record("upstream", K::closed, "connect failed: " + ec.message(), errno_of(ec));
      self->upstream_gone_ = true;
      // HAProxy answers 503 itself when no server is reachable.
      self->h2_->respond(self->request_.id, 503);
      return;
    }
    self->connected();
  });
}

void H2Tunnel::connected() {
  std::weak_ptr<H2Tunnel> weak = shared_from_this();
  up_ = TcpStream::create(
      std::move(socket_),
      [weak](Observation o) {
        if (auto self = weak.lock()) {
          if (self->sink_) self->sink_(std::move(o));
        }
      },
      "upstream", config_.upstream_tls);
  TcpStream::Callbacks cb;
  cb.on_data = [weak](std::span<const std::uint8_t> bytes) {
    if (auto self = weak.lock()) self->from_upstream(bytes);
  };
  cb.on_eof = [weak] {
    if (auto self = weak.lock()) self->upstream_end(false);
  };
  // A read or write error closes the stream: on_closed tells it as a close without a FIN.
  cb.on_closed = [weak] {
    if (auto self = weak.lock()) self->upstream_end(true);
  };
  up_->set_callbacks(std::move(cb));
  record("upstream", K::connected);
  // The request HAProxy makes of an extended CONNECT: an HTTP/1.1 upgrade with a key of its own
  // (RFC 8441 has none to pass on).
  up_->write(wire::upgrade_request(request_.authority, request_.path, wire::make_websocket_key()));
  if (!early_.empty()) up_->write(std::move(early_));
  early_.clear();
  up_->start_reading();
  if (client_end_early_) up_->close(CloseMode::half_close);
}

void H2Tunnel::from_upstream(std::span<const std::uint8_t> bytes) {
  if (stopped_) return;
  if (!upgraded_) {
    const std::size_t used = head_.feed(bytes);
    if (head_.state() == wire::HttpHeadParser::State::need_more) return;
    if (head_.state() == wire::HttpHeadParser::State::error) {
      record("upstream", K::fault, "unparsable HTTP head: " + head_.error());
      h2_->respond(request_.id, 502);
      up_->close(CloseMode::fin);
      return;
    }
    const unsigned status = head_.status();
    record("upstream", status == 101 ? K::upgraded : K::http_head, head_.first_line());
    if (status != 101) {
      // Not upgraded: the status goes to the stream, which it ends.
      h2_->respond(request_.id, static_cast<int>(status));
      up_->close(CloseMode::fin);
      return;
    }
    upgraded_ = true;
    h2_->respond(request_.id, 200);
    bytes = bytes.subspan(used);
  }
  if (!bytes.empty())
    h2_->send_data(request_.id,
                   std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void H2Tunnel::upstream_end(bool closed) {
  if (upstream_gone_ || stopped_) return;
  upstream_gone_ = true;
  if (!upgraded_) {
    h2_->respond(request_.id, 502);  // the server went before its 101
    return;
  }
  if (closed && !stream_closed_) {
    // Closed without a FIN first: an RST (or an error) -> RST_STREAM(CANCEL).
    h2_->reset(request_.id, NGHTTP2_CANCEL);
    return;
  }
  const bool client_ended = h2_->client_ended(request_.id);
  h2_->end_stream(request_.id, config_.reset_after_end_stream);
  // The stream is over (reset behind the END_STREAM, or ended both ways): the server's socket goes
  // too, with a FIN. Otherwise it stays, half-closed, for the client's bytes and END_STREAM.
  if ((client_ended || config_.reset_after_end_stream) && up_->is_open() && !up_->closing())
    up_->close(CloseMode::fin);
}

void H2Tunnel::stop() {
  if (stopped_) return;
  stopped_ = true;
  sink_ = {};
  error_code ec;
  socket_.close(ec);
  if (up_) {
    up_->detach();
    up_->close_plain("proxy stopped");
  }
}

}  // namespace closewire::endpoints

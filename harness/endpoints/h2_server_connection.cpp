#include "harness/endpoints/h2_server_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace closewire::endpoints {

// nghttp2's callbacks: each finds the connection in its user data and queues what the owner must
// hear, so that the owner may answer (send) at once when it hears it.
struct H2ServerCallbacks {
  static H2ServerConnection& of(void* user) { return *static_cast<H2ServerConnection*>(user); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
      of(user).streams_[frame->hd.stream_id].request.id = frame->hd.stream_id;
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    auto* s = of(user).stream(frame->hd.stream_id);
    if (frame->hd.type != NGHTTP2_HEADERS || !s) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") s->request.method = std::move(v);
    if (n == ":protocol") s->request.protocol = std::move(v);
    if (n == ":authority") s->request.authority = std::move(v);
    if (n == ":path") s->request.path = std::move(v);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2ServerConnection& c = of(user);
    const std::int32_t id = frame->hd.stream_id;
    auto* s = c.stream(id);
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (!s) break;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          s->request.end_stream = end;
          c.events_.push_back([&c, request = s->request] {
            if (c.on_request_) c.on_request_(request);
          });
        }
        if (end) {
          s->client_ended = true;
          c.events_.push_back([&c, id] {
            if (auto* st = c.stream(id); st && st->cb.on_end) st->cb.on_end();
          });
        }
        break;
      case NGHTTP2_DATA:
        if (s && end) {
          s->client_ended = true;
          c.events_.push_back([&c, id] {
            if (auto* st = c.stream(id); st && st->cb.on_end) st->cb.on_end();
          });
        }
        break;
      case NGHTTP2_RST_STREAM:
        if (s) {
          const std::uint32_t code = frame->rst_stream.error_code;
          c.events_.push_back([&c, id, code] {
            if (auto* st = c.stream(id); st && st->cb.on_reset) st->cb.on_reset(code);
          });
        }
        break;
      case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) c.record(ObservationKind::http_head, "SETTINGS");
        break;
      case NGHTTP2_GOAWAY:
        c.record_goaway(frame->goaway);
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session*, std::uint8_t, std::int32_t id,
                                const std::uint8_t* data, std::size_t len, void* user) {
    H2ServerConnection& c = of(user);
    if (!c.stream(id)) return 0;
    c.events_.push_back([&c, id, bytes = std::string(reinterpret_cast<const char*>(data), len)] {
      if (auto* st = c.stream(id); st && st->cb.on_data)
        st->cb.on_data({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    });
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_DATA && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
      if (auto* s = of(user).stream(frame->hd.stream_id)) s->end_sent = true;
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
    H2ServerConnection& c = of(user);
    auto* s = c.stream(id);
    if (!s || s->closed) return 0;
    s->closed = true;
    c.events_.push_back([&c, id] {
      if (auto* st = c.stream(id); st && st->cb.on_closed) st->cb.on_closed();
    });
    return 0;
  }

  static ssize_t read_data(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto* s = of(user).stream(id);
    if (!s) return NGHTTP2_ERR_DEFERRED;
    if (s->out.empty()) {
      if (!s->end_requested) return NGHTTP2_ERR_DEFERRED;
      // END_STREAM on an empty DATA of its own, as HAProxy sends it behind the last bytes.
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    const std::size_t n = std::min(length, s->out.size());
    std::memcpy(buf, s->out.data(), n);
    s->out.erase(0, n);
    return static_cast<ssize_t>(n);
  }
};

std::shared_ptr<H2ServerConnection> H2ServerConnection::create(std::shared_ptr<TcpStream> tcp,
                                                               ByteStream::Sink sink,
                                                               OnRequest on_request) {
  std::shared_ptr<H2ServerConnection> c(
      new H2ServerConnection(std::move(tcp), std::move(sink), std::move(on_request)));
  c->start();
  return c;
}

H2ServerConnection::H2ServerConnection(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink,
                                       OnRequest on_request)
    : H2End(std::move(tcp), std::move(sink),
            new_h2_session<H2ServerCallbacks>(/*server=*/true, this)),
      on_request_(std::move(on_request)) {}

void H2ServerConnection::start() {
  listen(weak_from_this(), "client");
  // HAProxy 2.6 with alpn h2 allows RFC 8441 unless h2-workaround-bogus-websocket-clients is set.
  const std::array<nghttp2_settings_entry, 2> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  send_now();
}

H2ServerConnection::Stream* H2ServerConnection::stream(std::int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

bool H2ServerConnection::client_ended(std::int32_t id) const {
  auto it = streams_.find(id);
  return it != streams_.end() && it->second.client_ended;
}

void H2ServerConnection::after_input() {
  dispatch();
  send_now();
}

void H2ServerConnection::dispatch() {
  auto keep = shared_from_this();
  while (!events_.empty()) {
    auto events = std::move(events_);
    events_.clear();
    for (auto& e : events) e();
  }
}

void H2ServerConnection::lose_streams(const std::string&) {
  if (lost_) return;
  lost_ = true;
  // Every stream still open ends with its connection, as with an RST_STREAM from the client.
  for (auto& [id, s] : streams_) {
    if (s.closed) continue;
    s.closed = true;
    events_.push_back([this, id] {
      if (auto* st = stream(id); st && st->cb.on_reset) st->cb.on_reset(NGHTTP2_CANCEL);
      if (auto* st = stream(id); st && st->cb.on_closed) st->cb.on_closed();
    });
  }
  // Outside the TcpStream callback that told us.
  asio::post(tcp_->socket().get_executor(), [self = shared_from_this()] { self->dispatch(); });
}

void H2ServerConnection::set_stream_callbacks(std::int32_t id, StreamCallbacks cb) {
  if (auto* s = stream(id)) s->cb = std::move(cb);
}

void H2ServerConnection::respond(std::int32_t id, int status) {
  auto* s = stream(id);
  if (!s || s->closed) return;
  const std::string code = std::to_string(status);
  const std::array<nghttp2_nv, 1> nva{{h2_header(":status", code)}};
  if (status == 200) {
    nghttp2_data_provider provider{};
    provider.read_callback = H2ServerCallbacks::read_data;
    nghttp2_submit_response(session_, id, nva.data(), nva.size(), &provider);
  } else {
    nghttp2_submit_response(session_, id, nva.data(), nva.size(), nullptr);
  }
  send_now();
}

void H2ServerConnection::send_data(std::int32_t id, std::string bytes) {
  auto* s = stream(id);
  if (!s || s->closed || s->end_requested) return;
  s->out += bytes;
  nghttp2_session_resume_data(session_, id);
  send_now();
}

void H2ServerConnection::end_stream(std::int32_t id, bool then_reset) {
  auto* s = stream(id);
  if (!s || s->closed || s->end_requested) return;
  s->end_requested = true;
  s->reset_after_end = then_reset;
  nghttp2_session_resume_data(session_, id);
  send_now();
}

void H2ServerConnection::reset(std::int32_t id, std::uint32_t error_code) {
  auto* s = stream(id);
  if (!s || s->closed || s->reset_sent) return;
  s->reset_sent = true;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
  send_now();
}

void H2ServerConnection::send_now() {
  if (in_nghttp2_ || !tcp_->is_open()) return;
  std::string out;
  for (;;) {
    drain_h2_output(session_, out);
    // HAProxy's RST_STREAM(CANCEL) right behind its END_STREAM, in the same write, unless the
    // client had ended its side (the stream is then closed both ways).
    bool reset_any = false;
    for (auto& [id, s] : streams_) {
      if (s.end_sent && s.reset_after_end && !s.client_ended && !s.reset_sent) {
        s.reset_sent = true;
        reset_any = true;
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      }
    }
    if (!reset_any) break;
  }
  if (!out.empty()) tcp_->write(std::move(out));
  // Stream closes nghttp2 decided while sending (our END_STREAM, our RST_STREAM).
  if (!events_.empty())
    asio::post(tcp_->socket().get_executor(), [self = shared_from_this()] { self->dispatch(); });
}

void H2ServerConnection::abandon() {
  on_request_ = {};
  streams_.clear();
  events_.clear();
  H2End::abandon();
}

}  // namespace closewire::endpoints

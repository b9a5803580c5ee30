#include "harness/endpoints/h2_connection.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <boost/asio/post.hpp>
#include <stdexcept>

namespace closewire::endpoints {

namespace {

std::string error_name(std::uint32_t code) {
  return nghttp2_http2_strerror(code);
}

}  // namespace

// nghttp2's callbacks: each finds the connection in its user data.
struct H2Callbacks {
  static H2Connection& of(void* user) { return *static_cast<H2Connection*>(user); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame*, void*) { return 0; }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    H2Connection& c = of(user);
    if (frame->hd.type != NGHTTP2_HEADERS || !c.request_ || !c.request_->stream ||
        frame->hd.stream_id != c.request_->stream->id())
      return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    if (n == ":status") {
      const std::string v(reinterpret_cast<const char*>(value), valuelen);
      c.request_->status = std::atoi(v.c_str());
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    H2Connection& c = of(user);
    const std::int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) || c.settings_received_) break;
        c.settings_received_ = true;
        c.record(ObservationKind::http_head,
                 "SETTINGS, ENABLE_CONNECT_PROTOCOL " +
                     std::to_string(nghttp2_session_get_remote_settings(
                         session, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL)));
        c.submit_request();
        break;
      case NGHTTP2_HEADERS:
        if (c.request_ && c.request_->stream && id == c.request_->stream->id() &&
            frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
          if (c.request_->status == 200)
            c.opened_ = c.request_->stream;
          else
            c.fail_request("extended CONNECT refused: :status " +
                           std::to_string(c.request_->status));
        }
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
          if (auto s = c.stream(id)) s->received_end();
        break;
      case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
          if (auto s = c.stream(id)) s->received_end();
        break;
      case NGHTTP2_RST_STREAM:
        if (auto s = c.stream(id)) s->received_reset(frame->rst_stream.error_code);
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
    if (auto s = of(user).stream(id)) s->received_data(data, len);
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_DATA) {
      of(user).sent_.push_back({frame->hd.stream_id, frame->hd.length,
                                (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0});
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t error_code,
                             void* user) {
    H2Connection& c = of(user);
    if (c.request_ && c.request_->stream && c.request_->stream->id() == id && !c.opened_) {
      c.fail_request("the extended CONNECT's stream ended before a response (" +
                     error_name(error_code) + ")");
    }
    if (auto s = c.stream(id)) s->nghttp2_closed();
    return 0;
  }

  static ssize_t read_data(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    auto s = of(user).stream(id);
    if (!s) return NGHTTP2_ERR_DEFERRED;
    bool eof = false;
    const auto n = s->take_output(buf, length, eof);
    if (!n) return NGHTTP2_ERR_DEFERRED;
    if (eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(*n);
  }
};

std::shared_ptr<H2Connection> H2Connection::create(std::shared_ptr<TcpStream> tcp,
                                                   ByteStream::Sink sink) {
  std::shared_ptr<H2Connection> c(new H2Connection(std::move(tcp), std::move(sink)));
  c->start();
  return c;
}

H2Connection::H2Connection(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink)
    : H2End(std::move(tcp), std::move(sink), new_h2_session<H2Callbacks>(/*server=*/false, this)) {}

void H2Connection::start() {
  listen(weak_from_this(), "server");
  // As Chromium: no push, a 6 MiB stream window.
  const std::array<nghttp2_settings_entry, 3> settings{{
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 6291456},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 262144},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  send_now();  // the preface and SETTINGS: held by the stream until TLS is up
  tcp_->start_reading();
}

void H2Connection::open_websocket(WebSocketRequest request, Opened opened, Failed failed) {
  request_ = std::make_unique<Request>();
  request_->what = std::move(request);
  request_->opened = std::move(opened);
  request_->failed = std::move(failed);
  if (settings_received_) {
    submit_request();
    send_now();
  }
}

void H2Connection::submit_request() {
  if (!request_ || request_->submitted) return;
  request_->submitted = true;
  if (nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) !=
      1) {
    return fail_request(std::string(kNoConnectProtocol) + ": no WebSocket over h2");
  }
  const std::array<nghttp2_nv, 6> nva{{
      h2_header(":method", "CONNECT"),
      h2_header(":protocol", "websocket"),
      h2_header(":scheme", "https"),
      h2_header(":path", request_->what.path),
      h2_header(":authority", request_->what.authority),
      h2_header("sec-websocket-version", "13"),
  }};
  auto s = std::make_shared<H2Stream>(shared_from_this());
  nghttp2_data_provider provider{};
  provider.read_callback = H2Callbacks::read_data;
  const std::int32_t id =
      nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, nullptr);
  if (id < 0)
    return fail_request(std::string("nghttp2 refused the extended CONNECT: ") +
                        nghttp2_strerror(id));
  s->set_id(id);
  streams_[id] = s;
  request_->stream = std::move(s);
}

void H2Connection::fail_request(std::string why) {
  if (failure_.empty()) failure_ = std::move(why);
}

std::shared_ptr<H2Stream> H2Connection::stream(std::int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.lock();
}

// What nghttp2 decided while it read: the request's end, then each stream's news, in order.
void H2Connection::after_input() {
  auto keep = shared_from_this();
  if (request_ && (opened_ || !failure_.empty())) {
    auto request = std::move(request_);
    auto opened = std::move(opened_);
    const std::string failure = std::move(failure_);
    failure_.clear();
    if (opened) {
      request->opened(std::move(opened));
    } else {
      if (request->stream) {
        forget(request->stream->id());
        request->stream->detach();
      }
      request->failed(failure);
    }
  }
  std::vector<std::shared_ptr<H2Stream>> live;
  for (auto& [id, weak] : streams_)
    if (auto s = weak.lock()) live.push_back(std::move(s));
  for (auto& s : live) s->deliver();
  send_now();
}

void H2Connection::lose_streams(const std::string& why) {
  if (lost_) return;
  lost_ = true;
  fail_request("the h2 connection ended before the response: " + why);
  std::vector<std::shared_ptr<H2Stream>> live;
  for (auto& [id, weak] : streams_)
    if (auto s = weak.lock()) live.push_back(std::move(s));
  for (auto& s : live) s->connection_lost(why);
  // Outside TcpStream's callback that told us.
  asio::post(tcp_->socket().get_executor(), [self = shared_from_this()] { self->after_input(); });
}

void H2Connection::resume(std::int32_t id) {
  nghttp2_session_resume_data(session_, id);  // not deferred: nothing to do
}

void H2Connection::schedule_send() {
  if (send_posted_) return;
  send_posted_ = true;
  asio::post(tcp_->socket().get_executor(), [self = shared_from_this()] {
    self->send_posted_ = false;
    self->send_now();
  });
}

void H2Connection::send_now() {
  if (!tcp_->is_open()) return;
  std::string out;
  drain_h2_output(session_, out);
  if (out.empty()) return;
  // One write: what went out together (a Close and its END_STREAM) shares a TLS record.
  auto sent = std::move(sent_);
  sent_.clear();
  // Server bytes already in our socket left it before these (loopback: on the wire first).
  unread_before_last_write_ = tcp_->unread_bytes() > 0;
  const bool unread = unread_before_last_write_;
  tcp_->write(std::move(out));
  // The streams hear of their DATA once it is in the kernel: at once when the write went straight
  // in (so a reset read later is known to have come after it), else when the queue drains. A
  // failed write never tells them: the TCP stream closes and they are lost.
  std::weak_ptr<H2Connection> weak = shared_from_this();
  tcp_->after_flush([weak, sent = std::move(sent), unread] {
    auto self = weak.lock();
    if (!self) return;
    for (const Sent& s : sent)
      if (auto st = self->stream(s.id)) st->sent(s.bytes, s.end_stream, unread);
  });
}

void H2Connection::reset(std::int32_t id, std::uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
  send_now();
}

void H2Connection::forget(std::int32_t id) {
  streams_.erase(id);
}

void H2Connection::close() {
  tcp_->close(CloseMode::fin);
}

}  // namespace closewire::endpoints

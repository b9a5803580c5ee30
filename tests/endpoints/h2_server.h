// A small HTTP/2 server for the client's RFC 8441 tests: nghttp2's server session over a TLS
// TcpStream (ALPN h2) on 127.0.0.1. It answers one extended CONNECT, records what the client sent
// (request headers, every DATA frame with its flags, RST_STREAM) and sends what a test tells it,
// all of one call in one write (one TLS record), as HAProxy sends Close + END_STREAM + RST_STREAM.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/h2_end.h"
#include "harness/endpoints/tcp_stream.h"
#include "harness/endpoints/tls_context.h"
#include "harness/wire/frame.h"
#include "harness/wire/frame_decoder.h"
#include "harness/wire/frame_encoder.h"

namespace closewire::endpoints::testing {

struct H2ServerOptions {
  bool enable_connect_protocol = true;  // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
  int status = 200;
};

class H2Server {
 public:
  using Options = H2ServerOptions;
  struct DataFrame {
    std::string bytes;
    bool end_stream = false;
  };

  H2Server(asio::io_context& io, std::shared_ptr<TlsContext> tls, Options options = {})
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        tls_(std::move(tls)),
        options_(options) {
    tls_->set_alpn({"h2"});
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_chunk);
    nghttp2_session_server_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    std::vector<nghttp2_settings_entry> settings;
    if (options_.enable_connect_protocol)
      settings.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    acceptor_.async_accept([this](const error_code& ec, tcp::socket s) {
      if (ec) return;
      stream_ = TcpStream::create(std::move(s), {}, "server", tls_);
      TcpStream::Callbacks callbacks;
      callbacks.on_data = [this](std::span<const std::uint8_t> b) {
        if (nghttp2_session_mem_recv(session_, b.data(), b.size()) < 0) protocol_error = true;
        flush();
      };
      stream_->set_callbacks(std::move(callbacks));
      stream_->start_reading();
      flush();
    });
  }
  ~H2Server() {
    if (stream_) {
      stream_->detach();
      stream_->close_plain("test over");
    }
    nghttp2_session_del(session_);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // On the WebSocket's stream, in one write: `data` (DATA frames), END_STREAM on the last one
  // when `end_stream`, then RST_STREAM(CANCEL) when `rst`.
  void send(std::string data, bool end_stream = false, bool rst = false) {
    out_ += data;
    eof_ = eof_ || end_stream;
    nghttp2_session_resume_data(session_, stream_id);
    std::string bytes = take();
    if (rst) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      bytes += take();
    }
    if (!bytes.empty()) stream_->write(std::move(bytes));
  }
  // A server frame (unmasked), e.g. a Close.
  static std::string frame(wire::Opcode op, std::string payload) {
    return wire::encode_frame(op, payload, true, std::nullopt);
  }

  // What the client sent.
  std::map<std::string, std::string> request;  // the CONNECT's header fields
  std::vector<std::string> header_order;       // their names, in order
  std::vector<DataFrame> data_frames;          // the stream's DATA frames
  std::vector<wire::Frame> frames;             // the WebSocket frames in them
  std::optional<std::uint32_t> client_rst;     // RST_STREAM's error code
  std::int32_t stream_id = 0;
  bool responded = false;
  bool protocol_error = false;

 private:
  std::string take() {
    std::string bytes;
    drain_h2_output(session_, bytes);
    return bytes;
  }
  void flush() {
    if (!stream_) return;
    std::string bytes = take();
    if (!bytes.empty()) stream_->write(std::move(bytes));
  }

  static H2Server& of(void* user) { return *static_cast<H2Server*>(user); }
  static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    if (f->hd.type != NGHTTP2_HEADERS) return 0;
    H2Server& s = of(user);
    std::string n(reinterpret_cast<const char*>(name), namelen);
    s.header_order.push_back(n);
    s.request[n] = std::string(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }
  static int on_chunk(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t* data,
                      std::size_t len, void* user) {
    of(user).chunk_.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* f, void* user) {
    H2Server& s = of(user);
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s.stream_id = f->hd.stream_id;
      const std::string status = std::to_string(s.options_.status);
      std::array<nghttp2_nv, 1> nva{{h2_header(":status", status)}};
      nghttp2_data_provider provider{};
      provider.read_callback = read_data;
      if (s.options_.status != 200) {
        nghttp2_submit_response(session, s.stream_id, nva.data(), nva.size(), nullptr);
      } else {
        nghttp2_submit_response(session, s.stream_id, nva.data(), nva.size(), &provider);
      }
      s.responded = true;
    } else if (f->hd.type == NGHTTP2_DATA) {
      DataFrame d{std::move(s.chunk_), (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0};
      s.chunk_.clear();
      std::vector<wire::Frame> decoded;
      s.decoder_.feed({reinterpret_cast<const std::uint8_t*>(d.bytes.data()), d.bytes.size()},
                      decoded);
      for (auto& fr : decoded) s.frames.push_back(std::move(fr));
      s.data_frames.push_back(std::move(d));
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
      s.client_rst = f->rst_stream.error_code;
    }
    return 0;
  }
  static ssize_t read_data(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source*, void* user) {
    H2Server& s = of(user);
    const std::size_t n = std::min(length, s.out_.size());
    std::memcpy(buf, s.out_.data(), n);
    s.out_.erase(0, n);
    if (s.out_.empty() && s.eof_) *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (n == 0 && !s.eof_) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<TlsContext> tls_;
  Options options_;
  nghttp2_session* session_ = nullptr;
  std::shared_ptr<TcpStream> stream_;
  std::string chunk_;
  std::string out_;
  bool eof_ = false;
  wire::FrameDecoder decoder_{/*expect_masked=*/true};
};

}  // namespace closewire::endpoints::testing

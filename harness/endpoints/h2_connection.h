// The client side of an HTTP/2 connection (nghttp2's session API) over a TLS TcpStream that
// negotiated ALPN h2, for WebSockets over RFC 8441: connection preface and SETTINGS, then, once the
// server's SETTINGS allow it (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1), an extended CONNECT per
// WebSocket. A 200 hands over the stream as an H2Stream. The connection outlives its streams, as a
// browser keeps it; close() ends it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/endpoints/h2_end.h"
#include "harness/endpoints/h2_stream.h"

namespace closewire::endpoints {

// What open_websocket's failure says when the server does not allow RFC 8441 (no
// SETTINGS_ENABLE_CONNECT_PROTOCOL=1): the client then falls back to HTTP/1.1, as browsers do.
inline constexpr std::string_view kNoConnectProtocol =
    "the server's SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL=1";

class H2Connection : public H2End, public std::enable_shared_from_this<H2Connection> {
 public:
  struct WebSocketRequest {
    std::string authority;  // host:port
    std::string path = "/";
  };
  using Opened = std::function<void(std::shared_ptr<H2Stream>)>;
  using Failed = std::function<void(std::string why)>;  // one line

  // Takes `tcp` over (its callbacks); writes the preface and SETTINGS at once. `sink` gets the
  // connection's own observations (the server's SETTINGS, GOAWAY, protocol errors).
  static std::shared_ptr<H2Connection> create(std::shared_ptr<TcpStream> tcp,
                                              ByteStream::Sink sink);

  // HEADERS :method CONNECT, :protocol websocket, :scheme https, :path, :authority,
  // sec-websocket-version 13 on a new stream, once the server's SETTINGS allow extended CONNECT.
  // `opened` at :status 200; `failed` when the SETTINGS lack it (a browser would open an HTTP/1.1
  // connection instead; this client does not), at another status, or when the stream or the
  // connection ends first. One of them runs, once, outside nghttp2's callbacks.
  void open_websocket(WebSocketRequest request, Opened opened, Failed failed);

  // Ends the TCP connection as a browser leaving: FIN (close_notify first when the stream is set
  // to send one). Streams still open are lost.
  void close();

  bool is_open() const { return tcp_->is_open(); }
  // Whether server bytes sat unread in the socket when the last write left: they were on the wire
  // before it (loopback), though read after it.
  bool unread_before_last_write() const { return unread_before_last_write_; }

  // ---- for H2Stream ----
  void resume(std::int32_t id);                           // it has output queued
  void schedule_send();                                   // one send of what is queued, posted
  void send_now() override;                               // everything queued, at once
  void reset(std::int32_t id, std::uint32_t error_code);  // RST_STREAM, sent at once
  void forget(std::int32_t id);                           // the stream object is going away

 private:
  explicit H2Connection(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink);
  void start();
  void after_input() override;
  void submit_request();
  void fail_request(std::string why);
  void lose_streams(const std::string& why) override;
  std::shared_ptr<H2Stream> stream(std::int32_t id) const;

  // nghttp2's callbacks, with the connection as user data.
  friend struct H2Callbacks;

  std::map<std::int32_t, std::weak_ptr<H2Stream>> streams_;
  bool settings_received_ = false;
  bool send_posted_ = false;
  bool lost_ = false;
  bool unread_before_last_write_ = false;

  // The one WebSocket request in flight (before its response).
  struct Request {
    WebSocketRequest what;
    Opened opened;
    Failed failed;
    std::shared_ptr<H2Stream> stream;  // once submitted
    int status = 0;
    bool submitted = false;
  };
  std::unique_ptr<Request> request_;
  // Decided while nghttp2 ran; acted on after it returned.
  std::shared_ptr<H2Stream> opened_;
  std::string failure_;

  struct Sent {
    std::int32_t id;
    std::size_t bytes;
    bool end_stream;
  };
  std::vector<Sent> sent_;  // DATA frames serialised by the current send
};

}  // namespace closewire::endpoints

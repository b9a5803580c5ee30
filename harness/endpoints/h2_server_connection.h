// The server side of an HTTP/2 connection (nghttp2's session API) over a TLS TcpStream that
// negotiated ALPN h2: the listening side of a proxy model that takes WebSockets over RFC 8441, as
// HAProxy does. It sends SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, hands each request
// (an extended CONNECT or not) to its owner, and carries each stream's bytes both ways: DATA in,
// DATA out, END_STREAM and RST_STREAM as the stream's FIN and RST. The mirror of H2Connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness/endpoints/h2_end.h"

namespace closewire::endpoints {

class H2ServerConnection : public H2End, public std::enable_shared_from_this<H2ServerConnection> {
 public:
  struct Request {
    std::int32_t id = 0;
    std::string method;    // :method
    std::string protocol;  // :protocol ("websocket" for RFC 8441)
    std::string authority;
    std::string path;
    bool end_stream = false;  // the HEADERS ended the client's side (no body)
  };
  // One stream's news, each run outside nghttp2's callbacks, in the order it came.
  struct StreamCallbacks {
    std::function<void(std::span<const std::uint8_t>)> on_data;
    std::function<void()> on_end;                      // the client's END_STREAM
    std::function<void(std::uint32_t code)> on_reset;  // its RST_STREAM, or the connection lost
    std::function<void()> on_closed;                   // the stream is over, both ways
  };
  using OnRequest = std::function<void(const Request&)>;

  // Takes `tcp` over (its callbacks); writes SETTINGS at once. `sink` gets the connection's own
  // observations (the client's SETTINGS, GOAWAY, protocol errors).
  static std::shared_ptr<H2ServerConnection> create(std::shared_ptr<TcpStream> tcp,
                                                    ByteStream::Sink sink, OnRequest on_request);

  void set_stream_callbacks(std::int32_t id, StreamCallbacks cb);
  // :status `status`; anything but 200 ends the stream (HEADERS with END_STREAM).
  void respond(std::int32_t id, int status);
  void send_data(std::int32_t id, std::string bytes);
  // An empty DATA with END_STREAM behind what is queued; with `then_reset`, RST_STREAM(CANCEL) in
  // the same write right behind it unless the client's END_STREAM came first (HAProxy's end).
  void end_stream(std::int32_t id, bool then_reset);
  void reset(std::int32_t id, std::uint32_t error_code);  // RST_STREAM, sent at once
  bool client_ended(std::int32_t id) const;               // its END_STREAM came

  void abandon() override;  // no further callbacks; a plain close of the TCP connection

 private:
  H2ServerConnection(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink, OnRequest on_request);
  void start();
  void after_input() override;  // dispatch(), then send what the owner queued
  void dispatch();              // what nghttp2 decided while it read, in order
  // The streams hear RST_STREAM(CANCEL), as from a client: `why` is not theirs to know.
  void lose_streams(const std::string& why) override;
  void send_now() override;

  friend struct H2ServerCallbacks;

  struct Stream {
    StreamCallbacks cb;
    std::string out;  // queued DATA, not yet taken by nghttp2
    bool end_requested = false;
    bool reset_after_end = false;
    bool end_sent = false;
    bool client_ended = false;
    bool reset_sent = false;
    bool closed = false;
    Request request;
  };
  Stream* stream(std::int32_t id);

  OnRequest on_request_;
  std::map<std::int32_t, Stream> streams_;
  // Decided while nghttp2 ran; acted on after it returned, so a callback may send at once.
  std::vector<std::function<void()>> events_;
  bool lost_ = false;
};

}  // namespace closewire::endpoints

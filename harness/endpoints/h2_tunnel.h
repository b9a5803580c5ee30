// One WebSocket over HTTP/2 (an extended CONNECT stream of an H2ServerConnection) relayed to the
// next hop as an HTTP/1.1 upgrade, as HAProxy 2.6 does (docs/close-semantics.md §7): the upstream
// leg gets a Sec-WebSocket-Key of the proxy's own, the stream its :status 200 once the 101 came
// (another status: that status, END_STREAM), then bytes go both ways.
//
// The ends, HAProxy's: the upstream's FIN -> an empty DATA with END_STREAM, RST_STREAM(CANCEL)
// right behind it unless the client had ended its side (`reset_after_end_stream` false: no
// RST_STREAM, a proxy that ends streams gracefully); the upstream's RST -> RST_STREAM(CANCEL); the
// client's END_STREAM -> shutdown(SHUT_WR) upstream; its RST_STREAM -> RST upstream. The proxy
// model's own close logic (Envoy's delayed close, the tcp model's close modes) is for a TCP
// downstream: an h2 stream ends as HAProxy ends it, whichever model listens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "harness/endpoints/h2_server_connection.h"
#include "harness/endpoints/tcp_stream.h"
#include "harness/wire/http_head.h"

namespace closewire::endpoints {

struct H2TunnelConfig {
  tcp::endpoint upstream;
  std::shared_ptr<TlsContext> upstream_tls;  // null: plain TCP toward the next hop
  bool reset_after_end_stream = true;
};

class H2Tunnel : public std::enable_shared_from_this<H2Tunnel> {
 public:
  // `sink` gets observations with side "downstream" (the stream: the leg) or "upstream".
  static std::shared_ptr<H2Tunnel> create(std::shared_ptr<H2ServerConnection> h2,
                                          const H2ServerConnection::Request& request,
                                          H2TunnelConfig config, ByteStream::Sink sink);
  void start();  // connects upstream
  void stop();   // plain close upstream, no further observations

 private:
  H2Tunnel(std::shared_ptr<H2ServerConnection> h2, const H2ServerConnection::Request& request,
           H2TunnelConfig config, ByteStream::Sink sink);
  void record(std::string_view side, ObservationKind kind, std::string note = {}, int error = 0);
  void connected();
  void from_upstream(std::span<const std::uint8_t> bytes);
  void upstream_end(bool closed);  // closed: without a FIN first (an RST, an error)

  std::shared_ptr<H2ServerConnection> h2_;
  H2ServerConnection::Request request_;
  H2TunnelConfig config_;
  ByteStream::Sink sink_;
  tcp::socket socket_;  // until connected
  std::shared_ptr<TcpStream> up_;
  wire::HttpHeadParser head_{wire::HttpHeadParser::Kind::response};
  bool upgraded_ = false;
  bool upstream_gone_ = false;
  bool stream_closed_ = false;
  bool stopped_ = false;
  std::string early_;  // client bytes before the upstream connected
  bool client_end_early_ = false;
};

}  // namespace closewire::endpoints

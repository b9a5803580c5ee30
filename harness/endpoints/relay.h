// One proxied connection: a downstream and an upstream socket with a byte pipe each way, per-hop
// latency, HTTP head and frame tracking, faults, and how each side closes once the other is gone.
// The proxy models (proxy_model.h) are configurations of this.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/h2_server_connection.h"
#include "harness/endpoints/h2_tunnel.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/tcp_stream.h"
#include "harness/wire/frame_decoder.h"
#include "harness/wire/http_head.h"

namespace closewire::endpoints {

// How a relay closes one side once the other side is gone.
struct SideClose {
  enum class How : std::uint8_t {
    mode,         // TcpStream::close(mode, delay)
    flush_write,  // Envoy FlushWrite; `delay` > 0 is the stalled-flush safeguard
    plain,        // close() at once, queued bytes dropped (Envoy NoFlush)
  };
  How how = How::mode;
  CloseMode mode = CloseMode::fin;
  std::chrono::milliseconds delay{0};
  bool close_notify = kDefaultCloseNotify;  // on a TLS side: close_notify before the close

  static SideClose with_mode(CloseMode m, std::chrono::milliseconds d = kDefaultCloseDelay) {
    return {How::mode, m, d};
  }
  static SideClose flush_write(std::chrono::milliseconds safeguard) {
    return {How::flush_write, CloseMode::fin, safeguard};
  }
  static SideClose plain() { return {How::plain, CloseMode::fin, {}}; }
};

// Faults on one direction of a relay. A reset RSTs the side that would have received the bytes.
struct DirectionFaults {
  std::chrono::milliseconds latency{0};  // added to every byte and to the close behind them
  std::optional<std::uint64_t>
      reset_after_bytes;            // relay this many bytes (HTTP head included), RST
  bool reset_behind_close = false;  // relay up to the first Close frame's end, RST
};

struct RelayConfig {
  tcp::endpoint upstream;
  bool connect_after_request_head = false;  // Envoy: connect once the request head is decoded
  SideClose downstream_on_upstream_close = SideClose::with_mode(CloseMode::fin);
  SideClose upstream_on_downstream_close = SideClose::with_mode(CloseMode::fin);
  DirectionFaults to_upstream;
  DirectionFaults to_downstream;
  // TLS on the listening side (the proxy terminates it) and toward the upstream (it originates
  // it); null: plain TCP on that side.
  std::shared_ptr<TlsContext> downstream_tls;
  std::shared_ptr<TlsContext> upstream_tls;
  // No byte either way for this long (0: never) closes both sides in `on_idle`, as a load
  // balancer's idle timeout does (nginx proxy_read_timeout, HAProxy timeout tunnel, a cloud LB).
  std::chrono::milliseconds idle_timeout{0};
  CloseMode on_idle = CloseMode::fin;
  // An RST from the upstream resets the downstream (queued bytes dropped) instead of the usual
  // close: Envoy with envoy.reloadable_features.detect_and_raise_rst_tcp_connection (PR #28817).
  bool reset_downstream_on_upstream_reset = false;
  // The TLS listening side offers ALPN h2 (downstream_tls's ALPN is set to h2,http/1.1): a client
  // that picks it speaks WebSockets over HTTP/2 (RFC 8441) to this hop, each stream relayed by an
  // H2Tunnel (h2_tunnel.h), the end of its stream HAProxy's whatever the model. The model's close
  // modes, latency, faults and idle timeout are for a TCP downstream: a tunnel applies none.
  bool downstream_h2 = false;
  // HAProxy's RST_STREAM(CANCEL) right behind the END_STREAM it sends at the server's FIN; false:
  // END_STREAM only (a proxy that ends streams gracefully).
  bool h2_reset_after_end_stream = true;
};

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  // Observations go to `log` with side "downstream" / "upstream" and `connection`.
  static std::shared_ptr<Relay> create(tcp::socket downstream, RelayConfig config,
                                       std::size_t connection, std::shared_ptr<ObservationLog> log);
  void start();
  void stop();  // plain close of both sides, no further observations of the relay's own
  // The legs this connection makes, each to end with a "closed" on either side: itself, or over
  // h2 one per WebSocket stream (the h2 connection under them is kept, as HAProxy keeps it).
  std::size_t legs() const { return h2_ ? tunnels_.size() : 1; }

 private:
  enum class Side : std::uint8_t { downstream, upstream };
  struct Item {
    Clock::time_point due;
    std::string bytes;
    std::function<void()> action;  // runs in order with the bytes (a close behind the data)
  };
  struct Direction {
    Direction(asio::any_io_executor ex, Side to, wire::HttpHeadParser::Kind head_kind)
        : to(to),
          timer(std::move(ex)),
          head(head_kind),
          decoder(/*expect_masked=*/to == Side::upstream) {}
    Side to;
    DirectionFaults faults;
    std::deque<Item> items;
    asio::steady_timer timer;
    bool timer_pending = false;
    wire::HttpHeadParser head;
    bool head_done = false;
    wire::FrameDecoder decoder;
    std::uint64_t frame_bytes = 0;  // bytes fed to the decoder
    std::uint64_t relayed = 0;      // bytes taken in, head included
    bool cut = false;               // a fault ended this direction
  };

  Relay(tcp::socket downstream, RelayConfig config, std::size_t connection,
        std::shared_ptr<ObservationLog> log);
  void record(Side side, ObservationKind kind, std::string note = {});
  void add(Observation o);
  std::shared_ptr<TcpStream> make_stream(tcp::socket socket, Side side);
  void connect();
  void downstream_handshake_done();
  void h2_request(const H2ServerConnection::Request& request);
  void ingest(Direction& d, std::span<const std::uint8_t> bytes);
  void push(Direction& d, std::string bytes, std::function<void()> action);
  void pump(Direction& d);
  void side_gone(Side side, bool eof);
  void close_side(Side side, const SideClose& how);
  void arm_idle_timer();
  void idle_timed_out();
  std::shared_ptr<TcpStream>& stream(Side side) { return side == Side::upstream ? up_ : down_; }
  static std::string_view name(Side side) {
    return side == Side::upstream ? "upstream" : "downstream";
  }

  RelayConfig config_;
  std::size_t connection_;
  std::shared_ptr<ObservationLog> log_;
  tcp::socket pending_down_;
  tcp::socket up_socket_;  // until connected
  std::shared_ptr<TcpStream> down_;
  std::shared_ptr<TcpStream> up_;
  bool connecting_ = false;
  bool gone_[2] = {false, false};
  bool reset_[2] = {false, false};  // that side's socket failed with ECONNRESET
  asio::steady_timer idle_timer_;
  bool stopped_ = false;
  Direction to_up_;
  Direction to_down_;
  // Over h2 (ALPN chose it): the downstream connection and one tunnel per WebSocket stream.
  std::shared_ptr<H2ServerConnection> h2_;
  std::vector<std::shared_ptr<H2Tunnel>> tunnels_;
};

}  // namespace closewire::endpoints

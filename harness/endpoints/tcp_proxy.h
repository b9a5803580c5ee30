// A plain TCP relay with an explicit close mode and per-direction faults (toxiproxy-like).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/proxy_listener.h"
#include "harness/endpoints/relay.h"

namespace closewire::endpoints {

struct TcpProxyConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  boost::asio::ip::tcp::endpoint upstream;
  // What the downstream side does once the upstream side has closed (after relaying everything).
  CloseMode on_upstream_close = CloseMode::fin;
  // What the upstream side does once the downstream side has closed.
  CloseMode on_downstream_close = CloseMode::fin;
  // delayed: the delay; close-unread: how long to wait for bytes to leave unread.
  std::chrono::milliseconds close_delay = kDefaultCloseDelay;
  DirectionFaults to_downstream;  // server -> client bytes
  DirectionFaults to_upstream;    // client -> server bytes
};

class TcpProxy {
 public:
  TcpProxy(boost::asio::io_context& io, const TcpProxyConfig& config);

  std::uint16_t port() const { return listener_.endpoint().port(); }
  boost::asio::ip::tcp::endpoint endpoint() const { return listener_.endpoint(); }
  ObservationLog& log() { return listener_.log(); }
  std::size_t connections() const { return listener_.connections(); }
  void stop() { listener_.stop(); }

 private:
  ProxyListener listener_;
};

}  // namespace closewire::endpoints

// Model of an Envoy HTTP connection manager relaying a WebSocket upgrade (close-semantics.md §2).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/observation.h"
#include "harness/endpoints/proxy_listener.h"
#include "harness/endpoints/relay.h"

namespace closewire::endpoints {

struct EnvoyConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  boost::asio::ip::tcp::endpoint upstream;  // the next hop: another proxy or the server
  // http_connection_manager.delayed_close_timeout (Envoy's default 1 s; Istio's knob).
  std::chrono::milliseconds delayed_close_timeout{1000};
  // Runtime guard envoy.reloadable_features.no_delay_close_for_upgrades: true in Envoy >= 1.23
  // (FlushWrite, no delay); false = Envoy <= 1.22 (FlushWriteAndDelay).
  bool no_delay_close_for_upgrades = true;
  // Added to each direction of this hop, and to the close behind the bytes, so that races are
  // decided by design (a real mesh has milliseconds per hop).
  std::chrono::milliseconds added_latency{0};
};

// Connects upstream once the request head is in, relays the 101 and the frames both ways. When
// the upstream closes (FIN or RST) it closes the upstream socket and then the downstream with
// FlushWriteAndDelay (old Envoy, timeout > 0: flush, stop reading, timer re-armed by every write,
// a client FIN ends it early, then a plain close()) or FlushWrite otherwise. A downstream FIN or
// RST closes the upstream at once (NoFlush).
class EnvoyProxy {
 public:
  EnvoyProxy(boost::asio::io_context& io, const EnvoyConfig& config);

  std::uint16_t port() const { return listener_.endpoint().port(); }
  boost::asio::ip::tcp::endpoint endpoint() const { return listener_.endpoint(); }
  ObservationLog& log() { return listener_.log(); }
  std::size_t connections() const { return listener_.connections(); }
  void stop() { listener_.stop(); }

  // How the downstream closes after an upstream close under `config`.
  static SideClose downstream_close(const EnvoyConfig& config);

 private:
  ProxyListener listener_;
};

}  // namespace closewire::endpoints

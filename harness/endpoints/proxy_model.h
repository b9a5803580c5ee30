// Proxy models: what a proxy does with a WebSocket connection, as a configuration of the one relay
// (relay.h) behind a ProxyListener. Adding a model: its knobs here, its RelayConfig in
// relay_config(), its YAML keys (scenario/scenario_loader.cpp), its flags (tools/closewire/
// proxy_command.cpp).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/proxy_listener.h"
#include "harness/endpoints/relay.h"

namespace closewire::endpoints {

// Envoy's HTTP connection manager relaying a WebSocket upgrade (docs/close-semantics.md §2). It
// connects upstream once the request head is in. When the upstream closes (FIN or RST) it closes
// the upstream socket, then the downstream with FlushWriteAndDelay (old Envoy, timeout > 0: flush,
// stop reading, timer re-armed by every write, a client FIN ends it early, then a plain close())
// or FlushWrite otherwise. A downstream FIN or RST closes the upstream at once (NoFlush).
struct EnvoyModel {
  // http_connection_manager.delayed_close_timeout (Envoy's default 1 s; Istio's knob).
  std::chrono::milliseconds delayed_close_timeout = kDefaultCloseDelay;
  // Runtime guard envoy.reloadable_features.no_delay_close_for_upgrades: true in Envoy >= 1.23
  // (FlushWrite, no delay); false = Envoy <= 1.22 (FlushWriteAndDelay).
  bool no_delay_close_for_upgrades = true;
  // Runtime guard envoy.reloadable_features.detect_and_raise_rst_tcp_connection (PR #28817): an
  // RST from the upstream is raised as a reset and the downstream is reset too (RST, queued bytes
  // dropped) instead of closed with FlushWrite(AndDelay).
  bool reset_on_upstream_reset = false;
  // Added to each direction of this hop, and to the close behind the bytes, so that races are
  // decided by design (a real mesh has milliseconds per hop).
  std::chrono::milliseconds latency{0};
};

// A plain TCP relay with an explicit close mode and per-direction faults (toxiproxy-like).
struct TcpModel {
  // What the downstream side does once the upstream side has closed (after relaying everything).
  CloseMode on_upstream_close = CloseMode::fin;
  // What the upstream side does once the downstream side has closed.
  CloseMode on_downstream_close = CloseMode::fin;
  // delayed: the delay; close-unread: how long to wait for bytes to leave unread.
  std::chrono::milliseconds close_delay = kDefaultCloseDelay;
  DirectionFaults to_client;  // server -> client bytes
  DirectionFaults to_server;  // client -> server bytes
  // On a TLS side: whether its close sends close_notify first (false: FIN or RST without it).
  bool close_notify = kDefaultCloseNotify;
  // No byte either way for this long (0: never) closes both sides in `on_idle`: a load
  // balancer's idle timeout (a cloud LB's 60 s, nginx proxy_read_timeout, HAProxy timeout tunnel).
  std::chrono::milliseconds idle_timeout{0};
  CloseMode on_idle = CloseMode::fin;
};

using ProxyModel = std::variant<EnvoyModel, TcpModel>;

std::string_view model_name(const ProxyModel& model);  // "envoy", "tcp"

// How the Envoy model closes the downstream after an upstream close.
SideClose downstream_close(const EnvoyModel& model);

// The relay that plays `model` toward `upstream`.
RelayConfig relay_config(const ProxyModel& model, const boost::asio::ip::tcp::endpoint& upstream);

// A proxy of `model` listening on host:port (0: the kernel picks) and relaying to `upstream`.
std::unique_ptr<ProxyListener> start_proxy(boost::asio::io_context& io, const ProxyModel& model,
                                           const boost::asio::ip::tcp::endpoint& upstream,
                                           const std::string& host = "127.0.0.1",
                                           std::uint16_t port = 0);

}  // namespace closewire::endpoints

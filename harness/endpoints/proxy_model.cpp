#include "harness/endpoints/proxy_model.h"

namespace closewire::endpoints {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// Spelled out for clang 14, which does not deduce an aggregate's arguments (the fuzzing build).
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

RelayConfig envoy_relay(const EnvoyModel& m) {
  RelayConfig r;
  r.connect_after_request_head = true;
  r.downstream_on_upstream_close = downstream_close(m);
  // The upstream codec client goes with the reset stream: close(NoFlush).
  r.upstream_on_downstream_close = SideClose::plain();
  r.to_upstream.latency = m.latency;
  r.to_downstream.latency = m.latency;
  r.reset_downstream_on_upstream_reset = m.reset_on_upstream_reset;
  return r;
}

RelayConfig tcp_relay(const TcpModel& m) {
  RelayConfig r;
  r.connect_after_request_head = false;  // a TCP relay connects at accept
  r.downstream_on_upstream_close = SideClose::with_mode(m.on_upstream_close, m.close_delay);
  r.upstream_on_downstream_close = SideClose::with_mode(m.on_downstream_close, m.close_delay);
  r.downstream_on_upstream_close.close_notify = m.close_notify;
  r.upstream_on_downstream_close.close_notify = m.close_notify;
  r.to_downstream = m.to_client;
  r.to_upstream = m.to_server;
  r.idle_timeout = m.idle_timeout;
  r.on_idle = m.on_idle;
  return r;
}

}  // namespace

std::string_view model_name(const ProxyModel& model) {
  return std::holds_alternative<EnvoyModel>(model) ? "envoy" : "tcp";
}

SideClose downstream_close(const EnvoyModel& m) {
  // conn_manager_impl: an upgrade's reset stream closes the downstream connection with
  // FlushWriteAndDelay unless the no_delay_close_for_upgrades guard is on (FlushWrite).
  if (!m.no_delay_close_for_upgrades && m.delayed_close_timeout.count() > 0)
    return SideClose::with_mode(CloseMode::delayed, m.delayed_close_timeout);
  // FlushWrite: with a timeout set, the timer still guards a flush that stalls.
  return SideClose::flush_write(m.delayed_close_timeout);
}

RelayConfig relay_config(const ProxyModel& model, const boost::asio::ip::tcp::endpoint& upstream) {
  RelayConfig r = std::visit(Overloaded{[](const EnvoyModel& m) { return envoy_relay(m); },
                                        [](const TcpModel& m) { return tcp_relay(m); }},
                             model);
  r.upstream = upstream;
  return r;
}

std::unique_ptr<ProxyListener> start_proxy(boost::asio::io_context& io, const ProxyModel& model,
                                           const boost::asio::ip::tcp::endpoint& upstream,
                                           const std::string& host, std::uint16_t port) {
  return std::make_unique<ProxyListener>(io, host, port, relay_config(model, upstream));
}

}  // namespace closewire::endpoints

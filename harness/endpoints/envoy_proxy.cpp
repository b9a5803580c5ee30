#include "harness/endpoints/envoy_proxy.h"

namespace closewire::endpoints {

namespace {
RelayConfig relay_config(const EnvoyConfig& c) {
  RelayConfig r;
  r.upstream = c.upstream;
  r.connect_after_request_head = true;
  r.downstream_on_upstream_close = EnvoyProxy::downstream_close(c);
  // The upstream codec client goes with the reset stream: close(NoFlush).
  r.upstream_on_downstream_close = SideClose::plain();
  r.to_upstream.latency = c.added_latency;
  r.to_downstream.latency = c.added_latency;
  return r;
}
}  // namespace

SideClose EnvoyProxy::downstream_close(const EnvoyConfig& c) {
  // conn_manager_impl: an upgrade's reset stream closes the downstream connection with
  // FlushWriteAndDelay unless the no_delay_close_for_upgrades guard is on (FlushWrite).
  if (!c.no_delay_close_for_upgrades && c.delayed_close_timeout.count() > 0)
    return SideClose::with_mode(CloseMode::delayed, c.delayed_close_timeout);
  // FlushWrite: with a timeout set, the timer still guards a flush that stalls.
  return SideClose::flush_write(c.delayed_close_timeout);
}

EnvoyProxy::EnvoyProxy(boost::asio::io_context& io, const EnvoyConfig& config)
    : listener_(io, config.host, config.port, relay_config(config)) {}

}  // namespace closewire::endpoints

#include "harness/endpoints/tcp_proxy.h"

namespace closewire::endpoints {

namespace {
RelayConfig relay_config(const TcpProxyConfig& c) {
  RelayConfig r;
  r.upstream = c.upstream;
  r.connect_after_request_head = false;  // a TCP relay connects at accept
  r.downstream_on_upstream_close = SideClose::with_mode(c.on_upstream_close, c.close_delay);
  r.upstream_on_downstream_close = SideClose::with_mode(c.on_downstream_close, c.close_delay);
  r.to_downstream = c.to_downstream;
  r.to_upstream = c.to_upstream;
  return r;
}
}  // namespace

TcpProxy::TcpProxy(boost::asio::io_context& io, const TcpProxyConfig& config)
    : listener_(io, config.host, config.port, relay_config(config)) {}

}  // namespace closewire::endpoints
